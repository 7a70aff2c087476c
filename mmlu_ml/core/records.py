"""Records the stages hand each other, and the JSONL files that hold them.

Writers are crash-safe: whole files are written to a temporary name and renamed; appends go one line at a
time and a reader skips a torn last line, so a process killed mid-write leaves nothing that looks valid
and is not.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .errors import MmluMlError
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


_WRITE_FIX = {
    errno.ENOSPC: "free space on its disk and run again (what was written before is kept)",
    errno.EDQUOT: "free space within your disk quota and run again",
    errno.EFBIG: "the file exceeds the size limit (see `ulimit -f`); raise it and run again",
    errno.EACCES: "make its folder writable or pass another --out",
    errno.EPERM: "make its folder writable or pass another --out",
    errno.EROFS: "its disk is read-only; pass another --out",
    errno.EEXIST: "a file stands where a folder is expected; move it away or pass another --out",
    errno.ENOTDIR: "a file stands where a folder is expected; move it away or pass another --out",
    errno.EISDIR: "a folder stands where the file goes; move it away or pass another --out",
}


def cannot_write(path: Path, exc: OSError) -> MmluMlError:
    """The one line for a write the system refused (a full disk, a read-only folder, a file too large)."""
    fix = _WRITE_FIX.get(exc.errno or 0, "check that its folder can be written and run again")
    return MmluMlError(f"cannot write {path} ({exc.strerror or type(exc).__name__}); {fix}")


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see either the old file or the whole new one; a write the system
    refuses is one line (cannot_write), leaving the old file as it was."""
    path = Path(path)
    try:
        _write_atomic(path, text)
    except OSError as exc:
        raise cannot_write(path, exc) from None


def _write_atomic(path: Path, text: str) -> None:
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


def read_jsonl(path: Path, fix: str = "delete or repair that line") -> Iterator[dict]:
    """Rows of a JSONL file; a torn last line (a killed writer, even one cut inside a UTF-8 character) is
    skipped; a middle line that is torn, not UTF-8 or not a JSON object is an error naming it, and `fix`."""
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    # A complete file ends in "\n", so the last element is b""; anything else there is a torn write, cut
    # before decoding so a character torn in half cannot stop every later run.
    for number, raw in enumerate(lines[:-1], start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise MmluMlError(f"{path}:{number}: not UTF-8 text (byte {exc.start + 1} of the line); {fix}") from None
        except json.JSONDecodeError as exc:
            raise MmluMlError(f"{path}:{number}: not valid JSON ({exc.msg}); {fix}") from None
        if not isinstance(row, dict):
            raise MmluMlError(f"{path}:{number}: not a JSON object ({type(row).__name__}); {fix}")
        yield row


class Appender:
    """Appends one JSON line per record and makes it durable before returning.

    Opening first truncates a torn tail left by a killed run, so the next line starts clean."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                data = self.path.read_bytes()
                cut = data.rfind(b"\n") + 1
                if cut != len(data):
                    with open(self.path, "r+b") as f:
                        f.truncate(cut)
            self._f = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise cannot_write(self.path, exc) from None

    def append(self, row: dict) -> None:
        try:
            self._f.write(dumps(row) + "\n")
            self._f.flush()
        except OSError as exc:
            self._cut()
            raise cannot_write(self.path, exc) from None

    def close(self) -> None:
        if self._f.closed:  # a refused write closed it already
            return
        try:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()
        except OSError as exc:
            self._cut()
            raise cannot_write(self.path, exc) from None

    def _cut(self) -> None:
        """After a refused write: drop what the buffer still holds, so closing cannot raise again."""
        try:
            self._f.close()
        except OSError:
            pass

    def __enter__(self) -> "Appender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

