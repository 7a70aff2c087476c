"""Translations already written under <out>/translations/ stand in for the cache when it is empty.

A results folder travels (committed, as results/published/ is; copied to another machine) where the sqlite cache
does not. When a split file there was written by the same translator fingerprint, with the same glossary and
the same units to send (a digest of each question's cache keys, in the manifest), its questions are taken back
unit by unit, as the cache would give them, so a fresh clone re-translates nothing
already published and a larger --limit sends only the new questions.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..core import cache, records
from ..core.artifacts import TranslationSet
from ..core.errors import MmluMlError
from ..core.languages import Language


def unit_digests(plan, split: str, key_of: dict, waiting, fingerprint: dict, lang: Language, spans_of) -> dict:
    """Per question of `split`, a short hash of the cache keys of the units it sends first (its question and the
    options not waiting for context): it changes when any of them would be sent differently (protected spans,
    glossary hints), and then that question is translated again, not reused."""
    held = {(q.id, c) for _, q, c in waiting}
    units = {q.id: [key_of.get((q.id, q.question), q.question)]
             + [key_of.get((q.id, c), c) for c in q.choices if (q.id, c) not in held] for q in plan.questions[split]}
    keys = cache.keys_for(fingerprint, "en", lang.code, sorted({u for us in units.values() for u in us}), spans_of)
    return {i: hashlib.sha256("".join(keys[u] for u in us).encode()).hexdigest()[:16] for i, us in units.items()}


def effort(manifest: dict) -> dict:
    """What a split's translation cost in all, over the runs whose output it holds (a manifest written before
    runs were added up: its own run)."""
    if isinstance(manifest.get("effort"), dict):
        return manifest["effort"]
    return {"duration_s": manifest.get("duration_s", 0.0), "chars_sent": (manifest.get("chars") or {}).get("sent", 0)}


def _same(manifest: dict, fingerprint: dict, glossary) -> bool:
    if manifest.get("translator") != fingerprint or "glossary" not in manifest:
        return False
    mine = glossary.describe()["sha256"] if glossary is not None else None
    theirs = (manifest.get("glossary") or {}).get("sha256")
    return mine == theirs


class Written:
    """The questions (id -> Question) and instruction lines of a language's earlier output that may be reused."""

    def __init__(self, out: Path, translator: str, lang: Language, digests: dict[str, dict], fingerprint: dict,
                 glossary):
        self.questions: dict[str, records.Question] = {}
        self.instructions: dict[str, dict[str, str]] = {}
        self._earlier: dict[str, tuple[dict, int, int]] = {}  # split -> (its effort, questions held, taken back)
        self._machines: dict[str, list] = {}
        tset = TranslationSet(out, translator, lang.code)
        for split, digest in digests.items():
            try:
                manifest = tset.manifest(split, None) or {}  # its own earlier output: a damaged one is made again
                if not _same(manifest, fingerprint, glossary):
                    continue
                then = manifest.get("units") or {}
                taken = {q.id: q for q in tset.questions(split, "translate it again").values()
                         if then.get(q.id) is not None and then.get(q.id) == digest.get(q.id)}
                self.questions.update(taken)
                self._earlier[split] = (effort(manifest), len(then), len(taken))
                if taken:  # the machines that made what is taken back (a manifest from before they were recorded)
                    self._machines[split] = manifest.get("machines") or [{"unrecorded": True}]
            except (OSError, ValueError, KeyError, TypeError, MmluMlError):  # a torn line, a damaged row
                continue  # unreadable or torn: translated again, never trusted
        if self.questions:  # a kind that is not an object of lines is translated again
            self.instructions = {kind: lines for kind, lines in (tset.instructions(None) or {}).items()
                                 if isinstance(lines, dict)}

    def seed(self, plan, key_of: dict, done: dict[str, str], waiting) -> int:
        """Put the written translation of every unit sent first (questions, options not waiting for context,
        instruction lines) into `done`; returns how many units it gave."""
        before = len(done)
        held = {(q.id, c) for _, q, c in waiting}
        for split in plan.splits:
            for q in plan.questions[split]:
                old = self.questions.get(q.id)
                if old is None:
                    continue
                done.setdefault(key_of.get((q.id, q.question), q.question), old.question)
                for c, translated in zip(q.choices, old.choices):
                    if (q.id, c) not in held:
                        done.setdefault(key_of.get((q.id, c), c), translated)
        retranslated = self.instructions.get("retranslated", {})  # a line's first translation, as the cache holds it
        for kind, lines in plan.instructions.items():
            for subject, line in lines.items():
                if subject in self.instructions.get(kind, {}):
                    record = retranslated.get(f"{kind}/{subject}")
                    first = record.get("first") if isinstance(record, dict) else None
                    done.setdefault(line, first if isinstance(first, str) else self.instructions[kind][subject])
        return len(done) - before

    def effort(self, split: str, duration_s: float, chars_sent: int) -> dict:
        """This run's time and characters plus those of the earlier runs behind what `split` took back, in
        proportion to the share of their questions taken: a split written piece by piece (growing --subjects),
        or taken back whole by a fresh clone, keeps its whole cost."""
        earlier, held, taken = self._earlier.get(split, ({}, 0, 0))
        share = taken / held if held else 0.0
        return {"duration_s": round(duration_s + share * earlier.get("duration_s", 0.0), 3),
                "chars_sent": round(chars_sent + share * earlier.get("chars_sent", 0))}

    def machines(self, split: str, here: dict | None) -> list:
        """The machines behind `split` as it will be written: those of what it took back, and this one if it made
        any of it (`here`, None when this run sent nothing for the split)."""
        out = list(self._machines.get(split, []))
        if here is not None and here not in out:
            out.append(here)
        return out

    def seed_option(self, q, c: str, unit: str, done: dict[str, str]) -> None:
        """An option sent with its question's translation: its unit is made only once that translation is known."""
        old = self.questions.get(q.id)
        if old is not None:
            done.setdefault(unit, old.choices[q.choices.index(c)])
