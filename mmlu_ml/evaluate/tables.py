"""From a run's predictions to its tables and its manifest: scores.csv, scores_by_category.csv, paired.csv,
paired_by_checks.csv, scores_by_tag.csv, translators.csv and evaluation.manifest.json (formats: core/artifacts)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from ..core import artifacts, locks
from ..core.cache import key_of
from ..core.checks import flagged_questions
from ..core.mmlu import Dataset
from ..core.options import Places, Selection
from ..core.paths import predictions_file
from ..core.protocols import Protocol
from ..core.records import Question
from . import scores
from .inputs import LanguageInput
from .models.base import Model

ROW_KEY = ("model", "protocol", "language")


def config_key(fingerprint: dict, protocol: Protocol, language: str, translator: dict | str | None) -> str:
    """Everything that changes a prediction: model, protocol settings, language, translation."""
    return key_of(fingerprint, protocol.settings(), language, translator or "source")[:16]


@dataclass
class Run:
    """One run of the evaluate stage: what it scores, with what, and where it writes."""

    selection: Selection
    places: Places
    spec: str            # --model as given
    model: Model
    fp: dict             # the model's fingerprint
    proto: Protocol
    ds: Dataset
    whole: list[Question]  # every question of the scored splits: the whole split the estimates are of
    started: float = field(default_factory=time.time)

    @property
    def entry(self) -> str:
        """Its key in evaluation.manifest.json."""
        return f"{self.model.name}/{self.proto.name}"


@dataclass(frozen=True)
class Evaluation:
    """What a run of the evaluate stage wrote: its scores.csv rows, the translator pairs it compared, and where."""

    rows: list[dict]
    pairs: list[dict]
    scores: Path
    predictions: Path


@dataclass
class _Tables:
    scores: list[dict] = field(default_factory=list)
    categories: list[dict] = field(default_factory=list)
    tags: list[dict] = field(default_factory=list)
    paired: list[dict] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    languages: dict[str, dict] = field(default_factory=dict)  # the manifest's per-language records


def write_results(run: Run, results: list[tuple[LanguageInput, str, dict]], spent: dict) -> Evaluation:
    """Score every language of `results` ((input, config key, id -> prediction row)), write the tables and the
    manifest entry; `spent`: config key -> this run's seconds and questions answered. The tables and the
    manifest are read, changed and written under one lock of the folder, so a run beside this one, scoring
    other languages, cannot write back what it read before this run's rows were in."""
    out = run.places.out
    with locks.held(out / ".scores.lock", f"writing the tables of {out}"):
        return _write_results(run, results, spent)


