"""Shared fixtures, the suite's only ones: the English MMLU in ../shared, tiny sources written per test, a CLI
runner, the fake Azure Translator (tests/support/fake_azure.py), the Gemma 270M file and the llama.cpp server
on it (tests/support/llama_server.py). Test files sit in folders that mirror the package."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.fake_azure import serving
from support.llama_server import gemma_path, llama_server  # noqa: F401 (fixtures for every test)

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MMLU_ML_SHARED", ROOT.parent / "shared"))
MMLU = SHARED / "mmlu"


@pytest.fixture(scope="session")
def mmlu_dir() -> Path:
    assert (MMLU / "test").is_dir(), f"the English MMLU is expected at {MMLU}"
    return MMLU


def write_csv(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def tiny_rows(subject: str, split: str, n: int = 4):
    return [[f"{subject} {split} question {i}?", f"a{i}", f"b{i}", f"c{i}", f"d{i}", "ABCD"[i % 4]] for i in range(n)]


@pytest.fixture
def tiny_source(tmp_path) -> Path:
    """A CSV folder with two subjects and all three splits."""
    root = tmp_path / "mmlu"
    for split in ("dev", "val", "test"):
        for subject in ("astronomy", "virology"):
            write_csv(root / split / f"{subject}_{split}.csv", tiny_rows(subject, split, 5 if split == "dev" else 4))
    return root


def cli(*args, env=None, cwd=None, check=False):
    """Run `mmlu-ml` in a fresh interpreter, as a user would; returns the CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "mmlu_ml.cli", *map(str, args)], capture_output=True, text=True,
                          env=full_env, cwd=cwd or ROOT, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"mmlu-ml {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


AZURE_KEY = "azure-key-7f3b2c91e0d4"


@pytest.fixture
def fake_azure(request, monkeypatch):
    """A fake Azure Translator on 127.0.0.1 with AZURE_TRANSLATOR_* pointing at it. A module or test may set the
    server's options with `@pytest.mark.fake_azure(key=..., retry_after_5xx=True, ...)`."""
    marker = request.node.get_closest_marker("fake_azure")
    options = {"key": AZURE_KEY, "retry_after": "0.01", **(marker.kwargs if marker else {})}
    with serving(monkeypatch, **options) as server:
        monkeypatch.delenv("MMLU_ML_TRANSLATOR_MODEL", raising=False)
        yield server
