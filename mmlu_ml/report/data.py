"""What the report reads: the evaluate stage's CSVs and the translate stage's manifests, validated.

Everything here is plain data (dataclasses, dicts); drawing and page-making live in chart.py and
leaderboard.py. A missing or malformed scores.csv is a one-line MmluMlError that names `mmlu-ml evaluate`.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from ..core.errors import MmluMlError
from ..core.languages import Language, load as load_languages
from ..core.subjects import SUBJECTS

# The evaluate stage's contract; the other columns of scores.csv are optional here (shown when present).
REQUIRED = ("model", "protocol", "language", "n", "correct", "accuracy", "ci_low", "ci_high", "signature")
OPTIONAL_INT = ("unparsed", "errors", "shots", "questions_total", "limit")
EPS = 1e-5  # scores.csv rounds to 6 decimals
# A language whose scored translation has more than this share of its strings flagged by the checks is drawn
# faded and hatched, with a footnote: its score measures the translation as much as the model. 10% is the
# threshold of the broadest check (not_target_language) applied to the union of all checks.
NOT_COMPARABLE = 0.10
# A language piloted (its dev shots and instruction lines translated) whose pilot has more than this share of
# its strings flagged is one the translator cannot write: it goes on the board with that share and no score, and
# no more compute goes to it (bench/published.sh reads this too). 40%: past Swahili's 33%, which the board scores
# (hatched), so it stops only a language written mostly wrong.
PILOT_FLAGGED = 0.40


@dataclass(frozen=True)
class Score:
    """One row of scores.csv: a (model, protocol, language) result. Accuracies in [0, 1]."""

    model: str
    protocol: str
    language: str
    n: int
    correct: int
    accuracy: float
    ci_low: float
    ci_high: float
    signature: str
    unparsed: int | None = None
    errors: int | None = None
    shots: int | None = None
    questions_total: int | None = None
    limit: int | None = None
    macro_accuracy: float | None = None
    weighted_accuracy: float | None = None  # the whole split's estimate, post-stratified (evaluate/scores.py)
    weighted_ci_low: float | None = None
    weighted_ci_high: float | None = None
    n_effective: float | None = None
    letter_shares: str = ""
    translator: str = ""
    model_fingerprint: str = ""
    tool_version: str = ""
    subjects: int | None = None       # subjects scored, from evaluation.manifest.json when present
    splits: str = ""

    @property
    def series(self) -> tuple[str, str]:
        return (self.model, self.protocol)

    @property
    def headline(self) -> tuple[float, float, float]:
        """(accuracy, low, high) to stand beside published full-test figures: the size-weighted estimate of the
        whole split where scores.csv has it (a file from before it did: the sample's)."""
        if self.weighted_accuracy is not None:
            return self.weighted_accuracy, self.weighted_ci_low, self.weighted_ci_high
        return self.accuracy, self.ci_low, self.ci_high

    @property
    def letters(self) -> dict[str, float]:
        """letter -> share of the answers given, from `letter_shares`."""
        pairs = (item.split("=", 1) for item in self.letter_shares.split() if "=" in item)
        return {k: float(v) for k, v in pairs}

    @property
    def is_sample(self) -> bool:
        """Honest subsets: a --limit run, or fewer questions scored than the split holds."""
        return (self.limit is not None or (self.questions_total is not None and self.n < self.questions_total)
                or (self.subjects is not None and self.subjects < len(SUBJECTS)))


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


def _fix(path: Path, stage: str = "evaluate") -> str:
    return f"regenerate it with `mmlu-ml {stage} --out {path.parent}`"


def _read_csv(path: Path, required: tuple[str, ...], stage: str = "evaluate") -> list[tuple[int, dict]]:
    """(line number, row) pairs of a CSV with a header; a missing column or a torn row is an error."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, on_bad_lines="error")
    except pd.errors.EmptyDataError:
        raise MmluMlError(f"{path} is empty; {_fix(path, stage)}") from None
    except UnicodeDecodeError:
        raise MmluMlError(f"{path} is not UTF-8 text; {_fix(path, stage)}") from None
    except pd.errors.ParserError as exc:  # a row with more fields than the header
        detail = " ".join(str(exc).split()).removeprefix("Error tokenizing data. C error: ")
        raise MmluMlError(f"{path} is not a valid CSV ({detail}); {_fix(path, stage)}") from None
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise MmluMlError(f"{path} lacks column(s) {', '.join(missing)}; {_fix(path, stage)}")
    # pandas pads a row with fewer fields than the header (a torn write) with ""; the readers below catch it
    # by the required cell it leaves empty
    return [(i + 2, row) for i, row in enumerate(table.to_dict("records"))]


def _number(row: dict, col: str, kind, where: str, path: Path, optional: bool = False):
    raw = (row.get(col) or "").strip()
    if raw == "" and optional:
        return None
    try:
        value = kind(float(raw)) if kind is int else float(raw)
        if kind is int and float(raw) != value:
            raise ValueError
    except ValueError:
        raise MmluMlError(f"{where}: column {col} is {raw!r}, not a{'n integer' if kind is int else ' number'}; "
                          f"{_fix(path, 'evaluate')}") from None
    if not math.isfinite(value):
        raise MmluMlError(f"{where}: column {col} is {raw!r}; {_fix(path, 'evaluate')}")
    return value


def _share(row: dict, col: str, where: str, path: Path, optional: bool = False) -> float | None:
    value = _number(row, col, float, where, path, optional)
    if value is not None and not -EPS <= value <= 1 + EPS:
        raise MmluMlError(f"{where}: {col} = {value} is outside [0, 1] (accuracies are shares, not percents); "
                          f"{_fix(path, 'evaluate')}")
    return value


def read_scores(path: Path, unscored: list[dict] | None = None) -> list[Score]:
    """The scored rows of scores.csv; rows with n = 0 go to `unscored` when given."""
    unscored = [] if unscored is None else unscored
    if not path.is_file():
        raise MmluMlError(f"no scores at {path}; run `mmlu-ml evaluate --out {path.parent}` first "
                          "(or point --out at a results folder that holds scores.csv)")
    scores: list[Score] = []
    seen: set[tuple[str, str, str]] = set()
    for line, row in _read_csv(path, REQUIRED):
        where = f"{path}:{line}"
        if not row["signature"].strip():  # written last on every row: empty means a row cut short
            raise MmluMlError(f"{where}: expected {len(row)} fields, signature and maybe more are empty (a torn row); "
                              f"{_fix(path, 'evaluate')}")
        for col in ("model", "protocol", "language"):
            if not row[col].strip():
                raise MmluMlError(f"{where}: column {col} is empty; {_fix(path, 'evaluate')}")
        key = (row["model"], row["protocol"], row["language"])
        if key in seen:
            raise MmluMlError(f"{where}: a second row for model {key[0]!r}, protocol {key[1]!r}, language "
                              f"{key[2]!r}; {_fix(path, 'evaluate')}")
        seen.add(key)
        ints = {c: _number(row, c, int, where, path, optional=True) for c in OPTIONAL_INT}
        if _number(row, "n", int, where, path) == 0:
            # nothing scored (every question an error): no accuracy to draw; kept aside and reported
            unscored.append({"model": key[0], "protocol": key[1], "language": key[2], "errors": ints["errors"]})
            continue
        score = Score(
            model=row["model"], protocol=row["protocol"], language=row["language"],
            n=_number(row, "n", int, where, path), correct=_number(row, "correct", int, where, path),
            accuracy=_share(row, "accuracy", where, path), ci_low=_share(row, "ci_low", where, path),
            ci_high=_share(row, "ci_high", where, path), signature=row["signature"].strip(),
            macro_accuracy=_share(row, "macro_accuracy", where, path, optional=True),
            **{c: _share(row, c, where, path, optional=True)
               for c in ("weighted_accuracy", "weighted_ci_low", "weighted_ci_high")},
            n_effective=_number(row, "n_effective", float, where, path, optional=True),
            letter_shares=(row.get("letter_shares") or "").strip(),
            translator=(row.get("translator") or "").strip(),
            model_fingerprint=(row.get("model_fingerprint") or "").strip(),
            tool_version=(row.get("tool_version") or "").strip(), **ints)
        if not score.ci_low - EPS <= score.accuracy <= score.ci_high + EPS:
            raise MmluMlError(f"{where}: accuracy {score.accuracy} lies outside its interval "
                              f"[{score.ci_low}, {score.ci_high}]; {_fix(path, 'evaluate')}")
        if score.n < 0 or not 0 <= score.correct <= score.n:
            raise MmluMlError(f"{where}: correct = {score.correct} with n = {score.n}; {_fix(path, 'evaluate')}")
        scores.append(score)
    if not scores:
        what = f"only rows with n = 0 ({len(unscored)}: every question failed)" if unscored else "no scores"
        raise MmluMlError(f"{path} holds {what}; run `mmlu-ml evaluate --out {path.parent}` first")
    return scores


def read_categories(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    rows = []
    for line, row in _read_csv(path, ("model", "protocol", "language", "category", "n", "accuracy")):
        where = f"{path}:{line}"
        rows.append({**row, "n": _number(row, "n", int, where, path), "accuracy": _share(row, "accuracy", where, path),
                     "ci_low": _share(row, "ci_low", where, path, optional=True),
                     "ci_high": _share(row, "ci_high", where, path, optional=True),
                     "weighted_accuracy": _share(row, "weighted_accuracy", where, path, optional=True)})
    return rows


def read_paired(path: Path) -> dict[tuple[str, str, str], dict]:
    if not path.is_file():
        return {}
    rows = {}
    for line, row in _read_csv(path, ("model", "protocol", "language", "n_paired", "diff", "diff_low", "diff_high")):
        where = f"{path}:{line}"
        rows[(row["model"], row["protocol"], row["language"])] = {
            **row, "n_paired": _number(row, "n_paired", int, where, path),
            **{c: _number(row, c, float, where, path) for c in ("diff", "diff_low", "diff_high")},
            **{c: _number(row, c, float, where, path, optional=True)
               for c in ("weighted_diff", "weighted_diff_low", "weighted_diff_high", "weighted_p")}}
    return rows


def read_manifests(out: Path) -> list[dict]:
    """Translation manifests under <out>/translations/<translator>/<lang>/<split>.manifest.json."""
    manifests = []
    for path in sorted((out / "translations").glob("*/*/*.manifest.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MmluMlError(f"{path} is not valid JSON ({exc.__class__.__name__}); delete it and run "
                              f"`mmlu-ml translate --out {out}` again") from None
        if not isinstance(data, dict):
            raise MmluMlError(f"{path} is not a manifest object; delete it and run "
                              f"`mmlu-ml translate --out {out}` again")
        data["_path"] = str(path.relative_to(out))
        data.setdefault("language", path.parent.name)
        data.setdefault("split", path.name.split(".")[0])
        data["_translator_dir"] = path.parent.parent.name
        manifests.append(data)
    return manifests


def read_evaluation_manifest(out: Path) -> dict[str, dict]:
    """<out>/evaluation.manifest.json ("model/protocol" -> config) when present; it says which subjects ran."""
    path = out / "evaluation.manifest.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MmluMlError(f"{path} is not valid JSON ({exc.__class__.__name__}); "
                          f"regenerate it with `mmlu-ml evaluate --out {out}`") from None
    return data if isinstance(data, dict) else {}


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
    shares = [v.get("share") for v in checks.values() if isinstance(v, dict) and isinstance(v.get("share"), (int, float))]
    return max(shares) if shares else None


def language_flags(results: Results) -> dict[str, float]:
    """language -> flag share of the translation its scores read: the manifests of the scored splits, in the
    translator's folder that the scores name (the label before its parenthesis), weighted by strings."""
    scored_splits = {sp for s in results.scores for sp in (s.splits.split(",") if s.splits else ["test"])}
    out: dict[str, float] = {}
    for code in dict.fromkeys(s.language for s in results.scores if s.language != "en"):
        names = {s.translator.split("(")[0] for s in results.scores if s.language == code}
        found = [(flag_share(m), (m.get("checks") or {}).get("strings") or 1) for m in results.manifests
                 if m.get("language") == code and m.get("_translator_dir") in names and m.get("split") in scored_splits]
        found = [(share, n) for share, n in found if share is not None]
        if found:
            out[code] = sum(share * n for share, n in found) / sum(n for _, n in found)
    return out


def pilots(results: Results) -> dict[str, float]:
    """Languages translated but not scored -> the flag share of their dev split (the pilot): over PILOT_FLAGGED,
    one the translator cannot write; under it, one whose scores are still to come."""
    scored = {s.language for s in results.scores}
    names = {s.translator.split("(")[0] for s in results.scores} or {"local"}
    out = {}
    for m in results.manifests:
        code = m.get("language")
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

def _parse_signature(sig: str) -> dict[str, str]:
    pairs = {}
    for part in sig.split("|"):
        key, sep, value = part.partition(":")
        pairs[key.strip() if sep else f"_{len(pairs)}"] = value.strip() if sep else part.strip()
    return pairs


def merge_signatures(rows: list[Score], max_exceptions: int = 3) -> str:
    """One signature for a series: each field's common value, the languages that differ in brackets
    (`translator:local(qwen)[en:identity]`), and `n` as a range when it varies."""
    parsed = [(r.language, _parse_signature(r.signature)) for r in rows if r.signature]
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
