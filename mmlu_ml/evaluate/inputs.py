"""What the evaluate stage scores, per language: the questions, the shots and the instruction lines.

English comes from the source itself; every other language from the translate stage's files
(`<out>/translations/<translator>/<lang>/<split>.jsonl` and `instructions.json`). A translation that is
missing, incomplete or disagrees with the source's answer keys is refused with the exact command that makes it,
before any model is loaded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..core import artifacts, templates
from ..core.artifacts import TranslationSet
from ..core.errors import MmluMlError
from ..core.options import Places, Selection
from ..core.languages import Language
from ..core.paths import component
from ..core.protocols import Protocol
from ..core.records import Question
from ..core.subjects import pretty


@dataclass
class LanguageInput:
    language: Language
    questions: list[Question]  # scored, in source order; answers are the source's
    shots: dict[str, list[Question]]  # subject -> first dev questions
    instructions: dict | None  # instructions.json of the translation (None for English)
    translator: str = "source"
    translator_fingerprint: dict | None = None
    files: list[str] = field(default_factory=list)
    tags: dict[str, dict] = field(default_factory=dict)  # id -> an imported set's per-question metadata


def translate_command(selection: Selection, places: Places, code: str, translator: str, shots: int) -> str:
    """The command that makes what this selection needs of a language, its shots included."""
    needed = selection.with_shots(shots)
    return artifacts.translate_command(code, translator, needed.splits,
                                       None if needed.all_subjects else needed.subjects, needed.limit,
                                       needed.source, places.out if places.out_given else None)


def _choose_translator(selection: Selection, places: Places, code: str, wanted: str | None, shots: int) -> str:
    root = places.out / "translations"
    present = [t.translator for t in artifacts.translation_sets(places.out, code)]
    if wanted:
        if component(wanted, "translator") not in present:
            raise MmluMlError(f"no {wanted} translation of {code} under {root}; make it with: "
                              + translate_command(selection, places, code, wanted, shots))
        return component(wanted, "translator")
    if not present:
        raise MmluMlError(f"no translation of {code} under {root}; make it with: "
                          + translate_command(selection, places, code, "local", shots))
    if len(present) > 1:
        raise MmluMlError(f"{code} has translations by {', '.join(present)}; pick one with --eval-translator")
    return present[0]


def _read_split(tset: TranslationSet, split: str, fix: str, tags: dict[str, dict]) -> dict[str, Question]:
    out = {}
    for row in tset.rows(split, fix):
        out[row["id"]] = Question.from_json(row)
        if isinstance(row.get("tags"), dict):
            tags[row["id"]] = row["tags"]
    return out


def _check(needed: Sequence[Question], have: dict[str, Question], where: Path, fix: str) -> list[Question]:
    """The translated version of each needed source question, refusing gaps and changed answer keys."""
    missing = [q.id for q in needed if q.id not in have]
    if missing:
        raise MmluMlError(f"{where} lacks {len(missing)} of {len(needed)} questions (first: {missing[0]}); "
                          f"complete it with: {fix}")
    changed = [q.id for q in needed if have[q.id].answer != q.answer]
    if changed:  # a translation must never move the answer key (a known failure of translated MMLU sets)
        raise MmluMlError(f"{where}: {len(changed)} answer keys differ from the source (first: {changed[0]}); "
                          f"delete it and translate again with: {fix}")
    return [have[q.id] for q in needed]


def load_language(language: Language, scored: Sequence[Question], dev: Sequence[Question], protocol: Protocol,
                  selection: Selection, places: Places, eval_translator: str | None) -> LanguageInput:
    shots_needed = [q for q in dev if q.index < protocol.shots]
    if language.code == "en":
        return LanguageInput(language, list(scored), _by_subject(shots_needed), None)
    code = language.code
    translator = _choose_translator(selection, places, code, eval_translator, protocol.shots)
    tset = TranslationSet(places.out, translator, code)
    fix = translate_command(selection, places, code, translator, protocol.shots)
    by_split: dict[str, list[Question]] = defaultdict(list)
    for q in scored:
        by_split[q.split].append(q)
    if shots_needed:
        by_split.setdefault("dev", [])
    # a set imported from elsewhere may lack rows its translator dropped: it is scored on the questions it has,
    # and its shots are the first dev questions it has of each subject (the import states its coverage)
    imported = tset.imported(by_split, fix)
    translated: dict[str, Question] = {}
    files: list[str] = []
    tags: dict[str, dict] = {}
    for split in by_split:
        path = tset.split_file(split)
        have = _read_split(tset, split, fix, tags)
        need = by_split[split] + ([q for q in shots_needed if q.split == split] if split == "dev" else [])
        if imported:
            need = [q for q in need if q.id in have]
            if split == "dev":
                need += _first_shots(dev, have, protocol.shots)
        for q in _check(need, have, path, fix):
            translated[q.id] = q
        files.append(str(path))
    if imported:
        shots_needed = _first_shots(dev, translated, protocol.shots)
    instructions = None
    if protocol.translated_instruction:
        instructions = tset.instructions(fix)
        if instructions is None and imported:
            instructions = english_instructions(scored)
        elif instructions is None:
            raise MmluMlError(f"{tset.instructions_file} is missing; make it with: {fix}")
        kind = protocol.instruction_kind
        lacking = sorted({q.subject for q in scored} - set((instructions.get(kind) or {})))
        if lacking:
            raise MmluMlError(f"{tset.instructions_file} has no {kind!r} line for {lacking[0]} ({len(lacking)} subjects); "
                              f"make it with: {fix}")
    return LanguageInput(
        language, [translated[q.id] for q in scored if q.id in translated],
        _by_subject([translated[q.id] for q in shots_needed]), instructions, translator,
        tset.fingerprint(by_split, fix), files, {q.id: tags[q.id] for q in scored if q.id in tags})


def _first_shots(dev: Sequence[Question], have: dict, shots: int) -> list[Question]:
    """The first `shots` dev questions of each subject that `have` holds."""
    taken: dict[str, int] = defaultdict(int)
    out = []
    for q in sorted(dev, key=lambda q: (q.subject, q.index)):
        if q.id in have and taken[q.subject] < shots:
            taken[q.subject] += 1
            out.append(q)
    return out


def english_instructions(scored: Sequence[Question]) -> dict:
    """The English prompt lines, for an imported set that brings none (`import --instructions-from` copies ours)."""
    subjects = sorted({q.subject for q in scored})
    lines = {kind: {s: template.format(subject=pretty(s)) for s in subjects}
             for kind, template in templates.KINDS.items()}
    return lines | {"english": True}


def _by_subject(questions: Sequence[Question]) -> dict[str, list[Question]]:
    out: dict[str, list[Question]] = defaultdict(list)
    for q in sorted(questions, key=lambda q: (q.subject, q.index)):
        out[q.subject].append(q)
    return dict(out)
