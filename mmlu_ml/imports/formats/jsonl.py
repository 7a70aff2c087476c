"""A folder already in our own layout: `<lang>/<split>.jsonl` rows {"id", "subject", "split", "language",
"question", "choices", "answer"}, as the translate stage writes them; for translations made with another tool."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...core.errors import MmluMlError
from ..sources import digest, read_table, require, split_ids, standard


class OwnLayout:
    name = "jsonl"
    licence = "as its maker states"
    by = "id"
    splits = ("dev", "val", "test")

    def _files(self, source: str) -> list[Path]:
        return sorted(Path(source).glob("*/*.jsonl"))

    def locales(self, source: str) -> dict[str, str]:
        return {p.parent.name: p.parent.name for p in self._files(source)}

    def read(self, source: str, locale: str, split: str) -> tuple[pd.DataFrame, str] | None:
        path = Path(source) / locale / f"{split}.jsonl"
        if not path.is_file():
            return None
        table, where = read_table(path, self.name), str(path)
        require(table, ("id", "question", "choices", "answer"), where, self.name)
        if "language" in table.columns:
            other = table[table["language"].astype(str) != locale]
            if len(other):
                raise MmluMlError(f"{where}: {len(other)} rows are in language {other['language'].iloc[0]!r}, "
                                  f"not {locale!r}; keep one language per folder")
        if not table["choices"].map(lambda c: isinstance(c, list) and len(c) == 4).all():
            raise MmluMlError(f"{where}: every row's choices must be a list of 4 texts")
        subject, split_of, index = split_ids(table["id"], where)
        choices = pd.DataFrame(table["choices"].tolist(), columns=list("ABCD"))
        return standard(table, split=split_of, subject=subject, index=index,
                        question=table["question"], A=choices["A"], B=choices["B"], C=choices["C"], D=choices["D"],
                        answer=table["answer"], tags=table["tags"] if "tags" in table.columns else None), where

    def provenance(self, source: str) -> dict:
        return {"path": source, "sha256": digest(self._files(source))}
