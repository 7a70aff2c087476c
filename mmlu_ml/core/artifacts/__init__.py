"""The files the stages hand each other, read and written here and nowhere else.

- `translations`: a translation set, `<out>/translations/<translator>/<lang>/`: `<split>.jsonl` (questions),
  `<split>.manifest.json` (provenance, counts, checks) and `instructions.json` (the prompt lines).
- `results`: what evaluate writes and report reads: predictions, scores.csv and its sibling tables (columns
  named once), the signature of a score, evaluation.manifest.json.
- `commands`: the command that makes (or remakes) a file, for the errors that name it.

One error policy for a reader: a missing or damaged file is a one-line MmluMlError naming the file and the
command that remakes it. A writer that reads back its own earlier output to extend it (a translate run taking
back its splits) reads it leniently instead: a damaged file of its own is made again, never trusted. Not so
evaluation.manifest.json, which holds every model's records: damaged, it stops evaluate too.
"""

from .commands import evaluate_command, translate_command
from .results import (CATEGORY_COLUMNS, CHECK_COLUMNS, PAIRED_COLUMNS, SCORE_COLUMNS, TAG_COLUMNS,
                      TRANSLATOR_COLUMNS, Score, Signature, latest_rows, read_evaluation_manifest, read_predictions)
from .translations import TranslationSet, translation_sets

__all__ = ["CATEGORY_COLUMNS", "CHECK_COLUMNS", "PAIRED_COLUMNS", "SCORE_COLUMNS", "TAG_COLUMNS",
           "TRANSLATOR_COLUMNS", "Score", "Signature", "TranslationSet", "evaluate_command", "latest_rows",
           "read_evaluation_manifest", "read_predictions", "translate_command", "translation_sets"]
