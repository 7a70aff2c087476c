"""Translated MMLU sets as their sources serve them, written from a source's questions for the import tests:
MMMLU's per-locale CSVs, Global-MMLU's parquet folders, Okapi's JSON. Texts are the English with a tag."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mmlu_ml.core import mmlu

LETTERS = "ABCD"


def english(source: Path, split: str = "test"):
    return mmlu.load(str(source), ["astronomy", "virology"], [split]).questions


def translated(q, tag="[fr]"):
    return {"question": f"{tag} {q.question}", **{L: f"{tag} {c}" for L, c in zip(LETTERS, q.choices)}}


def mmmlu_folder(root: Path, source: Path, locale="FR-FR", rows=None, shift=0) -> Path:
    """test/mmlu_<LOCALE>.csv as the hub serves it: an unnamed index column, Question, A-D, Answer, Subject."""
    qs = english(source)
    data = [{"": i, **{k.capitalize() if k == "question" else k: v for k, v in translated(q).items()},
             "Answer": qs[(i + shift) % len(qs)].answer, "Subject": q.subject} for i, q in enumerate(qs)]
    if rows is not None:
        data = [data[i] for i in rows]
    (root / "test").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(data).to_csv(root / "test" / f"mmlu_{locale}.csv", index=False)
    return root


def global_folder(root: Path, source: Path, lang="fr", drop=(), duplicate=False, hub_readme=False) -> Path:
    for split in ("dev", "test"):
        qs = english(source, split)
        data = [{"sample_id": q.id, "subject": q.subject, "subject_category": "STEM", "question": f"[{lang}] {q.question}",
                 **{f"option_{L.lower()}": f"[{lang}] {c}" for L, c in zip(LETTERS, q.choices)}, "answer": q.answer,
                 "required_knowledge": "[]", "time_sensitive": "No", "reference": "", "culture": "", "region": "",
                 "country": "", "cultural_sensitivity_label": "CS" if q.index % 2 else "CA", "is_annotated": True}
                for q in qs if q.id not in drop]
        if duplicate:
            data.append(dict(data[0]))
        (root / lang).mkdir(parents=True, exist_ok=True)
        pd.DataFrame(data).to_parquet(root / lang / f"{split}-00000-of-00001.parquet")
    if hub_readme:
        (root / "README.md").write_text(
            f"---\nconfigs:\n- config_name: {lang}\n  data_files:\n  - split: dev\n    path: {lang}/dev-*.parquet\n"
            f"  - split: test\n    path: {lang}/test-*.parquet\n---\n")
    return root


def okapi_json(root: Path, source: Path, lang="fr", split="val", answer=None, fields="project") -> Path:
    qs = english(source, split)
    if fields == "project":  # the Okapi project's own files
        data = [{"id": q.id, "instruction": f"[{lang}] {q.question}",
                 **{f"option_{L.lower()}": f"[{lang}] {c}" for L, c in zip(LETTERS, q.choices)},
                 "answer": answer or q.answer} for q in qs]
    else:
        data = [{"subject": q.subject, "question": f"[{lang}] {q.question}", "answer": answer or q.answer} for q in qs]
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{lang}_{split}.json").write_text(json.dumps(data), encoding="utf-8")
    return root
