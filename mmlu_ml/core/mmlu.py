"""Load English MMLU from one of three sources into `Question` records.

Sources (`--source`, or MMLU_ML_SOURCE):
  hf:<id or local path>   a dataset in the layout of `cais/mmlu` on the Hugging Face hub (config `all`,
                          splits dev / validation / test), read through `datasets`
  <folder>                the original CSVs: dev/ val/ test/, `<subject>_<split>.csv`, headerless
                          question,A,B,C,D,answer
  <file>.tar[.gz]         a tar of that folder (a top-level directory inside is fine)
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .errors import MmluMlError
from .records import LETTERS, Question
from .subjects import SPLITS, SUBJECTS

DEFAULT_SOURCE = "hf:cais/mmlu"
_HF_SPLIT = {"dev": "dev", "val": "validation", "test": "test"}
_MEMBER = re.compile(r"(?:^|/)(dev|val|test)/([a-z_]+)_(dev|val|test)\.csv$")


@dataclass
class Dataset:
    """Questions of one source, plus a hash of the bytes they came from (recorded in every manifest)."""

    source: str
    questions: list[Question]
    source_hash: str

    def by_split(self, split: str) -> list[Question]:
        return [q for q in self.questions if q.split == split]


def decode_csv(data: bytes, where: str) -> str:
    """The text of a source CSV: UTF-8, a byte-order mark at its head dropped (never read into the first question)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise MmluMlError(f"{where}:{line}: not UTF-8 text (byte {exc.start + 1}); save it as UTF-8") from None


def parse_csv(text: str, subject: str, split: str, where: str) -> list[Question]:
    """Rows of one original CSV. `where` names the file in error messages."""
    out: list[Question] = []
    reader = csv.reader(io.StringIO(text))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:  # a field over the csv module's limit (an unclosed quote), a NUL byte
        raise MmluMlError(f"{where}:{reader.line_num}: {exc}; look for an unclosed quote at or before that line "
                          "and close it") from None
    for line, row in rows:
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 6:
            raise MmluMlError(f"{where}:{line}: expected 6 fields (question,A,B,C,D,answer), found {len(row)}; "
                              "fix the row or quote fields that contain commas")
        answer = row[5].strip()
        if answer not in LETTERS:
            raise MmluMlError(f"{where}:{line}: answer {answer!r} is not one of A, B, C, D; fix the last field")
        out.append(Question(subject=subject, split=split, index=len(out), question=row[0],
                            choices=(row[1], row[2], row[3], row[4]), answer=answer))
    if not out:
        raise MmluMlError(f"{where}: no questions in this file; restore it or leave the subject out with --subjects")
    return out


def _check_names(subject: str, split: str, fname_split: str, where: str) -> None:
    if split != fname_split:
        raise MmluMlError(f"{where}: file of split {fname_split!r} inside folder {split!r}; move it to {fname_split}/")
    if subject not in SUBJECTS:
        raise MmluMlError(f"{where}: unknown subject {subject!r}; file names must be <subject>_<split>.csv "
                          "with one of the 57 MMLU subjects (see `mmlu-ml data`)")


def _want(subject: str, split: str, subjects: Sequence[str], splits: Sequence[str]) -> bool:
    return subject in subjects and split in splits


def load_folder(root: Path, subjects: Sequence[str], splits: Sequence[str]) -> Dataset:
    if not root.is_dir():
        raise MmluMlError(f"source folder {root} does not exist; pass --source with a folder holding dev/ val/ test/")
    missing = [s for s in splits if not (root / s).is_dir()]
    if missing:
        raise MmluMlError(f"source folder {root} has no {', '.join(s + '/' for s in missing)}; "
                          "it must hold dev/ val/ test/ with <subject>_<split>.csv files")
    questions, digest = [], hashlib.sha256()
    for split in splits:
        for subject in subjects:
            path = root / split / f"{subject}_{split}.csv"
            if not path.exists():
                raise MmluMlError(f"{path} is missing; restore it or choose other --subjects")
            data = path.read_bytes()
            digest.update(f"{split}/{subject}\0".encode() + hashlib.sha256(data).digest())
            questions += parse_csv(decode_csv(data, str(path)), subject, split, str(path))
    return Dataset(str(root), questions, digest.hexdigest())


