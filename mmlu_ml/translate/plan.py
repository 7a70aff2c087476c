"""What the translate stage translates (the plan) and what it writes (split files, manifests, instructions,
the dry-run estimate and the summary table). The sending itself is in translate.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path


from .. import __version__
from ..core import cache, protect
from ..core.artifacts import TranslationSet
from . import in_context, instructions
from ..core.languages import Language
from ..core.mmlu import Dataset
from ..core.records import Question


@dataclass
class Plan:
    """The source questions per split, and the English prompt lines per subject."""

    dataset: Dataset
    subjects: list[str]
    splits: list[str]
    limit: int | None
    questions: dict[str, list[Question]] = field(default_factory=dict)
    instructions: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> subject -> line

    @classmethod
    def build(cls, dataset: Dataset, subjects: list[str], splits: list[str], limit: int | None) -> "Plan":
        plan = cls(dataset, subjects, splits, limit)
        plan.questions = {s: dataset.by_split(s) for s in splits}
        plan.instructions = instructions.english(subjects)
        return plan

    def instruction_strings(self) -> list[str]:
        return [line for kind in self.instructions.values() for line in kind.values()]

    def strings(self, split: str) -> list[str]:
        """Every string of `split` in order (question, then its 4 options); the first split also carries the
        instruction lines, so each string belongs to exactly one split's counts."""
        out = [s for q in self.questions[split] for s in (q.question, *q.choices)]
        if split == self.splits[0]:
            out += self.instruction_strings()
        return out

    def all_distinct(self) -> list[str]:
        return list(dict.fromkeys(s for split in self.splits for s in self.strings(split)))


def spans_for(tr):
    """For cache.keys_for: a translator that protects spans (`protects = True`) has each text's protected
    intervals in its cache keys, so a change to protect's rules re-translates only the strings whose spans
    it moves; its fingerprint's protect version covers only the form spans are sent in."""
    return _key_spans if tr.protects else None


def _key_spans(text: str) -> tuple:
    unit = in_context.decode(text)
    return protect.intervals(unit.text if unit else text)


def hints_of(glossary, q: Question, text: str, lang: str) -> tuple:
    """The glossary's (term, translation) pairs for one string of `q` (none without a glossary)."""
    return glossary.hints(text, q.subject, lang) if glossary is not None else ()


def first_pass(plan: Plan, lang: str, glossary, words: int) -> tuple[dict[str, list[str]], dict, list]:
    """What the stage sends first into `lang`: per split, in order and without repeats, the questions and
    options, each as it is or, holding a glossary term, as an in_context unit with its hints (`key_of` maps
    (question id, text) to that unit); the first split also carries the instruction lines. `waiting`:
    (split, question, option) for the options of at most `words` words, which go after their question's
    translation comes back (in_context.wants_context)."""
    key_of: dict = {}
    waiting: list = []

    def sent(q: Question, text: str) -> str:
        if h := hints_of(glossary, q, text, lang):
            key_of[q.id, text] = in_context.encode(text, hints=h)
        return key_of.get((q.id, text), text)

    texts = {}
    for split in plan.splits:
        out = []
        for q in plan.questions[split]:
            out.append(sent(q, q.question))
            for c in q.choices:
                if words and in_context.wants_context(c, words):
                    waiting.append((split, q, c))
                else:
                    out.append(sent(q, c))
        texts[split] = list(dict.fromkeys(out + (plan.instruction_strings() if split == plan.splits[0] else [])))
    return texts, key_of, waiting


