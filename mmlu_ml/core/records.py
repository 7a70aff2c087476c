"""Records the stages hand each other, and the JSONL files that hold them.

Writers are crash-safe: whole files are written to a temporary name and renamed; appends go one line at a
time and a reader skips a torn last line, so a process killed mid-write leaves nothing that looks valid
and is not.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .subjects import CATEGORY

LETTERS = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Question:
    """One MMLU item. `id` is `subject/split/index`, index the 0-based row of the original CSV
    (the scheme Okapi and Global-MMLU use), so translations made elsewhere line up."""

    subject: str
    split: str
    index: int
    question: str
    choices: tuple[str, str, str, str]
    answer: str  # "A".."D"
    language: str = "en"

    @property
    def id(self) -> str:
        return f"{self.subject}/{self.split}/{self.index}"

    @property
    def category(self) -> str:
        return CATEGORY[self.subject]

    def to_json(self) -> dict:
        return {
            "id": self.id, "subject": self.subject, "split": self.split, "language": self.language,
            "question": self.question, "choices": list(self.choices), "answer": self.answer,
        }

    @classmethod
    def from_json(cls, row: dict) -> "Question":
        subject, split, index = row["id"].rsplit("/", 2)
        return cls(subject=subject, split=split, index=int(index), question=row["question"],
                   choices=tuple(row["choices"]), answer=row["answer"], language=row.get("language", "en"))


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False)


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see either the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are meant to be read by others
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj) -> None:
    write_atomic(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def read_json_dict(path: Path) -> dict:
    """A JSON object file a run rewrites (a manifest): none yet, unreadable or not an object reads as {}, so the
    run writes it anew instead of stopping."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # ValueError covers JSONDecodeError and UnicodeDecodeError
        return {}
    return data if isinstance(data, dict) else {}


def same_but(a: dict, b: dict, volatile: Iterable[str] = ("created", "duration_s")) -> bool:
    """Two manifests that differ at most in when and how long: a run that changed nothing else keeps the old one,
    so regenerating a finished board leaves every file as it was."""
    volatile = set(volatile)
    return ({k: v for k, v in a.items() if k not in volatile} == {k: v for k, v in b.items() if k not in volatile})


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    write_atomic(path, "".join(dumps(r) + "\n" for r in rows))


def read_jsonl(path: Path) -> Iterator[dict]:
    """Rows of a JSONL file; a torn last line (a killed writer) is skipped, a torn middle line is an error."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    # A complete file ends in "\n", so the last element is "" ; anything else there is a torn write.
    for number, line in enumerate(lines[:-1], start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                from .errors import MmluMlError
                raise MmluMlError(f"{path}:{number}: not valid JSON ({exc.msg}); delete or repair that line") from None


class Appender:
    """Appends one JSON line per record and makes it durable before returning.

    Opening first truncates a torn tail left by a killed run, so the next line starts clean."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            data = self.path.read_bytes()
            cut = data.rfind(b"\n") + 1
            if cut != len(data):
                with open(self.path, "r+b") as f:
                    f.truncate(cut)
        self._f = open(self.path, "a", encoding="utf-8")

    def append(self, row: dict) -> None:
        self._f.write(dumps(row) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()

    def __enter__(self) -> "Appender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

