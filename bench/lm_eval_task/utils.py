"""Dataset loader for the mmlu_local lm-eval task: one subject's dev and test rows from the original CSVs
(headerless `question,A,B,C,D,answer`), in the fields lm-eval's mmlu task reads."""

import csv
from pathlib import Path


def load(subject=None, mmlu_dir=None, **_metadata):
    import datasets

    if not subject or not mmlu_dir:
        raise ValueError("mmlu_local needs metadata {'subject': ..., 'mmlu_dir': ...}")

    def rows(split):
        with open(Path(mmlu_dir) / split / f"{subject}_{split}.csv", newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                if len(row) == 6:
                    yield {"question": row[0], "choices": row[1:5], "answer": "ABCD".index(row[5].strip()),
                           "subject": subject, "subject_name": subject.replace("_", " ")}

    return datasets.DatasetDict({split: datasets.Dataset.from_list(list(rows(split))) for split in ("dev", "test")})