def to_send(plan: Plan, tr, lang: Language, glossary, db, sizes, copied) -> dict:
    """The dry run's counts for one language: the strings a run would send, as it would send them (with glossary
    hints, options with their question), less those copied or found in the cache. An option waiting for a
    question that is not cached yet counts as one more string to send, as it will be."""
    words = tr.option_context(lang)
    texts, key_of, waiting = first_pass(plan, lang.code, glossary, words)
    first = list(dict.fromkeys(t for split in plan.splits for t in texts[split]))
    todo = [t for t in first if not copied(t)]
    fingerprint = tr.fingerprint()
    keys = cache.keys_for(fingerprint, "en", lang.code, todo, spans_for(tr))
    hits = cache.lookup(db, keys, todo) if db else {}
    done = {**{t: t for t in first if copied(t)}, **hits}
    # options whose question's translation is cached (so their unit is known), the rest
    known: dict[str, None] = {}
    unknown: dict[tuple[str, str, tuple], None] = {}
    for _, q, c in waiting:
        asked = key_of.get((q.id, q.question), q.question)
        h = hints_of(glossary, q, c, lang.code)
        if asked in done:
            known[in_context.encode(c, q.question, done[asked], h)] = None
        else:
            unknown[q.question, c, h] = None
    known_hits = cache.lookup(db, cache.keys_for(fingerprint, "en", lang.code, list(known), spans_for(tr)),
                              list(known)) if db else {}
    send = [t for t in todo if t not in hits] + [t for t in known if t not in known_hits]
    return {"distinct": len(first) + len(known) + len(unknown), "untranslatable": len(first) - len(todo),
            "cached": len(hits) + len(known_hits), "send": len(send) + len(unknown),
            "chars": sum(sizes[t] for t in send) + sum(sizes[c] for _, c, _ in unknown)}


def translated_questions(plan: Plan, split: str, lang: Language, done: dict[str, str],
                         key_of: dict | None = None) -> list[Question]:
    """The split's questions in `lang`; `key_of` maps (question id, text) to the unit a string was sent as
    (mmlu_ml.translate.in_context: glossary hints, an option in context), other strings being looked up as they are."""
    key_of = key_of or {}
    out = []
    for q in plan.questions[split]:
        question = done[key_of.get((q.id, q.question), q.question)]
        a, b, c, d = (done[key_of.get((q.id, choice), choice)] for choice in q.choices)
        out.append(Question(subject=q.subject, split=q.split, index=q.index, question=question,
                            choices=(a, b, c, d), answer=q.answer, language=lang.code))
    return out


def write_split(out: Path, translator: str, lang: Language, split: str, rows: list[Question], manifest: dict) -> Path:
    tset = TranslationSet(out, translator, lang.code)
    tset.write_split(split, (q.to_json() for q in rows), manifest)
    return tset.folder


def write_instructions(out: Path, translator: str, lang: Language, plan: Plan, settled: dict) -> None:
    """Merge this run's subjects into instructions.json (the lines, and what their checks read:
    `translate.instructions`), so runs over different subjects add up."""
    tset = TranslationSet(out, translator, lang.code)
    old = tset.instructions(None) or {}  # an unreadable old file, or part of one, is replaced
    parts = (*plan.instructions, "back", "retranslated")
    merged = {part: dict(old[part]) if isinstance(old.get(part), dict) else {} for part in parts}
    for kind in plan.instructions:
        merged[kind].update(settled[kind])
    for part in ("back", "retranslated"):  # this run's subjects: its records replace the old ones
        merged[part] = {k: v for k, v in merged[part].items() if k.split("/", 1)[-1] not in plan.subjects}
        merged[part].update(settled.get(part, {}))
    tset.write_instructions({part: dict(sorted(lines.items())) for part, lines in merged.items()
                             if lines or part in plan.instructions})


def manifest(plan: Plan, fingerprint: dict, lang: Language, split: str, counts: dict, chars: dict,
             requests: int, duration: float, checks: dict, glossary=None) -> dict:
    return {
        "tool_version": __version__, "translator": fingerprint,
        "glossary": glossary.describe() if glossary is not None else None, "source": plan.dataset.source,
        "source_hash": plan.dataset.source_hash, "language": lang.code, "split": split,
        "subjects": plan.subjects, "limit": plan.limit, "counts": counts, "chars": chars, "requests": requests,
        "duration_s": round(duration, 3), "checks": checks,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
