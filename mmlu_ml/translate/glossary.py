"""Subject term bases: the terms a string holds, with the translation its subject gives them.

A small model translates a term in its everyday sense: group "order" came back as 顺序 (sequence) where algebra
writes 阶. A translator that takes hints (`takes_hints(target)`, the `local` one) gets each string's entries as
exchanges before it, so the model has just "translated" the term itself. The hints travel inside the string
the stage sends (mmlu_ml.translate.in_context.encode), so they are part of its cache key: a string without a term keeps
its row, and editing an entry re-sends only the strings holding it. The entries are data (glossary.yaml, or
`--glossary FILE` in the same shape); see that file's header for the format.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..core import protect
from ..core.errors import MmluMlError
from ..core.subjects import SUBJECTS

DEFAULT_PATH = Path(__file__).resolve().parent / "glossary.yaml"
MAX_HINTS = 4  # a text with more terms gets its first four: each hint is one more exchange in the prompt


@dataclass(frozen=True)
class Entry:
    term: str
    translation: str
    pattern: re.Pattern = field(compare=False, repr=False)


@dataclass(frozen=True)
class Glossary:
    path: str
    sha256: str
    entries: dict  # language code -> subject ("*": every subject) -> [Entry], longest term first

    def hints(self, text: str, subject: str, language: str) -> tuple[tuple[str, str], ...]:
        """(term, translation) for the entries `text` holds, in the order they appear. A term inside a longer
        one that matched ("group" in "factor group") gives no hint of its own, nor does a term inside a span the
        translator must keep (code, formulas: mmlu_ml.core.protect), nor any term of a string the stage copies."""
        by_subject = self.entries.get(language)
        if not by_subject or protect.is_untranslatable(text):
            return ()
        candidates = sorted(by_subject.get(subject, []) + by_subject.get("*", []), key=lambda e: -len(e.term))
        kept = protect.intervals(text)
        taken: list[tuple[int, int, Entry]] = []
        for entry in candidates:
            for m in entry.pattern.finditer(text):
                if not any(m.start() < end and start < m.end() for start, end, _ in taken) \
                        and not any(m.start() < end and start < m.end() for start, end in kept):
                    taken.append((m.start(), m.end(), entry))
                    break
        seen, out = set(), []
        for _, _, entry in sorted(taken, key=lambda t: t[0]):
            if entry.term not in seen:
                seen.add(entry.term)
                out.append((entry.term, entry.translation))
        return tuple(out[:MAX_HINTS])

    def describe(self) -> dict:
        """What a manifest records: which term base, and its exact content."""
        return {"path": self.path, "sha256": self.sha256,
                "entries": {lang: sum(map(len, subjects.values())) for lang, subjects in self.entries.items()}}


def _pattern(term: str) -> re.Pattern:
    words = r"\s+".join(re.escape(w) for w in term.split())
    return re.compile(rf"(?<![\w-]){words}(?:s|es)?(?![\w-])", re.IGNORECASE)


def parse(text: str, path: str) -> Glossary:
    def bad(problem: str) -> MmluMlError:
        return MmluMlError(f"glossary {path}: {problem}; fix it (see mmlu_ml/translate/glossary.yaml's header for the shape)")

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise bad(f"not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise bad("expected a mapping of language codes")
    entries: dict = {}
    for lang, subjects in data.items():
        if not isinstance(subjects, dict):
            raise bad(f"{lang}: expected a mapping of subjects")
        for subject, terms in subjects.items():
            if subject != "*" and subject not in SUBJECTS:
                raise bad(f"{lang}: unknown subject {subject!r} (an MMLU subject such as abstract_algebra, or '*')")
            if not isinstance(terms, dict) or not terms:
                raise bad(f"{lang}.{subject}: expected a mapping of English terms to translations")
            for term, translation in terms.items():
                if not isinstance(term, str) or not term.strip() or not isinstance(translation, str) \
                        or not translation.strip():
                    raise bad(f"{lang}.{subject}: {term!r}: term and translation must be non-empty text")
                entries.setdefault(str(lang), {}).setdefault(subject, []).append(
                    Entry(term.strip(), translation.strip(), _pattern(term.strip())))
    return Glossary(path, hashlib.sha256(text.encode("utf-8")).hexdigest(), entries)


def load(choice: str | None) -> Glossary | None:
    """The built-in term base (None or "default"), none at all ("none"), or the file at `choice`."""
    if choice == "none":
        return None
    path = DEFAULT_PATH if choice in (None, "default") else Path(choice)
    if not path.is_file():
        raise MmluMlError(f"glossary file {path} does not exist; pass an existing YAML file, 'default' or 'none'")
    return parse(path.read_text(encoding="utf-8"), str(path) if path != DEFAULT_PATH else "default")
