"""What the format readers share: hub datasets through `datasets`, local files through pandas, the digest
that names exactly what was read, and the one-line error for a table in the wrong shape."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from ..core.errors import MmluMlError

STANDARD = ("split", "subject", "index", "position", "question", "A", "B", "C", "D", "answer", "tags")


def hub_id(source: str) -> str | None:
    """`hf:<id or local folder in the hub's layout>` -> the id; a plain path -> None."""
    return source[3:] if source.startswith("hf:") else None


def load_hub(dataset: str, config: str, split: str) -> pd.DataFrame | None:
    """One config and split through `datasets` (the hub, or a folder laid out as the hub lays it out);
    None when the dataset has no such config or split."""
    import datasets

    try:
        names = datasets.get_dataset_config_names(dataset)
    except Exception as exc:  # noqa: BLE001 - the hub client raises many kinds; all mean "cannot read it"
        raise MmluMlError(f"cannot read {dataset} through datasets ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split())[:160]}); check the id, the network or HF_TOKEN") from None
    if config not in names:
        return None
    try:
        return datasets.load_dataset(dataset, config, split=split).to_pandas()
    except ValueError as exc:
        if "split" in str(exc).lower():
            return None
        raise MmluMlError(f"cannot load {dataset} {config}/{split} ({' '.join(str(exc).split())[:160]})") from None


def hub_revision(dataset: str) -> str:
    """The dataset's commit on the hub, or `local` for a folder read in the hub's layout."""
    if Path(dataset).exists():
        return "local"
    try:
        from huggingface_hub import HfApi

        return HfApi().dataset_info(dataset).sha or "unknown"
    except Exception:  # noqa: BLE001 - the revision is provenance, not a reason to fail an import already read
        return "unknown"


def digest(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def require(table: pd.DataFrame, columns: Sequence[str], where: str, fmt: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise MmluMlError(f"{where} lacks column(s) {', '.join(missing)} (it has {', '.join(map(str, table.columns))}); "
                          f"it is not in the {fmt} layout: pick the format that matches it")


def read_table(path: Path, fmt: str) -> pd.DataFrame:
    """A CSV, parquet, JSON or JSONL file as a table of text; an empty or unreadable file is one line."""
    try:
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
        elif path.suffix == ".csv":
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            table = pd.read_json(path, lines=path.suffix == ".jsonl", dtype=False)
    except (ValueError, pd.errors.EmptyDataError, pd.errors.ParserError, OSError) as exc:
        raise MmluMlError(f"{path} is not a readable {path.suffix[1:]} file ({' '.join(str(exc).split())[:120]}); "
                          f"check it is a {fmt} file") from None
    if table.empty:
        raise MmluMlError(f"{path} holds no rows; an empty file cannot be imported")
    return table


def split_ids(ids: pd.Series, where: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """`<subject>/<split>/<row>` ids -> (subject, split, row); an id of another form is one line."""
    parts = ids.astype(str).str.rsplit("/", n=2, expand=True)
    if parts.shape[1] != 3 or parts[2].str.fullmatch(r"\d+").eq(False).any():
        raise MmluMlError(f"{where}: id {ids.iloc[0]!r} is not <subject>/<split>/<row>; "
                          "these rows cannot be lined up with MMLU")
    return parts[0], parts[1], parts[2].astype(int)


def standard(table: pd.DataFrame, **columns) -> pd.DataFrame:
    """The readers' common table: `columns` maps a standard column to a Series or a constant."""
    out = pd.DataFrame(index=table.index)
    for name in STANDARD:
        value = columns.get(name, None if name == "tags" else ("" if name in ("subject", "split") else -1))
        out[name] = value
    for letter in ("question", "A", "B", "C", "D", "answer"):
        out[letter] = out[letter].astype(str).str.strip() if letter == "answer" else out[letter].astype(str)
    return out.reset_index(drop=True)
