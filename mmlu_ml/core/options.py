"""What a run is about and where it keeps things, built once from the command line (cli.py) and handed to the
stages as two objects: the questions selected, and the folders for results and caches."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from . import mmlu
from .mmlu import Dataset
from .records import Question
from .subjects import SPLITS, SUBJECTS

DEFAULT_OUT = Path("results")


@dataclass(frozen=True)
class Selection:
    """The questions selected: a source, its subjects and splits, and the first `limit` of each subject and
    split (None: all of them)."""

    source: str | None = None
    subjects: tuple[str, ...] = tuple(SUBJECTS)
    splits: tuple[str, ...] = ("test",)
    limit: int | None = None

    @classmethod
    def parse(cls, source: str | None = None, subjects: str | None = "all", splits: str | None = "test",
              limit: int | None = None) -> "Selection":
        """From the command line's text (`all` or names separated by commas); a wrong name is a one-line error."""
        return cls(source, tuple(mmlu.parse_list(subjects, SUBJECTS, "subject")),
                   tuple(mmlu.parse_list(splits, SPLITS, "split")), limit)

    @property
    def all_subjects(self) -> bool:
        return set(self.subjects) == set(SUBJECTS)

    def keeps(self, q: Question) -> bool:
        """Whether `q` is among the first `limit` of its subject and split (the ids count from 0 in each)."""
        return self.limit is None or q.index < self.limit

    def load(self, shots: int = 0) -> tuple[Dataset, list[Question], list[Question]]:
        """(the source read, the selected questions, the dev questions a `shots`-shot prompt may take)."""
        splits = list(dict.fromkeys([*self.splits, *(["dev"] if shots else [])]))
        ds = mmlu.load(self.source, list(self.subjects), splits)
        scored = [q for q in ds.questions if q.split in self.splits and self.keeps(q)]
        return ds, scored, [q for q in ds.questions if q.split == "dev"]

    def dataset(self) -> Dataset:
        """The source read, holding just the selected questions."""
        ds, questions, _ = self.load()
        return Dataset(ds.source, questions, ds.source_hash)

    # The shots rule: a few-shot prompt takes the first `shots` dev questions of its subject, so a translation
    # scored with it must hold them too.

    def with_shots(self, shots: int) -> "Selection":
        """One selection that holds this one and the shots (what a "make it with" hint names)."""
        if not shots:
            return self
        splits = self.splits if "dev" in self.splits else ("dev", *self.splits)
        return replace(self, splits=splits, limit=None if self.limit is None else max(self.limit, shots))

    def translations_for(self, shots: int) -> list["Selection"]:
        """What to translate for a `shots`-shot protocol, at least cost: the shots alone when dev is not scored,
        then the selection itself (its dev cut no shorter than the shots)."""
        if not shots:
            return [self]
        if "dev" not in self.splits:
            return [replace(self, splits=("dev",), limit=shots), self]
        return [self.with_shots(shots)]


@dataclass(frozen=True)
class Places:
    """Where results are written (`out`) and caches kept (`cache_dir`)."""

    out: Path = DEFAULT_OUT
    cache_dir: Path = Path("cache")

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))

    @property
    def out_given(self) -> bool:
        """Whether a command that names this folder needs `--out` (not for the default)."""
        return self.out != DEFAULT_OUT
