"""ARCHITECTURE.md's layering rule, enforced: `lint-imports` (import-linter, contracts in setup.cfg) keeps the
package as it is, and breaks on a copy of it given an import that goes up (core into a stage) or across (one
stage into another), so a violation fails the suite and the contract is known to be able to fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess:
    """lint-imports run as `make test` runs it: from `root`, with setup.cfg's contracts, on `root`'s package."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--no-logo", "--no-cache"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_package_keeps_its_layers():
    proc = lint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cli over five independent stages over llama over core KEPT" in proc.stdout
    assert "1 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize("module,line,offence", [
    ("core/_up.py", "from ..translate import stage\n", "mmlu_ml.core._up -> mmlu_ml.translate.stage"),
    ("llama/_up.py", "from ..evaluate import scores\n", "mmlu_ml.llama._up -> mmlu_ml.evaluate.scores"),
    ("export/_across.py", "from ..evaluate import inputs\n", "mmlu_ml.export._across -> mmlu_ml.evaluate.inputs"),
    ("evaluate/_across.py", "from ..report import data\n", "mmlu_ml.evaluate._across -> mmlu_ml.report.data"),
])
def test_an_import_up_or_across_breaks_the_contract(tmp_path, module, line, offence):
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    shutil.copytree(ROOT / "mmlu_ml", tmp_path / "mmlu_ml", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "mmlu_ml" / module).write_text(line, encoding="utf-8")
    proc = lint(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "cli over five independent stages over llama over core BROKEN" in proc.stdout
    assert offence in proc.stdout, proc.stdout
