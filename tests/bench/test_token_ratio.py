"""bench/token_ratio.py: what a language costs the evaluated model in tokens, against the same English text."""

from __future__ import annotations

import json

from support import bench as bench_script
from mmlu_ml.core.options import Selection
from mmlu_ml.core.examples import ENGLISH, TRANSLATED


def load_bench():
    return bench_script.load("token_ratio")


def board(tmp_path, lang, rows):
    folder = tmp_path / "translations" / "local" / lang
    folder.mkdir(parents=True)
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_ratios_of_the_examples_and_of_the_published_questions(tmp_path, mmlu_dir, monkeypatch):
    monkeypatch.setenv("MMLU_ML_SOURCE", str(mmlu_dir))
    english = Selection(subjects=("astronomy",), limit=2).load()[1]
    # "de": the English copied (ratio 1); "xx": every string written twice over (ratio 2 in characters)
    board(tmp_path, "de", [{"id": q.id, "question": q.question, "choices": list(q.choices)} for q in english])
    board(tmp_path, "xx", [{"id": q.id, "question": q.question * 2, "choices": [c * 2 for c in q.choices]}
                           for q in english])
    count = len  # characters stand in for tokens: the arithmetic is the same
    df = load_bench().table(tmp_path, count)
    assert df.loc["de", "board"] == 1.0 and df.loc["de", "board questions"] == 2
    chars = lambda parts: sum(map(len, parts))  # noqa: E731
    assert df.loc["xx", "board"] == sum(len(q.question) * 2 + chars(q.choices) * 2 + 4 for q in english) / sum(
        len(q.question) + chars(q.choices) + 4 for q in english)
    assert df.loc["fr", "examples"] == chars(TRANSLATED["fr"]) / chars(ENGLISH)
    assert df["examples"].dropna().is_monotonic_increasing and df["examples"].isna().sum() == 1  # xx: none