def load_tar(path: Path, subjects: Sequence[str], splits: Sequence[str]) -> Dataset:
    if not path.is_file():
        raise MmluMlError(f"source archive {path} does not exist; pass --source with a .tar of the CSV folder")
    try:
        tar = tarfile.open(path)
    except tarfile.TarError as exc:
        raise MmluMlError(f"{path} is not a readable tar archive ({exc}); pass a .tar of dev/ val/ test/") from None
    found: dict[tuple[str, str], bytes] = {}
    names: dict[tuple[str, str], str] = {}
    with tar:
        for member in tar:
            m = _MEMBER.search(member.name)
            if not member.isfile() or not m:
                continue
            split, subject, fname_split = m.groups()
            _check_names(subject, split, fname_split, f"{path}:{member.name}")
            if _want(subject, split, subjects, splits):
                if (split, subject) in names:  # which copy is the data? never the last one silently
                    raise MmluMlError(f"{path}:{member.name}: a second copy of {split}/{subject}_{split}.csv (the "
                                      f"first is {names[(split, subject)]}); remove one of them from the archive")
                names[(split, subject)] = member.name
                member_file = tar.extractfile(member)
                assert member_file is not None  # a regular file (isfile above) always has one
                found[(split, subject)] = member_file.read()
    questions, digest = [], hashlib.sha256()
    for split in splits:
        for subject in subjects:
            if (split, subject) not in found:
                raise MmluMlError(f"{path} has no {split}/{subject}_{split}.csv; add it or choose other --subjects")
            data = found[(split, subject)]
            digest.update(f"{split}/{subject}\0".encode() + hashlib.sha256(data).digest())
            where = f"{path}:{split}/{subject}_{split}.csv"
            questions += parse_csv(decode_csv(data, where), subject, split, where)
    return Dataset(str(path), questions, digest.hexdigest())


def load_hf(name: str, subjects: Sequence[str], splits: Sequence[str]) -> Dataset:
    """A hub id (`cais/mmlu`) or a local folder in the same layout, through `datasets`.

    Rows of config `all` are grouped by subject in the original CSV order, so a running count per
    (subject, split) recovers the CSV row index that ids use."""
    try:
        import datasets
    except ImportError:
        raise MmluMlError("the hf: source needs the `datasets` package; pip install datasets") from None
    local = Path(name)
    try:
        ds = datasets.load_dataset(str(local) if local.exists() else name, "all")
    except Exception as exc:  # the hub unreachable, a wrong id, a malformed local folder
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MmluMlError(f"cannot load {name!r} through datasets ({first[:200]}); "
                          "pass --source with a folder of MMLU CSVs when offline") from None
    questions, digest = [], hashlib.sha256(f"hf:{name}:{getattr(ds, '_fingerprint', '')}".encode())
    for split in splits:
        if _HF_SPLIT[split] not in ds:
            raise MmluMlError(f"{name} has no split {_HF_SPLIT[split]!r}; it has {', '.join(ds)}")
        counters: dict[str, int] = {}
        for row in ds[_HF_SPLIT[split]]:
            subject = row["subject"]
            index = counters.get(subject, 0)
            counters[subject] = index + 1
            if subject not in subjects:
                continue
            answer = row["answer"]
            letter = LETTERS[answer] if isinstance(answer, int) and 0 <= answer < 4 else str(answer)
            if letter not in LETTERS or len(row["choices"]) != 4:
                raise MmluMlError(f"{name}:{split}:{subject}/{index}: answer {answer!r} or choices malformed; "
                                  "each row needs 4 choices and an answer 0-3")
            q = Question(subject=subject, split=split, index=index, question=row["question"],
                         choices=tuple(row["choices"]), answer=letter)
            digest.update(repr(q).encode())
            questions.append(q)
        absent = [s for s in subjects if s not in counters]
        if absent:
            raise MmluMlError(f"{name} split {split} has no rows for {', '.join(absent[:5])}; choose other --subjects")
    return Dataset(f"hf:{name}", questions, digest.hexdigest())


def load(source: str | None, subjects: Sequence[str] = SUBJECTS, splits: Sequence[str] = SPLITS) -> Dataset:
    """Load `source`: every question of its subjects and splits (core/options.Selection keeps the first N)."""
    source = source or os.environ.get("MMLU_ML_SOURCE") or DEFAULT_SOURCE
    if source.startswith("hf:"):
        ds = load_hf(source[3:], subjects, splits)
    elif source.endswith((".tar", ".tar.gz", ".tgz")):
        ds = load_tar(Path(source), subjects, splits)
    else:
        ds = load_folder(Path(source), subjects, splits)
    return ds


def parse_list(value: str | Iterable[str] | None, valid: Sequence[str], what: str) -> list[str]:
    """`a,b,c` (or `all`) -> a checked list; unknown names fail with the valid choices."""
    if value is None or value == "" or value == "all":
        return list(valid)
    items = [v.strip() for v in (value.split(",") if isinstance(value, str) else value) if v.strip()]
    bad = [v for v in items if v not in valid]
    if bad:
        shown = ", ".join(valid) if len(valid) <= 12 else ", ".join(valid[:8]) + f", ... ({len(valid)} in all)"
        raise MmluMlError(f"unknown {what} {', '.join(map(repr, bad))}; valid: {shown}")
    return list(dict.fromkeys(items))
