"""What the report draws from: the evaluate stage's tables and the translate stage's manifests, read through
core/artifacts (which validates them), gathered into one Results.

Everything here is plain data (dataclasses, dicts); drawing and page-making live in chart.py and
leaderboard.py.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..core import artifacts
from ..core.artifacts import Score, Signature
from ..core.artifacts.results import read_categories, read_evaluation_manifest, read_paired, read_scores
from ..core.languages import Language, load as load_languages
from ..core.subjects import SUBJECTS

# A language whose scored translation has more than this share of its strings flagged by the checks is drawn
# faded and hatched, with a footnote: its score measures the translation as much as the model. 10% is the
# threshold of the broadest check (not_target_language) applied to the union of all checks.
NOT_COMPARABLE = 0.10
# A language piloted (its dev shots and instruction lines translated) whose pilot has more than this share of
# its strings flagged is one the translator cannot write: it goes on the board with that share and no score, and
# no more compute goes to it (bench/published.sh reads this too). 40%: past Swahili's 33%, which the board scores
# (hatched), so it stops only a language written mostly wrong.
PILOT_FLAGGED = 0.40


@dataclass
class Results:
    """Everything the report draws from, in the order it was found."""

    out: Path
    scores: list[Score]
    categories: list[dict] = field(default_factory=list)  # rows of scores_by_category.csv
    paired: dict[tuple[str, str, str], dict] = field(default_factory=dict)  # (model, protocol, lang) -> row
    manifests: list[dict] = field(default_factory=list)  # translation manifests, each with "_path"
    unscored: list[dict] = field(default_factory=list)  # scores.csv rows with n = 0 (every question failed)
    languages: dict[str, Language] = field(default_factory=dict)
    baselines: tuple = ()

    @property
    def series(self) -> list[tuple[str, str]]:
        """(model, protocol) pairs, best mean accuracy first (the chart sorts languages by the first)."""
        acc: dict[tuple[str, str], list[float]] = defaultdict(list)
        for s in self.scores:
            acc[s.series].append(s.headline[0])
        return sorted(acc, key=lambda k: (-sum(acc[k]) / len(acc[k]), k))

    def series_label(self, series: tuple[str, str]) -> str:
        protocols = {s.protocol for s in self.scores}
        return series[0] if len(protocols) == 1 else f"{series[0]} [{series[1]}]"

    def rows_of(self, series: tuple[str, str]) -> list[Score]:
        return [s for s in self.scores if s.series == series]

    def language_name(self, code: str) -> str:
        lang = self.languages.get(code)
        return lang.name if lang else code

    def gpt4(self, code: str) -> float | None:
        """GPT-4's published 3-shot accuracy (%) for a language, from languages.yaml."""
        lang = self.languages.get(code)
        return lang.gpt4 if lang else None


def read_manifests(out: Path) -> list[dict]:
    """Translation manifests under <out>/translations/<translator>/<lang>/<split>.manifest.json, each with where
    it was found (`_path`, `_translator_dir`) and its language and split."""
    found = []
    for tset, split, manifest in artifacts.translations.manifests(out, f"mmlu-ml translate --out {out}"):
        data = dict(manifest)
        data["_path"] = str(tset.manifest_file(split).relative_to(out))
        data.setdefault("language", tset.language)
        data.setdefault("split", split)
        data["_translator_dir"] = tset.translator
        found.append(data)
    return found


def _with_config(scores: list[Score], configs: dict[str, dict]) -> list[Score]:
    out = []
    for s in scores:
        config = configs.get(f"{s.model}/{s.protocol}")
        if isinstance(config, dict) and isinstance(config.get("subjects"), list):
            s = replace(s, subjects=len(config["subjects"]), splits=",".join(map(str, config.get("splits") or [])))
        out.append(s)
    return out


def load(out: str | Path) -> Results:
    out = Path(out)
    table = load_languages()
    unscored: list[dict] = []
    scores = _with_config(read_scores(out / "scores.csv", unscored), read_evaluation_manifest(out))
    return Results(out=out, scores=scores, categories=read_categories(out / "scores_by_category.csv"),
                   paired=read_paired(out / "paired.csv"), manifests=read_manifests(out),
                   languages=dict(table.languages), baselines=table.baselines, unscored=unscored)


def flag_share(manifest: dict) -> float | None:
    """The share of a split's strings that any check flagged. Manifests written before the checks recorded
    that union give the largest single check's share instead, a lower bound."""
    checks = manifest.get("checks") or {}
    if isinstance(checks.get("flagged"), dict) and isinstance(checks["flagged"].get("share"), (int, float)):
        return float(checks["flagged"]["share"])
    shares = [v["share"] for v in checks.values() if isinstance(v, dict) and isinstance(v.get("share"), (int, float))]
    return max(shares) if shares else None


