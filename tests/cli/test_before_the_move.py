"""A cache and a results folder made by the code before the package was laid out in stage folders (session 13)
are reused by the code after it: not one request to the translator, not one question scored again.

tests/data/before_move/ was written by the old layout's (commit 2937b0e) translate (azure, the fake server on
port 39517) and evaluate (the hash model) on the tiny source of conftest, run from the folder that holds it,
as below.
If a move changes a cache key or a fingerprint, the translator is asked again or a question is re-scored, and
these tests fail.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from conftest import tiny_rows, write_csv
from mmlu_ml.evaluate import models as model_registry
from support.stages import run_evaluate
from support.stages import run_translate
from support import models

PORT = 39517  # the fake server's port when the data was made
BEFORE = Path(__file__).resolve().parents[1] / "data" / "before_move"
ARGS = dict(languages="de,sw", subjects="astronomy,virology", translator="azure", translator_model=None,
            concurrency=2, chars_per_hour=40_000_000, dry_run=False, strict=False)


@pytest.fixture
def before(tmp_path, monkeypatch):
    shutil.copytree(BEFORE, tmp_path, dirs_exist_ok=True)
    for split in ("dev", "val", "test"):
        for subject in ("astronomy", "virology"):
            rows = tiny_rows(subject, split, 5 if split == "dev" else 4)
            write_csv(tmp_path / "mmlu" / split / f"{subject}_{split}.csv", rows)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(model_registry.MODELS, "hash", "support.models:HashModel")
    models.HashModel.reset()
    return tmp_path


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def texts(out: Path) -> dict[str, bytes]:
    return {k: v for k, v in files(out / "translations").items() if k.endswith((".jsonl", "instructions.json"))}


def translate(out: str) -> None:
    run_translate(source="mmlu", splits="dev", limit=3, cache_dir="cache", out=out, **ARGS)
    run_translate(source="mmlu", splits="test", limit=None, cache_dir="cache", out=out, **ARGS)


def evaluate(out: str) -> None:
    run_evaluate(source="mmlu", languages="en,de,sw", subjects="astronomy,virology", splits="test",
                 cache_dir="cache", out=out, model="hash:h1", model_concurrency=1)


def lines(out: Path) -> dict[str, dict]:
    """The instruction lines evaluate reads, per language (instructions.json also keeps what their checks read)."""
    return {p.parent.name: {k: v for k, v in json.loads(p.read_text()).items() if k in ("gopher", "cot")}
            for p in sorted((out / "translations").glob("*/*/instructions.json"))}


@pytest.mark.fake_azure(port=PORT)  # the endpoint, port included, is in the azure fingerprint
def test_the_old_cache_answers_every_translation(before, fake_azure):
    old, old_lines = texts(before / "results"), lines(before / "results")
    assert len(old) == 6
    translate("results")
    # the one kind of request: the instruction-line checks, new since the data was made, ask for back-translations
    checked = [json.loads(p.read_text())["checks"]["instructions"]["requests"]
               for p in (before / "results" / "translations").glob("*/*/dev.manifest.json")]
    assert fake_azure.snapshot().get("requests", 0) == sum(checked) > 0
    asked = fake_azure.snapshot()["requests"]
    translate("fresh")  # a new results folder: only the cache can answer
    assert fake_azure.snapshot()["requests"] == asked
    # the questions' texts and the lines are the old ones, byte for byte; a manifest is rewritten with its run's
    # time and cache counts
    for out in ("results", "fresh"):
        assert {k: v for k, v in texts(before / out).items() if k.endswith(".jsonl")} == \
            {k: v for k, v in old.items() if k.endswith(".jsonl")}
        assert lines(before / out) == old_lines


def test_the_old_results_and_response_cache_score_nothing_again(before):
    scores = (before / "results" / "scores.csv").read_bytes()
    predictions = files(before / "results" / "predictions")
    evaluate("results")
    assert models.HashModel.asked == []
    assert files(before / "results" / "predictions") == predictions
    # scores.csv gained columns since (the weighted estimate, the letters); the old ones are as they were
    assert old_columns(before / "results" / "scores.csv") == old_columns(scores)
    shutil.copytree(before / "results" / "translations", before / "fresh" / "translations")
    evaluate("fresh")  # predictions gone: every answer must come from the old response cache
    assert models.HashModel.asked == []
    assert old_columns(before / "fresh" / "scores.csv") == old_columns(scores)


OLD_COLUMNS = next(csv.reader(io.StringIO((BEFORE / "results" / "scores.csv").read_text().splitlines()[0])))


def old_columns(table) -> list[dict]:
    """The rows of a scores.csv (a path, or its bytes) on the columns the old code wrote."""
    text = table.read_text() if isinstance(table, Path) else table.decode()
    return [{c: r[c] for c in OLD_COLUMNS} for r in csv.DictReader(io.StringIO(text))]
