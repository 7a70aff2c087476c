"""OpenAI's MMMLU: MMLU test translated by professional translators into 14 locales (MIT).

Hub `openai/MMMLU`, one config per locale, split `test`; files `test/mmlu_<LOCALE>.csv` (simple-evals reads the
same CSVs; the file names write the locale FR-FR). Columns: an unnamed index column, Question, A, B, C, D, Answer, Subject. There is no question id:
the index is the row's position in the English test set ordered by subject, then by row, and align.py checks
each row's subject, answer and numbers against the English question at that position.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..sources import digest, hub_id, hub_revision, load_hub, read_table, require, standard

LOCALES = {"AR_XY": "ar", "BN_BD": "bn", "DE_DE": "de", "ES_LA": "es", "FR_FR": "fr", "HI_IN": "hi",
           "ID_ID": "id", "IT_IT": "it", "JA_JP": "ja", "KO_KR": "ko", "PT_BR": "pt-BR", "SW_KE": "sw",
           "YO_NG": "yo", "ZH_CN": "zh"}
_FILE = re.compile(r"^mmlu_([A-Z]{2})[_-]([A-Z]{2})\.csv$")
_INDEX = ("Unnamed: 0", "", "index", "Index")
_JUNK = r"_test(?:\.csv|-).*$"  # some configs' Subject holds a file name: college_mathematics_test.csv_sw-KE.csv


class MMMLU:
    name = "mmmlu"
    licence = "MIT (OpenAI MMMLU)"
    by = "position"
    splits = ("test",)

    def _files(self, source: str) -> dict[str, Path]:
        found = {}
        for path in sorted(Path(source).rglob("mmlu_*.csv")):
            m = _FILE.match(path.name)
            if m:
                found[f"{m.group(1)}_{m.group(2)}"] = path
        return found

    def locales(self, source: str) -> dict[str, str]:
        if hub_id(source):
            return dict(LOCALES)
        return {loc: LOCALES.get(loc, loc) for loc in self._files(source)}

    def read(self, source: str, locale: str, split: str) -> tuple[pd.DataFrame, str] | None:
        if split != "test":
            return None
        dataset = hub_id(source)
        if dataset:
            table, where = load_hub(dataset, locale, "test"), f"{dataset} {locale}/test"
            if table is None:
                return None
            table = table.astype(str)
        else:
            path = self._files(source).get(locale)
            if path is None:
                return None
            table, where = read_table(path, self.name), str(path)
        require(table, ("Question", "A", "B", "C", "D", "Answer", "Subject"), where, self.name)
        index = next((c for c in _INDEX if c in table.columns), None)
        position = (pd.to_numeric(table[index], errors="coerce").fillna(-1).astype(int) if index is not None
                    else pd.Series(range(len(table)), index=table.index))
        return standard(table, split="test", subject=table["Subject"].astype(str).str.strip().str.replace(_JUNK, "", regex=True), position=position,
                        question=table["Question"], A=table["A"], B=table["B"], C=table["C"], D=table["D"],
                        answer=table["Answer"]), where

    def provenance(self, source: str) -> dict:
        dataset = hub_id(source)
        if dataset:
            return {"dataset": dataset, "revision": hub_revision(dataset)}
        return {"path": source, "sha256": digest(self._files(source).values())}
