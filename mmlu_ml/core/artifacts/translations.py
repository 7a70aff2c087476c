"""A translation set: one translator's files for one language, `<out>/translations/<translator>/<lang>/`.

`<split>.jsonl` holds the questions (Question.to_json rows, an imported set's `tags` beside them),
`<split>.manifest.json` what made them (the translator's fingerprint, the source's hash, counts, checks, cost),
`instructions.json` the subject's prompt lines per kind (and, for checked lines, their back-translations).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from .. import records
from ..errors import MmluMlError
from ..paths import component, translations_dir
from ..records import LETTERS, Question
from ..subjects import SUBJECTS

_ROW_KEYS = ("id", "subject", "question", "choices", "answer")


def row_problem(row, split: str) -> str | None:
    """What is wrong with one row of `<split>.jsonl`, or None."""
    if not isinstance(row, dict):
        return "not a JSON object"
    missing = [k for k in _ROW_KEYS if k not in row]
    if missing:
        return f"missing {', '.join(missing)}"
    if row["subject"] not in SUBJECTS:
        return f"unknown subject {row['subject']!r}"
    parts = str(row["id"]).rsplit("/", 2)
    if len(parts) != 3 or parts[0] != row["subject"] or parts[1] != split or not parts[2].isdigit():
        return f"id {row['id']!r} is not {row['subject']}/{split}/<index>"
    if not isinstance(row["question"], str):
        return "question is not a string"
    choices = row["choices"]
    if not isinstance(choices, list) or len(choices) != 4 or not all(isinstance(c, str) for c in choices):
        return "choices must be 4 strings"
    if row["answer"] not in LETTERS:
        return f"answer {row['answer']!r} is not one of A, B, C, D"
    return None


def _json_object(path: Path, fix: str | None) -> dict | None:
    """A JSON object file: None when absent. Damaged: an error naming `fix`, or (fix None: the writer reading
    its own earlier file) None, so it is made again."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: JSONDecodeError and UnicodeDecodeError
        if fix is None:
            return None
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        raise MmluMlError(f"{path} is not valid JSON ({detail}); make it again with: {fix}") from None
    if not isinstance(data, dict):
        if fix is None:
            return None
        raise MmluMlError(f"{path} is not a JSON object; make it again with: {fix}")
    return data


class TranslationSet:
    """The files of one (translator, language); `fix` in the readers is the command that remakes them."""

    def __init__(self, out: Path | str, translator: str, language: str):
        self.out, self.translator, self.language = Path(out), translator, language
        self.folder = translations_dir(self.out, translator, language)

    @classmethod
    def at(cls, folder: Path, translator: str, language: str) -> "TranslationSet":
        """One written somewhere else first (an import's staging folder, moved into place when all is written)."""
        tset = cls(".", translator, language)
        tset.folder = Path(folder)
        return tset

    def __repr__(self) -> str:
        return f"TranslationSet({self.folder})"

    def split_file(self, split: str) -> Path:
        return self.folder / f"{split}.jsonl"

    def manifest_file(self, split: str) -> Path:
        return self.folder / f"{split}.manifest.json"

    @property
    def instructions_file(self) -> Path:
        return self.folder / "instructions.json"

    # -- readers ---------------------------------------------------------------------------------------------

    def rows(self, split: str, fix: str) -> list[dict]:
        """The rows of `<split>.jsonl`, each checked; a missing file, a bad row or a repeated id is an error."""
        path = self.split_file(split)
        if not path.is_file():
            raise MmluMlError(f"{path} is missing; make it with: {fix}")
        rows = list(records.read_jsonl(path, f"make it again with: {fix}"))
        seen: set[str] = set()
        for number, row in enumerate(rows, start=1):
            problem = row_problem(row, split)
            if problem is None and row["id"] in seen:
                problem = f"id {row['id']} appears twice"
            if problem:
                raise MmluMlError(f"{path}:{number}: {problem}; make it again with: {fix}")
            seen.add(row["id"])
        return rows

    def questions(self, split: str, fix: str) -> dict[str, Question]:
        """id -> Question of a split, in file order."""
        return {row["id"]: Question.from_json(row) for row in self.rows(split, fix)}

    def manifest(self, split: str, fix: str | None) -> dict | None:
        """`<split>.manifest.json`, None when there is none; `fix` None: read leniently (see _json_object)."""
        return _json_object(self.manifest_file(split), fix)

    def instructions(self, fix: str | None) -> dict | None:
        """instructions.json ({kind: {subject: line}, ...}), None when there is none."""
        return _json_object(self.instructions_file, fix)

    def fingerprint(self, splits: Iterable[str], fix: str | None) -> dict | None:
        """The translator fingerprint the translate stage recorded: a scored split's manifest first, dev last."""
        for split in sorted(splits, key=lambda s: s == "dev"):
            manifest = self.manifest(split, fix)
            if manifest is not None:
                found = manifest.get("translator")
                return found if isinstance(found, dict) else None
        return None

    def imported(self, splits: Iterable[str], fix: str | None) -> bool:
        """Whether these splits came in through `mmlu-ml import` (their manifest says so)."""
        return any("imported" in (self.manifest(split, fix) or {}) for split in splits)

    # -- writers ---------------------------------------------------------------------------------------------

    def write_split(self, split: str, rows: Iterable[dict], manifest: dict) -> None:
        """The split's questions, then its manifest (each file atomic)."""
        records.write_jsonl(self.split_file(split), rows)
        records.write_json(self.manifest_file(split), manifest)

    def write_instructions(self, lines: dict) -> None:
        records.write_json(self.instructions_file, lines)


def translation_sets(out: Path | str, language: str | None = None) -> list[TranslationSet]:
    """Every translation set under `<out>/translations/` (of one language when given), by translator name."""
    root = Path(out) / "translations"
    if not root.is_dir():
        return []
    pattern = f"*/{component(language, 'language')}" if language else "*/*"
    return [TranslationSet(out, p.parent.name, p.name) for p in sorted(root.glob(pattern)) if p.is_dir()]


def manifests(out: Path | str, fix: str) -> list[tuple[TranslationSet, str, dict]]:
    """(set, split, manifest) of every split written under `<out>/translations/`; a damaged one is an error."""
    found = []
    for tset in translation_sets(out):
        for path in sorted(tset.folder.glob("*.manifest.json")):
            split = path.name.split(".")[0]
            manifest = tset.manifest(split, fix)
            if manifest is not None:
                found.append((tset, split, manifest))
    return found


