"""The command that makes a stage's files, as a user would type it: every "make it with" hint is built here."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..options import DEFAULT_OUT



def _out(out: Path | str | None) -> list[str]:
    return [] if out is None or Path(out) == DEFAULT_OUT else [f"--out {out}"]


def translate_command(language: str, translator: str, splits: Sequence[str] | str,
                      subjects: Sequence[str] | None = None, limit: int | None = None, source: str | None = None,
                      out: Path | str | None = None) -> str:
    """`mmlu-ml translate ...` for one language; `subjects` None means all of them."""
    splits = splits if isinstance(splits, str) else ",".join(splits)
    parts = ["mmlu-ml translate", f"--translator {translator}", f"--languages {language}", f"--splits {splits}"]
    if subjects:
        parts.append(f"--subjects {','.join(subjects)}")
    if limit is not None:
        parts.append(f"--limit {limit}")
    if source:
        parts.append(f"--source {source}")
    return " ".join(parts + _out(out))


def evaluate_command(out: Path | str) -> str:
    """`mmlu-ml evaluate --out <out>`, the command that writes scores.csv and its siblings."""
    return f"mmlu-ml evaluate --out {out}"
