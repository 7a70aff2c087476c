"""The translations an export reads: one translator's languages under <out>/translations/, each split checked
against its manifest, with what it covers, so a partial set leaves with its coverage stated (or is refused).

Every problem is found here, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core import artifacts, languages as languages_mod
from ..core.artifacts import TranslationSet
from ..core.errors import MmluMlError
from ..core.paths import component, translations_dir
from ..core.subjects import SPLITS, SUBJECTS

DEV_SHOTS = 5  # MMLU has 5 dev questions per subject, the mmlu5 prompt's shots


@dataclass
class Split:
    name: str
    rows: list[dict]  # the JSONL rows, in file (source) order
    manifest: dict
    path: Path

    @property
    def subjects(self) -> list[str]:
        return sorted({row["subject"] for row in self.rows})

    def per_subject(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row["subject"]] = counts.get(row["subject"], 0) + 1
        return counts

    def gaps(self) -> list[str]:
        """Why this split is not the whole of MMLU's; empty when it is."""
        out = []
        if len(self.subjects) < len(SUBJECTS):
            out.append(f"{self.name}: {len(self.subjects)} of {len(SUBJECTS)} subjects")
        if self.name == "dev":
            short = sorted(s for s, n in self.per_subject().items() if n < DEV_SHOTS)
            if short:
                out.append(f"dev: fewer than {DEV_SHOTS} shots for {len(short)} subjects (e.g. {short[0]})")
        elif self.manifest.get("limit") is not None:
            out.append(f"{self.name}: first {self.manifest['limit']} questions per subject")
        return out

    def coverage(self) -> dict:
        return {"questions": len(self.rows), "subjects": len(self.subjects), "of_subjects": len(SUBJECTS),
                "limit": self.manifest.get("limit"), "complete": not self.gaps()}


@dataclass
class LanguageSet:
    code: str
    translator: str  # the folder read (English always comes from `identity`, as `translate` writes it)
    folder: Path
    splits: dict[str, Split]  # in SPLITS order

    def gaps(self) -> list[str]:
        out = [] if "dev" in self.splits else ["no dev split (the mmlu5 prompt's shots)"]
        for split in self.splits.values():
            out += split.gaps()
        return out


def read(out: Path, translator: str, languages: str | None, strict: bool) -> list[LanguageSet]:
    """The languages asked for (default: every one the translator has), fully checked."""
    out = Path(out)
    root = out / "translations"
    name = component(translator, "translator")
    tdir = root / name
    present = _languages_in(tdir)
    if languages:
        codes = [lang.code for lang in languages_mod.load().select(languages)]
    else:
        codes = present
    if not codes:
        raise MmluMlError(f"no translations by {translator} under {root} ({_others(root)}); make one with: "
                          + _translate_command(out, translator, "de", "dev,test"))
    sets = []
    for code in codes:
        folder = translations_dir(out, translator, code)
        source_name = name
        if code not in present and code == "en" and name != "identity":
            folder, source_name = translations_dir(out, "identity", "en"), "identity"
        if not folder.is_dir() or not any(folder.glob("*.jsonl")):
            raise MmluMlError(f"no {translator} translation of {code} under {tdir}"
                              + (f" (it has: {', '.join(present)})" if present else f" ({_others(root)})")
                              + f"; make it with: {_translate_command(out, translator, code, 'dev,test')}")
        sets.append(_read_language(out, translator, code, source_name, folder))
    if strict:
        gaps = [f"{s.code}: {gap}" for s in sets for gap in s.gaps()]
        if gaps:
            raise MmluMlError(f"--strict: the translation is partial ({'; '.join(gaps[:4])}"
                              + (f"; {len(gaps) - 4} more" if len(gaps) > 4 else "")
                              + "); translate the rest, e.g. " + _translate_command(out, translator, sets[0].code,
                                                                                  "dev,test")
                              + ", or export without --strict to publish it with its coverage stated")
    return sets


def _languages_in(tdir: Path) -> list[str]:
    if not tdir.is_dir():
        return []
    return sorted(d.name for d in tdir.iterdir() if d.is_dir() and any(d.glob("*.jsonl")))


def _others(root: Path) -> str:
    made = sorted(d.name for d in root.iterdir() if _languages_in(d)) if root.is_dir() else []
    return f"translators there: {', '.join(made)}" if made else "none there yet"


def _translate_command(out: Path, translator: str, code: str, splits: str) -> str:
    return artifacts.translate_command(code, translator, splits, out=out)


def _read_language(out: Path, translator: str, code: str, source_name: str, folder: Path) -> LanguageSet:
    fix = _translate_command(out, source_name if source_name == "identity" else translator, code, "dev,test")
    tset = TranslationSet(out, source_name, code)
    if not tset.split_file("test").is_file():
        raise MmluMlError(f"{folder} has no test split (test.jsonl); make it with: "
                          + _translate_command(out, translator, code, "test"))
    splits = {split: _read_split(tset, split, fix) for split in SPLITS if tset.split_file(split).is_file()}
    return LanguageSet(code, source_name, folder, splits)


def _read_split(tset: TranslationSet, split: str, fix: str) -> Split:
    path, mpath = tset.split_file(split), tset.manifest_file(split)
    manifest = tset.manifest(split, fix)
    if manifest is None:
        raise MmluMlError(f"{path} has no manifest ({mpath.name}), so its provenance is unknown; "
                          f"make it again with: {fix}")
    if not isinstance(manifest.get("translator"), dict):
        raise MmluMlError(f"{mpath} lacks the translator fingerprint; make it again with: {fix}")
    rows = tset.rows(split, fix)
    counted = (manifest.get("counts") or {}).get("questions")
    if counted is not None and counted != len(rows):
        raise MmluMlError(f"{path} holds {len(rows)} questions but its manifest counted {counted}: it was changed "
                          f"after translation; make it again with: {fix}")
    return Split(split, rows, manifest, path)
