"""From predictions to the result tables: scores.csv, scores_by_category.csv, paired.csv, and the manifest.

Tables are upserted: a run replaces its own (model, protocol, language[, category]) rows and keeps every other
row, so models and languages scored at different times sit in one file. Writes are atomic.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Sequence

from ..core import stats
from ..core.records import Question, read_jsonl, write_atomic, write_json

SCORE_COLUMNS = ("model", "protocol", "language", "n", "correct", "unparsed", "errors", "accuracy", "ci_low",
                 "ci_high", "macro_accuracy", "shots", "translator", "model_fingerprint", "questions_total",
                 "limit", "tool_version", "signature")
CATEGORY_COLUMNS = ("model", "protocol", "language", "category", "n", "correct", "accuracy", "ci_low", "ci_high")
PAIRED_COLUMNS = ("model", "protocol", "language", "n_paired", "accuracy_lang", "accuracy_en", "diff", "diff_low",
                  "diff_high")


def latest_rows(path: Path, config_key: str) -> dict[str, dict]:
    """id -> the last prediction row written under `config_key` (a retried error is superseded)."""
    if not Path(path).is_file():
        return {}
    return {row["id"]: row for row in read_jsonl(path) if row.get("config_key") == config_key}


def summarize(questions: Sequence[Question], rows: dict[str, dict]) -> dict:
    """Counts over the selected questions. An error (the model could not be asked) is left out of n; an unparsed
    answer is in n, not correct, and counted in its own column."""
    n = correct = unparsed = errors = 0
    per_subject: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for q in questions:
        row = rows.get(q.id)
        if row is None:
            continue
        if row.get("error"):
            errors += 1
            continue
        n += 1
        ok = bool(row["correct"])
        correct += ok
        unparsed += bool(row.get("unparsed"))
        for table, key in ((per_subject, q.subject), (per_category, q.category)):
            table[key][0] += ok
            table[key][1] += 1
    low, high = stats.wilson(correct, n)
    return {"n": n, "correct": correct, "unparsed": unparsed, "errors": errors,
            "accuracy": stats.accuracy(correct, n), "ci_low": low, "ci_high": high,
            "macro_accuracy": stats.macro_average({k: tuple(v) for k, v in per_subject.items()}),
            "categories": {k: tuple(v) for k, v in per_category.items()}}


def paired(questions: Sequence[Question], rows: dict[str, dict], english: dict[str, dict]) -> dict:
    """Language minus English over the ids both scored without error: accuracies, difference, 95% interval."""
    pairs = []
    for q in questions:
        a, b = rows.get(q.id), english.get(q.id)
        if a and b and not a.get("error") and not b.get("error"):
            pairs.append((bool(a["correct"]), bool(b["correct"])))
    n, diff, low, high = stats.paired_difference(pairs)
    return {"n_paired": n, "accuracy_lang": stats.accuracy(sum(a for a, _ in pairs), n),
            "accuracy_en": stats.accuracy(sum(b for _, b in pairs), n), "diff": diff, "diff_low": low,
            "diff_high": high}


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.6f}"
    return str(value)


def upsert_csv(path: Path, columns: Sequence[str], new_rows: Iterable[dict], key: Sequence[str]) -> None:
    """Replace rows whose `key` columns match a new row (in place), append the rest, write atomically."""
    path = Path(path)
    new = [{c: _fmt(r.get(c)) for c in columns} for r in new_rows]
    old: list[dict] = []
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as f:
            old = [{c: row.get(c, "") for c in columns} for row in csv.DictReader(f)]
    pending = {tuple(r[c] for c in key): r for r in new}
    merged = []
    for row in old:
        k = tuple(row[c] for c in key)
        if k in pending:
            merged.append(pending.pop(k))
        elif not any(k == tuple(m[c] for c in key) for m in new):
            merged.append(row)  # another model's, protocol's or language's row: kept as it was
    merged += pending.values()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(merged)
    write_atomic(path, buf.getvalue())


def category_rows(base: dict, categories: dict[str, tuple[int, int]]) -> list[dict]:
    out = []
    for category, (correct, n) in sorted(categories.items()):
        low, high = stats.wilson(correct, n)
        out.append({**base, "category": category, "n": n, "correct": correct,
                    "accuracy": stats.accuracy(correct, n), "ci_low": low, "ci_high": high})
    return out


def update_manifest(path: Path, key: str, entry: dict) -> None:
    """One entry per (model, protocol) in <out>/evaluation.manifest.json; other entries kept, and the languages of
    an earlier run of the same entry kept beside this run's (each language records its own selection)."""
    path = Path(path)
    data = {}
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            data = {}
    earlier = data.get(key, {}).get("languages", {}) if isinstance(data.get(key), dict) else {}
    data[key] = {**entry, "languages": {**earlier, **entry.get("languages", {})}}
    write_json(path, data)
