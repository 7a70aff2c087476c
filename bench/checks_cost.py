"""What the evaluate stage's split by translation checks (paired_by_checks.csv) costs: the translate stage's
checks run again over each published language's scored questions (BENCHMARKS.md, "The drop split by translation
checks").

    MMLU_ML_SOURCE=../shared/mmlu .venv/bin/python bench/checks_cost.py [results/published]

Prints, per language, the seconds of the first run (the language detector built) and of a second, and how many
questions have a flagged string (the translation manifest's own count, for comparison).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from mmlu_ml.core import mmlu
from mmlu_ml.core.languages import load
from mmlu_ml.core.records import Question, read_jsonl
from mmlu_ml.core.subjects import SUBJECTS
from mmlu_ml.core.checks import flagged_questions

board = Path(sys.argv[1] if len(sys.argv) > 1 else "results/published")
english = {q.id: q for q in mmlu.load(os.environ.get("MMLU_ML_SOURCE", "hf:cais/mmlu"), list(SUBJECTS),
                                      ["test"]).questions}
print("lang  questions  first s  again s  flagged  manifest")
for folder in sorted((board / "translations" / "local").iterdir()):
    if not (folder / "test.jsonl").is_file():  # a language piloted (its dev shots only): nothing scored to check
        continue
    pairs = [(english[q.id], q) for q in map(Question.from_json, read_jsonl(folder / "test.jsonl"))]
    lang = load().select(folder.name)[0]
    times = []
    for _ in range(2):
        began = time.perf_counter()
        found = flagged_questions(pairs, lang)
        times.append(time.perf_counter() - began)
    counted = json.loads((folder / "test.manifest.json").read_text(encoding="utf-8"))["checks"]["flagged"]
    print(f"{folder.name:<5} {len(pairs):>9} {times[0]:>8.2f} {times[1]:>8.2f} {len(found):>8} "
          f"{counted['questions']:>9}")