def _write_results(run: Run, results: list[tuple[LanguageInput, str, dict]], spent: dict) -> Evaluation:
    out = run.places.out
    earlier = scores.manifest_languages(out, run.entry)
    english = _english(run, results)
    tables = _Tables()
    primary: set[str] = set()
    for inp, key, rows in results:
        code = inp.language.code
        if code in primary:  # a second translation of a language: in translators.csv, not in scores.csv
            tables.languages[f"{code}@{inp.translator}"] = {
                "config_key": key, "translator": inp.translator, "translator_fingerprint": inp.translator_fingerprint,
                "files": inp.files, "questions": len(inp.questions)}
            continue
        primary.add(code)
        _language(run, tables, inp, key, rows, english)
        tables.languages[code] |= _effort(run, earlier.get(code), key, spent[key])
    pairs = translator_rows(run, results, english)
    _write_tables(out, tables, pairs)
    scores.update_manifest(out, run.entry, {
        "tool_version": __version__, "model": {"spec": run.spec, "name": run.model.name, "fingerprint": run.fp},
        "protocol": run.proto.settings(), "shots": run.proto.shots, "source": run.ds.source,
        "source_hash": run.ds.source_hash, "subjects": list(run.selection.subjects),
        "splits": list(run.selection.splits), "limit": run.selection.limit, "languages": tables.languages,
        "duration_s": round(time.time() - run.started, 3),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    return Evaluation(tables.scores, pairs, out / "scores.csv", out / "predictions" / run.model.name / run.proto.name)


def _english(run: Run, results) -> tuple[str, dict]:
    """(config key, rows) of English: this run's, or an earlier run's of the same configuration, to pair with."""
    found = next(((key, rows) for inp, key, rows in results if inp.language.code == "en"), None)
    if found is not None:
        return found
    key = config_key(run.fp, run.proto, "en", None)
    return key, artifacts.latest_rows(predictions_file(run.places.out, run.model.name, run.proto.name, "en"), key)


def _language(run: Run, tables: _Tables, inp: LanguageInput, key: str, rows: dict, english: tuple[str, dict]) -> None:
    """One language's rows of every table, and its record in the manifest."""
    mdl, proto, whole, code = run.model, run.proto, run.whole, inp.language.code
    sizes = dict(Counter(q.subject for q in whole))  # the split's subjects, for the whole split's estimates
    s = scores.summarize(inp.questions, rows, sizes)
    label = translator_label(inp.translator, inp.translator_fingerprint)
    signature = artifacts.Signature(proto.name, proto.shots, label, mdl.name, run.fp.get("sha256", key_of(run.fp))[:8],
                                    s["n"], len(whole), __version__).format()
    base = {"model": mdl.name, "protocol": proto.name, "language": code}
    tables.scores.append({**base, **{k: v for k, v in s.items() if k != "categories"}, "shots": proto.shots,
                          "translator": label, "model_fingerprint": key_of(run.fp)[:12], "questions_total": len(whole),
                          "limit": run.selection.limit, "tool_version": __version__, "signature": signature})
    tables.categories += scores.category_rows(base, s["categories"])
    tables.tags += scores.tag_rows(base, inp.questions, rows, inp.tags)
    if code != "en" and english[1]:
        source = {q.id: q for q in whole}  # the English of each question, for the translation checks
        tables.paired.append({**base, **scores.paired(inp.questions, rows, english[1], sizes)})
        flagged = flagged_questions([(source[q.id], q) for q in inp.questions if q.id in source], inp.language)
        tables.checks += [{**base, **r} for r in scores.paired_by_checks(inp.questions, rows, english[1], flagged)]
    tables.languages[code] = {
        "config_key": key, "translator": inp.translator, "translator_fingerprint": inp.translator_fingerprint,
        "files": inp.files, "questions": len(inp.questions), "n": s["n"], "errors": s["errors"],
        "subjects": list(run.selection.subjects), "splits": list(run.selection.splits), "limit": run.selection.limit,
        "source_hash": run.ds.source_hash, "signature": signature}


def _effort(run: Run, earlier: dict | None, key: str, spent: dict) -> dict:
    """What scoring the language took over its runs, and (a local model) the machines its answers came from."""
    out: dict[str, object] = {}
    effort = scores.add_effort(earlier, key, spent)
    if effort is not None:
        out["effort"] = effort
    here = run.model.machine()
    if here is not None:  # a local model: the builds and CPUs its answers came from (they differ by CPU)
        out["machines"] = scores.machines(earlier, here, spent["answered"])
    return out


def _write_tables(out: Path, tables: _Tables, pairs: list[dict]) -> None:
    """Each table upserted: this run's rows replace their own, every other row stays."""
    for name, columns, rows, key in (
            ("scores.csv", artifacts.SCORE_COLUMNS, tables.scores, ROW_KEY),
            ("scores_by_category.csv", artifacts.CATEGORY_COLUMNS, tables.categories, (*ROW_KEY, "category")),
            ("paired.csv", artifacts.PAIRED_COLUMNS, tables.paired, ROW_KEY),
            ("paired_by_checks.csv", artifacts.CHECK_COLUMNS, tables.checks, (*ROW_KEY, "questions")),
            ("scores_by_tag.csv", artifacts.TAG_COLUMNS, tables.tags, (*ROW_KEY, "tag", "value")),
            ("translators.csv", artifacts.TRANSLATOR_COLUMNS, pairs, (*ROW_KEY, "translator_a", "translator_b"))):
        if rows or name in ("scores.csv", "scores_by_category.csv"):
            scores.upsert_csv(out / name, columns, rows, key)


def translator_rows(run: Run, results, english: tuple[str, dict]) -> list[dict]:
    """translators.csv: every pair of translations of a language scored under this model and protocol, this run's
    and earlier runs' alike (each found under its own translations/ folder and configuration key)."""
    out, mdl, proto = [], run.model, run.proto
    for code in dict.fromkeys(inp.language.code for inp, _, _ in results if inp.language.code != "en"):
        ids = {q.id for inp, _, _ in results if inp.language.code == code for q in inp.questions}
        path = predictions_file(run.places.out, mdl.name, proto.name, code)
        found = {}
        for tset in artifacts.translation_sets(run.places.out, code):
            key = config_key(run.fp, proto, code, tset.fingerprint(list(run.selection.splits) + ["dev"], None))
            rows = {i: r for i, r in artifacts.latest_rows(path, key).items() if i in ids}
            if rows:
                found[tset.translator] = rows
        names = sorted(found)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                out.append({"model": mdl.name, "protocol": proto.name, "language": code, "translator_a": a,
                            "translator_b": b, **scores.translator_pair(english[1], found[a], found[b])})
    return out


def translator_label(name: str, fp: dict | None) -> str:
    if name == "source" or not fp:
        return name
    bits = [str(fp[k]) for k in ("model", "engine", "served_model") if fp.get(k)][:1]
    prompt = fp.get("prompt_version", fp.get("prompt"))
    if prompt is not None and not isinstance(prompt, (dict, list)):
        bits.append(str(prompt) if str(prompt).startswith("p") else f"p{prompt}")
    elif fp.get("api_version"):
        bits.append(str(fp["api_version"]))
    return f"{name}({','.join(bits)})" if bits else name
