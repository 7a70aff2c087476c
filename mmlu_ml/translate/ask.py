"""The requests the instruction-line checks make beyond the plan (`translate.instructions`): back into English,
a line again from its variant. Answers come from an earlier instructions.json, the cache, or the translator, paced
under the run's budget and counted toward its bill."""

from __future__ import annotations

import sys

from tqdm import tqdm

from ..core import cache as cache_mod
from ..core.languages import Language
from . import instructions
from .plan import Plan, spans_for
from .translators.base import Translator


def usage_of(tr: Translator) -> dict:
    """What the translator says it sent and billed so far, for the calling thread ({} when it keeps no count)."""
    return tr.usage()


def settle_lines(plan: Plan, tr, english: Language, lang: Language, db, pacer, done: dict, written,
                  run_checks: bool):
    """The lines to write, their checks' report (None when unchecked) and what the checks asked of the translator
    (`Asker`): `translate.instructions`."""
    translated = {kind: {s: done[line] for s, line in lines.items()} for kind, lines in plan.instructions.items()}
    seeded = instructions.seeds(written.instructions, english, lang) if written is not None else {}
    ask = Asker(tr, db, pacer, seeded)
    if not run_checks or db is None:
        return translated, None, ask
    return (*instructions.settle(plan.instructions, translated, ask, english, lang), ask)


class Asker:
    """Translations the line checks need beyond the plan (back into English, a line again from its variant):
    from an earlier instructions.json, the cache, or the translator - paced like every request, cached, and
    counted (requests, characters, and what the service billed)."""

    def __init__(self, tr, db, pacer, seeded: dict):
        self.tr, self.db, self.pacer, self.seeded = tr, db, pacer, seeded
        self.fingerprint = tr.fingerprint() if db is not None else None
        self.requests = self.billed_chars = self.chars = self.strings = 0

    def __call__(self, texts: list[str], source: Language, target: Language) -> dict:
        texts = list(dict.fromkeys(t for t in texts if t))
        out = {t: self.seeded[source.code, target.code, t] for t in texts if (source.code, target.code, t)
               in self.seeded}
        need = [t for t in texts if t not in out]
        assert self.fingerprint is not None and self.db is not None, "asked only with a cache (settle_lines)"
        keys = cache_mod.keys_for(self.fingerprint, source.code, target.code, need, spans_for(self.tr))
        out.update(cache_mod.lookup(self.db, keys, need))
        todo = [t for t in need if t not in out]
        bar = tqdm(total=len(todo), desc=f"{(source if target.code == 'en' else target).code} lines checked ({self.tr.name})", unit="str", file=sys.stderr,
                   mininterval=0.5, dynamic_ncols=True, disable=not todo)
        for at in range(0, len(todo), self.tr.max_items):
            batch = todo[at:at + self.tr.max_items]
            chars = sum(map(self.tr.request_chars, batch))
            self.pacer.acquire(chars)
            before = usage_of(self.tr)
            try:
                result = self.tr.translate(batch, source, target)
            except Exception:  # a translator that goes one way only, a failed request: what could not be
                continue       # asked is left unjudged on that check (the report counts it), not a failed run
            finally:
                after = usage_of(self.tr)
                self.requests += after.get("requests", 0) - before.get("requests", 0) if after else 1
                self.billed_chars += after.get("billed_chars", 0) - before.get("billed_chars", 0) if after else 0
                self.chars, self.strings = self.chars + chars, self.strings + len(batch)
                bar.update(len(batch))
            got = {t: r for t, r in zip(batch, result) if isinstance(r, str)}
            self.db.put_many({keys[t]: r for t, r in got.items()})
            out.update(got)
        bar.close()
        return out
