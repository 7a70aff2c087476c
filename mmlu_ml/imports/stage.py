"""The `import` command: a translated MMLU made elsewhere, in our translations/ layout, checked.

Every language and split is read, aligned and checked before anything is written; then the whole set goes to
a temporary folder beside `<out>/translations/<name>/` and is renamed into place, so a refused set leaves
nothing behind and a re-import replaces the splits it reads.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import pandas as pd

from .. import __version__
from ..core import mmlu, paths, records, registry
from ..core.artifacts import TranslationSet, translate_command
from ..core.errors import MmluMlError
from ..core.languages import Language, load as load_languages
from ..core.subjects import SPLITS, SUBJECTS
from .align import Aligned, align
from .formats import FORMATS


class Format(Protocol):
    """A reader of one published layout (formats/)."""

    name: str
    licence: str
    by: str                      # how its rows find their English question: "id" or "position"
    splits: tuple[str, ...]      # the MMLU splits it translates

    # the set's own locale names present in `source` -> languages.yaml codes
    def locales(self, source: str) -> dict[str, str]: ...

    # one locale and split as the standard table of imports/sources.py, and where it came from; None if absent
    def read(self, source: str, locale: str, split: str) -> tuple[pd.DataFrame, str] | None: ...

    # what identifies exactly the data read: the files' sha256, or the hub dataset and its revision
    def provenance(self, source: str) -> dict: ...


def _wanted(fmt: Format, source: str, languages: str | None, table) -> dict[str, Language]:
    """locale -> Language, for the languages asked for (codes or the set's own locale names)."""
    present = fmt.locales(source)
    if not present:
        raise MmluMlError(f"found no {fmt.name} files in {source}; check the path, or pick the format that matches it")
    known = {loc: table.languages[code] for loc, code in present.items() if code in table.languages and code != "en"}
    if not languages:
        if not known:
            raise MmluMlError(f"{source} holds no language that languages.yaml knows ({', '.join(present)})")
        return known
    out = {}
    for part in (p.strip() for p in languages.split(",") if p.strip()):
        if part in present:  # the set's own name (FR_FR, ZH_CN)
            loc = part
        else:
            code = table.select(part)[0].code if part not in ("gpt4", "mmmlu", "global_mmlu", "all") else None
            if code is None:
                raise MmluMlError(f"--languages takes codes or {fmt.name} locale names here, not {part!r}")
            found = next((loc for loc, c in present.items() if c == code), None)
            if found is None:
                raise MmluMlError(f"{source} has no {fmt.name} translation of {code}; it has: "
                                  + ", ".join(f"{c} ({loc})" if c != loc else c for loc, c in present.items()))
            loc = found
        code = present[loc]
        if code not in table.languages:
            raise MmluMlError(f"{fmt.name} locale {loc} is {code!r}, which languages.yaml does not know; "
                              f"valid: {', '.join(table.languages)}")
        if code == "en":
            raise MmluMlError("English is the source, not a translation; leave en out of --languages")
        out[loc] = table.languages[code]
    return out


def _splits(fmt: Format, splits: str | None) -> list[str]:
    if not splits:
        return list(fmt.splits)
    chosen = mmlu.parse_list(splits, SPLITS, "split")
    other = [s for s in chosen if s not in fmt.splits]
    if other:
        raise MmluMlError(f"{fmt.name} translates {', '.join(fmt.splits)}, not {', '.join(other)}; "
                          f"choose --splits among those")
    return chosen


def _manifest(fmt: Format, name: str, provenance: dict, english, lang: Language, split: str, aligned: Aligned,
              checks: dict, where: str) -> dict:
    fingerprint = {"backend": "import", "format": fmt.name,
                   **{k: v for k, v in provenance.items() if k != "path"}}
    return {
        "tool_version": __version__, "translator": fingerprint, "imported": {
            "name": name, "format": fmt.name, "from": where, "licence": fmt.licence, **provenance,
            "alignment": aligned.report, "tags": sorted({k for t in aligned.tags.values() for k in t})},
        "source": english.source, "source_hash": english.source_hash, "language": lang.code, "split": split,
        "counts": {"questions": len(aligned.questions), **aligned.report["counts"]},
        "coverage": aligned.report["coverage"], "checks": checks,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def run_import(fmt: str, source: str, languages: str | None = None, splits: str | None = None,
               name: str | None = None, out: str | Path = "results", mmlu_source: str | None = None,
               instructions_from: str | None = None, subjects: str | None = None) -> list[dict]:
    """Read, align, check, then write; returns one summary row per language and split (`translator`: the name
    it was written under)."""
    from ..core.checks import check_language

    reader: Format = registry.load(FORMATS, fmt, "import format")()
    name = paths.component(name or reader.name, "--as name")
    table = load_languages()
    chosen_splits = _splits(reader, splits)
    wanted = _wanted(reader, source, languages, table)
    # MMMLU's positions count through all 57 subjects: a subset is for sets (and tests) that hold just those
    english = mmlu.load(mmlu_source, mmlu.parse_list(subjects or "all", SUBJECTS, "subject"), chosen_splits)
    by_split = {s: english.by_split(s) for s in chosen_splits}
    provenance = reader.provenance(source)
    done: list[tuple[Language, str, list[records.Question], dict, dict[str, dict]]] = []
    rows = []
    for loc, lang in wanted.items():
        for split in chosen_splits:
            got = reader.read(source, loc, split)
            if got is None:
                continue
            frame, where = got
            aligned = align(frame.assign(split=frame["split"].replace("", split)), by_split, where, reader.by)
            questions = [replace(q, language=lang.code) for q in aligned.questions]
            english_of = {q.id: q for q in by_split[split]}
            checks = check_language([(english_of[q.id], q) for q in questions], lang)
            done.append((lang, split, questions, _manifest(reader, name, provenance, english, lang, split,
                                                           aligned, checks, where), aligned.tags))
            counts = aligned.report["counts"]
            rows.append({"language": lang.code, "split": split, "translator": name, "rows": counts["rows"], "matched": counts["matched"],
                         "missing": counts["missing"], "extra": counts["extra"],
                         "left_out": counts["answer_mismatch"] + counts["subject_mismatch"],
                         "numbers": counts["number_mismatch"],
                         "coverage": aligned.report["coverage"], "flagged": ",".join(checks.get("failed", [])) or "-"})
    if not done:
        raise MmluMlError(f"{source} holds no {'/'.join(chosen_splits)} rows for "
                          f"{', '.join(l.code for l in wanted.values())}; check --splits and --languages")
    _write(Path(out), name, done, instructions_from)
    return rows


def _write(out: Path, name: str, done, instructions_from: str | None) -> None:
    target = out / "translations" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        for lang, split, questions, manifest, tags in done:
            staged = TranslationSet.at(staging / paths.component(lang.code, "language"), name, lang.code)
            if instructions_from:
                lines = TranslationSet(out, instructions_from, lang.code).instructions_file
                if not lines.is_file():
                    raise MmluMlError(f"--instructions-from {instructions_from}: {lines} is missing; translate "
                                      "the instruction lines first ("
                                      + translate_command(lang.code, instructions_from, "dev", limit=3) + ")")
                staged.folder.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(lines, staged.instructions_file)
                manifest["imported"]["instructions_from"] = instructions_from
            rows = ({**q.to_json(), **({"tags": tags[q.id]} if q.id in tags else {})} for q in questions)
            staged.write_split(split, rows, manifest)
        # file by file, so importing one split keeps the language's other splits
        for path in sorted(staging.glob("*/*")):
            final = target / path.parent.name / path.name
            final.parent.mkdir(parents=True, exist_ok=True)
            path.replace(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
