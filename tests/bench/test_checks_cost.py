"""bench/checks_cost.py: the translation checks the evaluate stage runs again find, on every published language,
the questions the translate stage's manifest counted when it wrote the language."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd

from conftest import MMLU, ROOT


def test_the_checks_run_again_count_what_the_manifests_counted():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "checks_cost.py"), "results/published"], cwd=ROOT,
                          env={**os.environ, "MMLU_ML_SOURCE": str(MMLU)}, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()[1:]]
    scored = set(pd.read_csv(ROOT / "results" / "published" / "scores.csv")["language"]) - {"en"}
    assert scored <= {r[0] for r in rows} and scored >= {"de", "es", "fr", "it", "sw", "zh"}
    for lang, questions, first, again, flagged, counted in rows:
        assert flagged == counted, lang  # a language still being translated too, piece by piece
        assert questions == "285" or lang not in scored, lang
        assert float(first) > 0 and float(again) > 0
