"""Dataset loader of the lm-evaluation-harness tasks `mmlu-ml export lm-eval` writes (copied there as utils.py).

One task reads one language's questions of one subject: its test questions and, for the 5 shots, its dev ones.
They come from the hub-ready dataset folder beside this file (`dataset/`), or from a hub copy of it named by the
metadata key `dataset`: `TaskManager(metadata={"dataset": "user/repo"})`, or on the command line
`lm_eval --metadata '{"dataset": "user/repo"}' ...`.
"""

from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def _language(dataset: str, language: str):
    """Every split of a language and each subject's rows in it, loaded once for all the language's tasks."""
    import datasets

    splits = datasets.load_dataset(dataset, language)
    rows: dict = {}
    for name, split in splits.items():
        for i, subject in enumerate(split["subject"]):
            rows.setdefault(name, {}).setdefault(subject, []).append(i)
    return splits, rows


def load(language=None, subject=None, dataset=None, **_metadata):
    import datasets

    if not language or not subject:
        raise ValueError("mmlu-ml tasks need metadata {'language': ..., 'subject': ...} (each task's YAML sets it)")
    splits, rows = _language(str(dataset or HERE / "dataset"), language)
    return datasets.DatasetDict({name: split.select(rows.get(name, {}).get(subject, []))
                                 for name, split in splits.items()})
