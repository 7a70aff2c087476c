"""Cohere's Global-MMLU and Global-MMLU-Lite: MMLU dev and test in 42 languages, with per-question metadata
(Apache-2.0).

Hub `CohereForAI/Global-MMLU` (or `-Lite`), one config per language code, splits `dev` and `test`; files
`<lang>/<split>-*.parquet`. Rows carry their English question's id in `sample_id` (`<subject>/<split>/<row>`,
the row of the English CSV), and the metadata that the Global-MMLU paper reports by: the cultural sensitivity
label (CS culturally sensitive, CA agnostic), required knowledge, time sensitivity, region, country.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..sources import digest, hub_id, hub_revision, load_hub, read_table, require, split_ids, standard

# codes the set uses that differ from languages.yaml's
LOCALES = {"pt": "pt-BR"}
KNOWN = ("am ar bn cs de el en es fa fil fr ha he hi id ig it ja ko ky lt mg ms ne nl ny pl pt ro ru si sn so "
         "sr sv sw te tr uk vi yo zh").split()
TAGS = ("cultural_sensitivity_label", "required_knowledge", "time_sensitive", "region", "country", "culture",
        "is_annotated")


class GlobalMMLU:
    name = "global-mmlu"
    licence = "Apache-2.0 (Cohere Global-MMLU)"
    by = "id"
    splits = ("dev", "test")

    def _files(self, source: str, locale: str | None = None, split: str | None = None) -> list[Path]:
        root = Path(source)
        pattern = f"{locale or '*'}/{split or ''}*.parquet"
        return sorted(root.glob(pattern)) + sorted(root.glob(f"data/{pattern}"))

    def locales(self, source: str) -> dict[str, str]:
        codes = KNOWN if hub_id(source) else sorted({p.parent.name for p in self._files(source)})
        return {code: LOCALES.get(code, code) for code in codes}

    def read(self, source: str, locale: str, split: str) -> tuple[pd.DataFrame, str] | None:
        dataset = hub_id(source)
        if dataset:
            table, where = load_hub(dataset, locale, split), f"{dataset} {locale}/{split}"
            if table is None:
                return None
        else:
            files = [p for p in self._files(source, locale, split) if p.name.split("-")[0].split(".")[0] == split]
            if not files:
                return None
            table = pd.concat([read_table(p, self.name) for p in files], ignore_index=True)
            where = str(files[0]) if len(files) == 1 else f"{Path(source) / locale}/{split}-*.parquet"
        require(table, ("sample_id", "subject", "question", "option_a", "option_b", "option_c", "option_d",
                        "answer"), where, self.name)
        subject, split_of, index = split_ids(table["sample_id"], where)
        # "-" is the label of a question nobody annotated
        tags = table[[c for c in TAGS if c in table.columns]].astype(str).replace({"-": "unannotated"}).to_dict("records")
        return standard(table, split=split_of, subject=subject, index=index,
                        question=table["question"], A=table["option_a"], B=table["option_b"],
                        C=table["option_c"], D=table["option_d"], answer=table["answer"],
                        tags=pd.Series(tags, index=table.index)), where

    def provenance(self, source: str) -> dict:
        dataset = hub_id(source)
        if dataset:
            return {"dataset": dataset, "revision": hub_revision(dataset)}
        return {"path": source, "sha256": digest(self._files(source))}
