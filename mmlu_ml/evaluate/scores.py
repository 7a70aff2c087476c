"""From predictions to the result tables: scores.csv, scores_by_category.csv, paired.csv,
paired_by_checks.csv, and the manifest.

Tables are upserted: a run replaces its own (model, protocol, language[, category]) rows and keeps every other
row, so models and languages scored at different times sit in one file. Writes are atomic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from ..core import stats
from ..core.artifacts import CHECK_COLUMNS
from ..core.artifacts.results import read_evaluation_manifest
from ..core.records import LETTERS, Question, same_but, write_atomic, write_json

MAX_TAG_VALUES = 10  # a tag with more values (country, region) is metadata to read, not a split to score by


def summarize(questions: Sequence[Question], rows: dict[str, dict], sizes: dict[str, int]) -> dict:
    """Counts over the selected questions. An error (the model could not be asked) is left out of n; an unparsed
    answer is in n, not correct, and counted in its own column. `sizes`: each subject's questions in the split,
    for the post-stratified estimate of the whole split (overall, and within each category)."""
    found = [(q, rows[q.id]) for q in questions if q.id in rows]
    table = pd.DataFrame({"subject": [q.subject for q, _ in found], "category": [q.category for q, _ in found],
                          "error": [bool(r.get("error")) for _, r in found],
                          "correct": [bool(r.get("correct")) for _, r in found],
                          "unparsed": [bool(r.get("unparsed")) for _, r in found],
                          "predicted": [r.get("predicted") for _, r in found]})
    scored = table[~table["error"]]
    n, correct = len(scored), int(scored["correct"].sum())
    low, high = stats.wilson(correct, n)

    def per(column: str) -> dict[str, tuple[int, int]]:
        groups = scored.groupby(column, sort=False)["correct"].agg(["sum", "size"])
        return {k: (int(v["sum"]), int(v["size"])) for k, v in groups.iterrows()}

    items = list(zip(scored["subject"], scored["correct"]))
    weighted, w_low, w_high, n_eff = stats.weighted_accuracy(items, sizes)
    categories = {c: (k, size, stats.weighted_accuracy([i for i, cat in zip(items, scored["category"]) if cat == c],
                                                       sizes)[:3]) for c, (k, size) in per("category").items()}
    return {"n": n, "correct": correct, "unparsed": int(scored["unparsed"].sum()), "errors": int(table["error"].sum()),
            "accuracy": stats.accuracy(correct, n), "ci_low": low, "ci_high": high,
            "macro_accuracy": stats.macro_average(per("subject")), "weighted_accuracy": weighted,
            "weighted_ci_low": w_low, "weighted_ci_high": w_high, "n_effective": round(n_eff, 1),
            "letter_shares": letter_shares(scored["predicted"]),
            "categories": categories}


def letter_shares(predicted) -> str:
    """'A=0.250 B=0.250 C=0.300 D=0.200' over the answers given (unparsed ones left out)."""
    given = [p for p in predicted if p in LETTERS]
    return " ".join(f"{x}={given.count(x) / len(given):.3f}" for x in LETTERS) if given else ""


def paired(questions: Sequence[Question], rows: dict[str, dict], english: dict[str, dict],
           sizes: dict[str, int] | None = None) -> dict:
    """Language minus English over the ids both scored without error: accuracies, difference, 95% interval; with
    `sizes` (each subject's questions in the split), the whole split's post-stratified difference too."""
    pairs, items = [], []
    for q in questions:
        a, b = rows.get(q.id), english.get(q.id)
        if a and b and not a.get("error") and not b.get("error"):
            pairs.append((bool(a["correct"]), bool(b["correct"])))
            items.append((q.subject, *pairs[-1]))
    n, diff, low, high = stats.paired_difference(pairs)
    out = {"n_paired": n, "accuracy_lang": stats.accuracy(sum(a for a, _ in pairs), n),
           "accuracy_en": stats.accuracy(sum(b for _, b in pairs), n), "diff": diff, "diff_low": low,
           "diff_high": high}
    if sizes is not None:
        _, w_diff, w_low, w_high = stats.weighted_paired(items, sizes)
        p = stats.p_value(lambda z: stats.weighted_paired(items, sizes, z)[2:]) if items else float("nan")
        out.update({"weighted_diff": w_diff, "weighted_diff_low": w_low, "weighted_diff_high": w_high,
                    "weighted_p": p})
    return out


def paired_by_checks(questions: Sequence[Question], rows: dict[str, dict], english: dict[str, dict],
                     flagged: set[str]) -> list[dict]:
    """The paired difference apart on the questions whose strings passed every translation check and on those with
    a flagged string: a drop that is as deep where the checks found nothing is not the defects they catch."""
    out = []
    for group, subset in (("clean", [q for q in questions if q.id not in flagged]),
                          ("flagged", [q for q in questions if q.id in flagged])):
        row = paired(subset, rows, english)
        if not row["n_paired"]:  # written empty all the same, so no row of an earlier translation outlives it
            row = {**row, **{c: None for c in CHECK_COLUMNS[5:]}}
        out.append({"questions": group, **row})
    return out


def _scored(rows: dict[str, dict]) -> dict[str, dict]:
    return {i: r for i, r in rows.items() if not r.get("error")}


def translator_pair(english: dict[str, dict], a: dict[str, dict], b: dict[str, dict]) -> dict:
    """Two translations of one language against each other and against English, on the ids all three scored
    without error: each accuracy with its Wilson interval, each paired difference with Newcombe's interval,
    and how many questions changed answer between the two translations."""
    english, a, b = _scored(english), _scored(a), _scored(b)
    ids = sorted(set(english) & set(a) & set(b))
    right = {name: [bool(rows[i]["correct"]) for i in ids] for name, rows in (("en", english), ("a", a), ("b", b))}
    out = {"n": len(ids), "n_a": len(a), "n_b": len(b),
           "answers_changed": sum(a[i].get("predicted") != b[i].get("predicted") for i in ids)}
    for name in ("en", "a", "b"):
        k = sum(right[name])
        low, high = stats.wilson(k, len(ids))
        out.update({f"accuracy_{name}": stats.accuracy(k, len(ids)), f"{name}_low": low, f"{name}_high": high})
    for first, second in (("a", "b"), ("a", "en"), ("b", "en")):
        _, diff, low, high = stats.paired_difference(zip(right[first], right[second]))
        out.update({f"diff_{first}_{second}": diff, f"diff_{first}_{second}_low": low,
                    f"diff_{first}_{second}_high": high})
    return out


def tag_rows(base: dict, questions: Sequence[Question], rows: dict[str, dict], tags: dict[str, dict]) -> list[dict]:
    """Accuracy per value of each per-question tag (Global-MMLU's cultural_sensitivity_label: CS / CA)."""
    found = [(tags[q.id], rows[q.id]) for q in questions if q.id in tags and q.id in rows and not rows[q.id].get("error")]
    if not found:
        return []
    table = pd.DataFrame([{**t, "_correct": bool(r["correct"])} for t, r in found])
    out = []
    for tag in sorted(c for c in table.columns if c != "_correct"):
        if table[tag].nunique() > MAX_TAG_VALUES:
            continue
        for value, group in table.groupby(tag, sort=True)["_correct"]:
            k, n = int(group.sum()), len(group)
            low, high = stats.wilson(k, n)
            out.append({**base, "tag": tag, "value": value, "n": n, "correct": k, "accuracy": stats.accuracy(k, n),
                        "ci_low": low, "ci_high": high})
    return out


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.6f}"
    return str(value)


def upsert_csv(path: Path, columns: Sequence[str], new_rows: Iterable[dict], key: Sequence[str]) -> None:
    """Replace rows whose `key` columns match a new row (in place), append the rest, write atomically."""
    path, columns, key = Path(path), list(columns), list(key)
    new = pd.DataFrame([{c: _fmt(r.get(c)) for c in columns} for r in new_rows], columns=columns, dtype=object)
    old = (pd.read_csv(path, dtype=str, keep_default_na=False).reindex(columns=columns, fill_value="")
           if path.is_file() else new.iloc[:0])
    table = pd.concat([old, new], ignore_index=True)
    # a key keeps the place of its first row and the value of its last: the new row replaces the old in place,
    # and another model's, protocol's or language's row is kept as it was
    place = table.groupby(key, sort=False, dropna=False).ngroup()
    table = table.assign(_place=place).drop_duplicates("_place", keep="last").sort_values("_place", kind="stable")
    write_atomic(path, table.drop(columns="_place").to_csv(index=False, lineterminator="\n"))


def category_rows(base: dict, categories: dict[str, tuple]) -> list[dict]:
    """category -> (correct, n, (weighted estimate, low, high)), as `summarize` gives them."""
    out = []
    for category, (correct, n, (weighted, w_low, w_high)) in sorted(categories.items()):
        low, high = stats.wilson(correct, n)
        out.append({**base, "category": category, "n": n, "correct": correct,
                    "accuracy": stats.accuracy(correct, n), "ci_low": low, "ci_high": high,
                    "weighted_accuracy": weighted, "weighted_ci_low": w_low, "weighted_ci_high": w_high})
    return out


def manifest_languages(out: Path, key: str) -> dict:
    """The per-language records of one (model, protocol) entry of <out>/evaluation.manifest.json, or {}."""
    entry = read_evaluation_manifest(out).get(key)
    return entry.get("languages", {}) if isinstance(entry, dict) else {}


def add_effort(earlier: dict | None, config_key: str, now: dict) -> dict | None:
    """A language's scoring effort over every run of its configuration: predictions resume per question, so a
    language scored across sessions adds its runs' seconds and answered questions (a run killed before it wrote
    the manifest is not counted). Another configuration's effort starts again from this run."""
    same = (earlier or {}).get("config_key") == config_key
    before = (earlier or {}).get("effort") if same else None
    if same and not now["answered"]:  # everything was there already: not a run of work (None: scored before
        return before                 # effort was recorded, and a run that did nothing does not make it up)
    before = before or {"duration_s": 0.0, "answered": 0, "runs": 0}
    return {"duration_s": round(before["duration_s"] + now["duration_s"], 3),
            "answered": before["answered"] + now["answered"], "runs": before["runs"] + 1}


def machines(earlier: dict | None, here: dict, answered: int) -> list[dict]:
    """The machines a language's answers came from: the earlier runs' (a manifest from before they were recorded:
    unrecorded), and this one if it answered anything."""
    out = [m for m in (earlier or {}).get("machines", []) if isinstance(m, dict)]
    if answered and here not in out:
        out.append(here)
    return out or [{"unrecorded": True}]


def update_manifest(out: Path, key: str, entry: dict) -> None:
    """One entry per (model, protocol) in <out>/evaluation.manifest.json; other entries kept, and the languages of
    an earlier run of the same entry kept beside this run's (each language records its own selection)."""
    data = read_evaluation_manifest(out)
    earlier = data[key].get("languages", {}) if isinstance(data.get(key), dict) else {}
    entry = {**entry, "languages": {**earlier, **entry.get("languages", {})}}
    if isinstance(data.get(key), dict) and same_but(data[key], entry):
        return  # the same scores as the last run's: its date and time stand
    data[key] = entry
    write_json(Path(out) / "evaluation.manifest.json", data)