def language_flags(results: Results) -> dict[str, float]:
    """language -> flag share of the translation its scores read: the manifests of the scored splits, in the
    translator's folder that the scores name (the label before its parenthesis), weighted by strings."""
    scored_splits = {sp for s in results.scores for sp in (s.splits.split(",") if s.splits else ["test"])}
    out: dict[str, float] = {}
    for code in dict.fromkeys(s.language for s in results.scores if s.language != "en"):
        names = {s.translator.split("(")[0] for s in results.scores if s.language == code}
        shares = [(flag_share(m), (m.get("checks") or {}).get("strings") or 1) for m in results.manifests
                  if m.get("language") == code and m.get("_translator_dir") in names and m.get("split") in scored_splits]
        found = [(share, n) for share, n in shares if share is not None]
        if found:
            out[code] = sum(share * n for share, n in found) / sum(n for _, n in found)
    return out


def pilots(results: Results) -> dict[str, float]:
    """Languages translated but not scored -> the flag share of their dev split (the pilot): over PILOT_FLAGGED,
    one the translator cannot write; under it, one whose scores are still to come."""
    scored = {s.language for s in results.scores}
    names = {s.translator.split("(")[0] for s in results.scores} or {"local"}
    out: dict[str, float] = {}
    for m in results.manifests:
        code = m["language"]  # read_manifests sets it on every manifest
        if code not in scored and code != "en" and m.get("split") == "dev" and m.get("_translator_dir") in names:
            share = flag_share(m)
            if share is not None:
                out[code] = share
    return out


def language_order(results: Results) -> list[str]:
    """Languages by the best series' accuracy, highest first (Figure 5's order); the rest after."""
    series = results.series
    acc = {(s.series, s.language): s.headline[0] for s in results.scores}
    codes = list(dict.fromkeys(s.language for s in results.scores))

    def key(code: str):
        ranks = [acc.get((ser, code)) for ser in series]
        return [(-a if a is not None else 2.0) for a in ranks] + [results.language_name(code)]

    return sorted(codes, key=key)


# --- signatures and sample notes ---------------------------------------------------------------

def merge_signatures(rows: list[Score], max_exceptions: int = 3) -> str:
    """One signature for a series: each field's common value, the languages that differ in brackets
    (`translator:local(qwen)[en:identity]`), and `n` as a range when it varies."""
    parsed = [(r.language, Signature.parse(r.signature)) for r in rows if r.signature]
    if not parsed:
        return ""
    keys = list(dict.fromkeys(k for _, p in parsed for k in p))
    parts = []
    for key in keys:
        values = [(lang, p.get(key, "")) for lang, p in parsed]
        counts = Counter(v for _, v in values)
        common = counts.most_common(1)[0][0]
        label = "" if key.startswith("_") else f"{key}:"
        if len(counts) == 1:
            parts.append(f"{label}{common}")
            continue
        if key == "n" and all("/" in v for _, v in values):
            done = [v.split("/", 1) for _, v in values]
            lows = [int(a) for a, _ in done if a.isdigit()]
            totals = sorted({b for _, b in done})
            if lows and len(lows) == len(done):
                parts.append(f"n:{min(lows)}-{max(lows)}/{','.join(totals)}")
                continue
        odd = [(lang, v) for lang, v in values if v != common]
        shown = ",".join(f"{lang}:{v}" for lang, v in odd[:max_exceptions])
        more = f",+{len(odd) - max_exceptions} more" if len(odd) > max_exceptions else ""
        parts.append(f"{label}{common}[{shown}{more}]")
    return "|".join(parts)


def sample_note(rows: list[Score]) -> str:
    """'' for full test sets; else e.g. 'sample: n=30 of 14,042 test questions per language (3 of 57 subjects,
    limit 10 per subject)'."""
    sample = [r for r in rows if r.is_sample]
    if not sample:
        return ""
    ns = sorted({r.n for r in sample})
    n = f"n={ns[0]:,}" if len(ns) == 1 else f"n={ns[0]:,}-{ns[-1]:,}"
    totals = sorted({r.questions_total for r in sample if r.questions_total})
    of = f" of {totals[0]:,}" if len(totals) == 1 else (f" of {totals[0]:,}-{totals[-1]:,}" if totals else "")
    splits = sorted({r.splits for r in sample if r.splits})
    what = f" {splits[0]}" if len(splits) == 1 else ""
    details = []
    subjects = sorted({r.subjects for r in sample if r.subjects is not None and r.subjects < len(SUBJECTS)})
    if subjects:
        details.append(f"{'-'.join(map(str, dict.fromkeys([subjects[0], subjects[-1]])))} of {len(SUBJECTS)} subjects")
    limits = sorted({r.limit for r in sample if r.limit})
    if limits:
        details.append(f"limit {'-'.join(map(str, dict.fromkeys([limits[0], limits[-1]])))} per subject")
    return f"sample: {n}{of}{what} questions per language" + (f" ({', '.join(details)})" if details else "")
