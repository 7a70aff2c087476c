"""The stages called as the command line calls them: flat options (source, subjects, splits, limit, out,
cache_dir) made into the Selection and Places objects by cli.chosen, the rest passed on."""

from __future__ import annotations

from mmlu_ml.cli import chosen
from mmlu_ml.evaluate import stage as evaluate_stage
from mmlu_ml.translate import stage as translate_stage

FLAT = {"source": None, "subjects": "all", "splits": "test", "limit": None, "out": "results", "cache_dir": "cache"}


def _objects(kwargs: dict) -> tuple:
    flat = {**FLAT, **{k: kwargs.pop(k) for k in FLAT if k in kwargs}}
    return chosen(flat)


def run_translate(**kwargs):
    return translate_stage.run_translate(*_objects(kwargs), **kwargs)


def run_evaluate(**kwargs):
    return evaluate_stage.run_evaluate(*_objects(kwargs), **kwargs)
