"""Okapi's multilingual MMLU: ChatGPT (gpt-3.5-turbo) translations of MMLU dev and val into 31 languages
(CC BY-NC 4.0, research use only); the project serves dev, val and test files, the copy in
../shared/reference dev and val.

Read from files named `<lang>_<split>.json` or `.jsonl` (a JSON list or one object a line): the aligned copy
(`subject`, `split`, `index` with index the row of the English CSV, `question`, `A`..`D`, `answer`), or the
project's own field names (`id` as `<subject>/<split>/<row>`, `instruction`, `option_a`..`option_d`).
Rows the translation dropped are simply absent: the import states its coverage.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ...core.errors import MmluMlError
from ..sources import digest, hub_id, hub_revision, load_hub, read_table, split_ids, standard

_FILE = re.compile(r"^([a-z]{2,3}(?:-[A-Za-z]+)?)_(dev|val|test)\.jsonl?$")
_ALIASES = {"question": ("question", "instruction"), "A": ("A", "option_a"), "B": ("B", "option_b"),
            "C": ("C", "option_c"), "D": ("D", "option_d"), "answer": ("answer",)}


def _column(table: pd.DataFrame, name: str, where: str) -> pd.Series:
    for alias in _ALIASES[name]:
        if alias in table.columns:
            return table[alias]
    raise MmluMlError(f"{where} lacks column {' or '.join(_ALIASES[name])} (it has {', '.join(map(str, table.columns))}); "
                      "it is not in the okapi layout: pick the format that matches it")


class Okapi:
    name = "okapi"
    licence = "CC BY-NC 4.0 (Okapi; research use only)"
    by = "id"
    splits = ("dev", "val", "test")

    def _files(self, source: str) -> dict[tuple[str, str], Path]:
        found = {}
        for path in sorted(Path(source).rglob("*.json*")):
            m = _FILE.match(path.name)
            if m:
                found[(m.group(1), m.group(2))] = path
        return found

    def locales(self, source: str) -> dict[str, str]:
        if hub_id(source):
            import datasets

            return {c: c for c in datasets.get_dataset_config_names(hub_id(source))}
        return {lang: lang for lang, _ in self._files(source)}

    def read(self, source: str, locale: str, split: str) -> tuple[pd.DataFrame, str] | None:
        dataset = hub_id(source)
        if dataset:
            table, where = load_hub(dataset, locale, split), f"{dataset} {locale}/{split}"
        else:
            path = self._files(source).get((locale, split))
            table, where = (read_table(path, self.name), str(path)) if path else (None, "")
        if table is None:
            return None
        if "id" in table.columns:
            subject, row_split, index = split_ids(table["id"], where)
        elif {"subject", "index"} <= set(table.columns):
            subject, index = table["subject"].astype(str), pd.to_numeric(table["index"], errors="raise").astype(int)
            row_split = table["split"].astype(str) if "split" in table.columns else split
        else:
            raise MmluMlError(f"{where} has neither an id column nor subject and index; it is not in the okapi "
                              "layout, and rows without their English id cannot be lined up")
        return standard(table, split=row_split, subject=subject, index=index,
                        **{c: _column(table, c, where) for c in ("question", "A", "B", "C", "D", "answer")}), where

    def provenance(self, source: str) -> dict:
        dataset = hub_id(source)
        if dataset:
            return {"dataset": dataset, "revision": hub_revision(dataset)}
        return {"path": source, "sha256": digest(self._files(source).values())}
