"""Runs of the evaluate stage that share a results folder: real processes (forked, so the test models registered
here go with them), real files; none loses another's work, and scores.csv always agrees with the predictions."""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from support import models
from mmlu_ml.core.errors import MmluMlError
from mmlu_ml.core.paths import predictions_file
from mmlu_ml.core.records import read_jsonl
from mmlu_ml.evaluate import models as backends, scores
from support.stages import run_evaluate
from test_evaluate_stage import SUBJECTS, write_translation

FORK = multiprocessing.get_context("fork")


@pytest.fixture(autouse=True)
def test_models(monkeypatch):
    for name, cls in (("hash", "HashModel"), ("slow", "SlowModel")):
        monkeypatch.setitem(backends.MODELS, name, f"support.models:{cls}")
        getattr(models, cls).reset()


def _args(tmp_path: Path, source: Path, **kw) -> dict:
    return {"source": str(source), "languages": "en", "subjects": ",".join(SUBJECTS), "splits": "test",
            "limit": None, "cache_dir": str(tmp_path / "cache"), "out": str(tmp_path / "out"),
            "model_concurrency": 1, **kw}


def _child(args: dict, outcome: Path, barrier=None) -> None:
    """One run, in its own process: `outcome` says "ok" or the one-line error. `barrier`: the run's first table
    write waits there for the other run's, so both have read the tables before either writes (the race, made sure)."""
    if barrier is not None:
        real = scores.write_atomic

        def meet_then_write(path, text):
            if barrier is not None and not barrier.broken:
                try:
                    barrier.wait(timeout=3)
                except threading.BrokenBarrierError:
                    pass  # the other run is not in its writes at the same time (it waits for the lock)
            return real(path, text)
        scores.write_atomic = meet_then_write
    try:
        run_evaluate(**args)
    except MmluMlError as e:
        outcome.write_text(f"error: {e}", encoding="utf-8")
        raise SystemExit(2)
    outcome.write_text("ok", encoding="utf-8")


def _start(tmp_path: Path, name: str, args: dict, barrier=None):
    outcome = tmp_path / f"{name}.outcome"
    proc = FORK.Process(target=_child, args=(args, outcome, barrier))
    proc.start()
    return proc, outcome


def _wait_for_rows(path: Path, n: int, proc) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.is_alive():
        if path.is_file() and len(path.read_text(encoding="utf-8").splitlines()) >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"no {n} rows in {path}")


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def agree(out: Path, model: str, language: str) -> None:
    """scores.csv's row of the language counts exactly the predictions under the configuration the manifest
    names, and the predictions file holds no other configuration's rows."""
    manifest = json.loads((out / "evaluation.manifest.json").read_text(encoding="utf-8"))[f"{model}/gpt4"]
    key = manifest["languages"][language]["config_key"]
    rows = list(read_jsonl(predictions_file(out, model, "gpt4", language)))
    (row,) = [r for r in _read_csv(out / "scores.csv") if (r["model"], r["language"]) == (model, language)]
    assert {r["config_key"] for r in rows} == {key}, "the predictions file holds another run's rows"
    assert int(row["n"]) == len({r["id"] for r in rows}) == len(rows), (row["n"], len(rows))
    assert row["shots"] == str(manifest["shots"])


def test_two_runs_of_one_language_with_other_settings_agree_with_the_predictions(tmp_path, tiny_source):
    """Before: the second run rewrote the predictions file the first was appending to; the first then wrote
    scores.csv (n=8 under its settings) over a file holding the second's rows, both exit 0."""
    out = tmp_path / "out"
    first, first_outcome = _start(tmp_path, "first", _args(tmp_path, tiny_source, model="slow:0.1", shots=0))
    _wait_for_rows(predictions_file(out, "slow", "gpt4", "en"), 1, first)
    second, second_outcome = _start(tmp_path, "second", _args(tmp_path, tiny_source, model="slow:0.01", shots=1))
    second.join(60)
    first.join(60)
    assert first_outcome.read_text() == "ok"
    said = second_outcome.read_text()
    assert second.exitcode == 2 and said.startswith("error: ") and "\n" not in said
    assert f"pid {first.pid} " in said and "scoring slow/gpt4/en" in said, said
    agree(out, "slow", "en")


def test_two_languages_written_at_once_both_stay_in_the_tables(tmp_path, tiny_source):
    """Before: each run read scores.csv and the manifest, then wrote them back with its own language only."""
    out = tmp_path / "out"
    write_translation(out, tiny_source, "de")
    barrier = FORK.Barrier(2)
    runs = [_start(tmp_path, lang, _args(tmp_path, tiny_source, model="hash:x", languages=lang), barrier)
            for lang in ("en", "de")]
    for proc, outcome in runs:
        proc.join(60)
        assert outcome.read_text() == "ok"
    assert sorted(r["language"] for r in _read_csv(out / "scores.csv")) == ["de", "en"]
    manifest = json.loads((out / "evaluation.manifest.json").read_text(encoding="utf-8"))["hash/gpt4"]
    assert sorted(manifest["languages"]) == ["de", "en"]
    agree(out, "hash", "en")
    agree(out, "hash", "de")


def test_a_killed_run_does_not_block_the_next(tmp_path, tiny_source):
    """While a run scores a language, another of it stops at once naming it; once it is killed (-9, no cleanup),
    the next run goes through and resumes its predictions."""
    out = tmp_path / "out"
    args = _args(tmp_path, tiny_source, model="slow:0.2")
    first, _ = _start(tmp_path, "first", args)
    _wait_for_rows(predictions_file(out, "slow", "gpt4", "en"), 1, first)
    with pytest.raises(MmluMlError, match=f"pid {first.pid} "):
        run_evaluate(**args)
    os.kill(first.pid, signal.SIGKILL)
    first.join(10)
    rows = run_evaluate(**args).rows
    assert rows[0]["n"] == 8
    agree(out, "slow", "en")
