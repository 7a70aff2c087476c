"""Stage 1: translate MMLU splits into languages through a cache that never pays twice.

Per language: the distinct strings of the chosen splits (questions, options, the prompt lines per subject)
are looked up in `<cache_dir>/translations.sqlite`; strings with nothing to translate are copied; the rest
are packed into requests within the translator's limits, `concurrency` of them in flight, paced under the
hourly character budget, and each batch is written to the cache as it returns (translate/send.py). So a killed
run loses at most the batches in flight, and a re-run sends only what never came back. Splits are sent one
after another so each split's manifest counts exactly what it cost.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..core import cache as cache_mod, languages as languages_mod, locks, protect, registry, settings
from ..core.checks import check_language
from ..core.errors import MmluMlError
from ..core.languages import Language
from ..core.options import Places, Selection
from ..core.paths import component, translations_dir
from . import glossary as glossary_mod, in_context, instructions, translators
from .ask import settle_lines
from .pacing import Pacer, pack
from .plan import (Plan, first_pass, hints_of, manifest, spans_for, to_send, translated_questions,
                   write_instructions, write_split)
from .reuse import Written, unit_digests
from .send import LOOKUP_CHUNK, Bar, Flow, Memo, send
from .translators.base import Translator

# what every translator's constructor takes; its other keyword parameters are its --translator-args
COMMON_TRANSLATOR_ARGS = ("model", "cache_dir", "concurrency")


class TranslationFailed(MmluMlError):
    """Strings still failing after the backend's retries, or --strict checks: results written, exit 1. `rows`:
    the run's summary, as run_translate would have returned it."""

    exit_code = 1

    def __init__(self, message: str, rows: list[dict] | None = None):
        super().__init__(message)
        self.rows = rows or []


@dataclass
class Job:
    """What the languages of one run share: the plan, the translator, the cache, the pacing, the memos."""

    plan: Plan
    tr: Translator | None     # None when only English is asked for
    english: Language
    out: Path
    db_path: Path
    concurrency: int
    sizes: Memo               # text -> what it costs toward a request's limit, measured as strings are packed
    copied: Callable[[str], bool]  # nothing to translate in it (judged once per string, for every language)


def run_translate(selection: Selection, places: Places, languages: str, translator: str = "local",
                  translator_model: str | None = None, concurrency: int = 4, chars_per_hour: int = 40_000_000,
                  dry_run: bool = False, strict: bool = False, glossary: str | None = None,
                  translator_args: str | None = None) -> list[dict]:
    """Translate and write; returns the summary rows (one per language and split). See the module docstring.
    `glossary`: a term base file, "default" or "none" (mmlu_ml.translate.glossary); None is the built-in one for a
    translator that takes hints. `dry_run`: count what would be sent (rows of translate/plan.to_send), send
    nothing."""
    terms = glossary_mod.load(glossary)
    table = languages_mod.load()
    langs = table.select(languages)
    cls = registry.load(translators.TRANSLATORS, translator, "translator")
    extra = settings.parse(translator_args, cls, COMMON_TRANSLATOR_ARGS, "--translator-args", translator)
    english = table.languages["en"]
    foreign = [lang for lang in langs if lang.code != "en"]
    plan = Plan.build(selection.dataset(), list(selection.subjects), list(selection.splits), selection.limit)
    tr = cls(translator_model, places.cache_dir, concurrency=concurrency, **extra) if foreign else None
    if glossary not in (None, "none") and tr is not None and not tr.glossary:
        raise MmluMlError(f"--glossary: the {translator} translator takes no glossary hints (local does); "
                          "drop --glossary or use --translator local")
    measure = tr.request_chars if tr is not None else len
    job = Job(plan, tr, english, places.out, places.cache_dir / "translations.sqlite", concurrency,
              Memo(lambda t: measure(in_context.text_of(t))), Memo(protect.is_untranslatable).__getitem__)
    if dry_run:
        return _dry_run(job, langs, terms)
    if tr is not None:
        tr.preflight()  # a missing key fails before anything is written, English included
    summary = _translate(job, langs, terms, chars_per_hour)
    _refuse(summary, strict)
    return summary


def _dry_run(job: Job, langs: list[Language], terms) -> list[dict]:
    """What each language would send, from the cache as it is; nothing sent, nothing written."""
    plan, tr = job.plan, job.tr
    db = cache_mod.Cache(job.db_path, "translations") if tr is not None and job.db_path.exists() else None
    strings, distinct = sum(len(plan.strings(s)) for s in plan.splits), len(plan.all_distinct())
    rows = []
    for lang in langs:
        row = {"language": lang.code, "translator": "identity" if lang.code == "en" or tr is None else tr.name,
               "strings": strings, "distinct": distinct,
               "untranslatable": 0, "cached": 0, "send": 0, "chars": 0,
               "priced": lang.code != "en" and tr is not None and tr.bills_characters}
        if lang.code != "en" and tr is not None:
            row.update(to_send(plan, tr, lang, terms if tr.takes_hints(lang) else None, db, job.sizes, job.copied))
        rows.append(row)
    return rows


def _translate(job: Job, langs: list[Language], terms, chars_per_hour: int) -> list[dict]:
    """English (copied, through `identity`) and then each other language, one after another."""
    summary: list[dict] = []
    if job.english in langs:
        ident = registry.load(translators.TRANSLATORS, "identity", "translator")(None, None)
        with _held(job, ident, job.english, cached=False):
            summary += _Language(job, ident, job.english, None, None, None, Memo(len)).run(run_checks=False)
    foreign = [lang for lang in langs if lang.code != "en"]
    if foreign and job.tr is not None:
        db = cache_mod.Cache(job.db_path, "translations")
        pacer = Pacer(chars_per_hour)
        try:
            for lang in foreign:
                hinted = terms if job.tr.takes_hints(lang) else None
                with _held(job, job.tr, lang, cached=True):
                    summary += _Language(job, job.tr, lang, db, pacer, hinted, job.sizes).run(run_checks=True)
        finally:
            db.close()
    return summary


def _held(job: Job, tr: Translator, lang: Language, cached: bool) -> ExitStack:
    """The locks of one language's translation (core/locks.py): of the cache's strings of this translator and
    language, and of its set in the results folder, always in that order. A second run of the language waits,
    saying for whom, and then finds what the first paid for in the cache (or in the folder) and pays nothing."""
    stack = ExitStack()
    what = f"translating {lang.code} ({tr.name})"
    try:
        if cached:
            name = f"{job.db_path.name}.{component(tr.name, 'translator')}-{component(lang.code, 'language')}.lock"
            cache_dir = job.db_path.parent
            stack.enter_context(locks.held(job.db_path.with_name(name), f"{what} with the cache in {cache_dir}"))
        folder = translations_dir(job.out, tr.name, lang.code)
        stack.enter_context(locks.held(folder.with_name(f".{folder.name}.lock"), f"{what} in {job.out}"))
    except BaseException:
        stack.close()
        raise
    return stack


def _refuse(summary: list[dict], strict: bool) -> None:
    """Exit 1 (files written) for strings still failing, or with --strict for checks over their threshold."""
    failed = [r for r in summary if r["failed"]]
    if failed:
        raise TranslationFailed("failed after retries, split files not written: " + "; ".join(
            f"{r['language']}/{r['split']}: {r['failed']} strings (e.g. {', '.join(r['failed_ids'][:3])})"
            + (f" [{r['error']}]" if r.get("error") else "") for r in failed) + "; run the same command again to retry",
            summary)
    flagged = [r for r in summary if r["flagged"]]
    if strict and flagged:
        raise TranslationFailed("--strict: checks over threshold: " + "; ".join(
            f"{r['language']}/{r['split']}: {', '.join(r['flagged'])}" for r in flagged)
            + "; see checks in the manifests", summary)


class _Language:
    """Translate one language; write each split whose strings all came back.

    Batches never mix splits, so what each split cost (requests, billed characters) is counted exactly,
    while the requests of all splits flow through one pool with no pause between splits. The cache lookup,
    sizing and packing run chunk by chunk while requests are in flight, so the first request leaves at once."""

    def __init__(self, job: Job, tr: Translator, lang: Language, db, pacer, glossary, sizes: Memo):
        self.job, self.tr, self.lang, self.db, self.pacer, self.glossary = job, tr, lang, db, pacer, glossary
        self.plan = job.plan
        self.started = time.monotonic()
        self.fingerprint = tr.fingerprint()
        self.words = tr.option_context(lang) if db is not None else 0
        # key_of: (question id, text) -> the unit sent for it; waiting: options sent after their question
        self.texts, self.key_of, self.waiting = first_pass(self.plan, lang.code, glossary, self.words)
        self.todo: dict[str, list[str]] = {split: [] for split in self.plan.splits}  # what was sent, per split
        self.seen: set[str] = set()
        self.digests = {split: unit_digests(self.plan, split, self.key_of, self.waiting, self.fingerprint, lang,
                                            spans_for(tr)) for split in self.plan.splits}
        self.written = (Written(job.out, tr.name, lang, self.digests, self.fingerprint, glossary)
                        if db is not None else None)
        self.flow = Flow(tr, job.english, lang, db, pacer, job.concurrency, sizes,
                         Bar(total=0, desc=f"{lang.code} ({tr.name})"),
                         cost={split: {"requests": 0, "billed_chars": 0, "end": self.started}
                               for split in self.plan.splits})

    def run(self, run_checks: bool) -> list[dict]:
        plan, bar = self.plan, self.flow.bar
        if self.db is None:  # identity: nothing to pay
            self.flow.done.update({t: t for split in plan.splits for t in self.texts[split]})
        if self.written is not None:
            self.written.seed(plan, self.key_of, self.flow.done, self.waiting)
        try:
            self._send(self.texts)
            if self.words:  # short options after their questions, which they carry with their translations
                self._send(self._options_in_context())
        finally:
            bar.close()
        settled, lines_report = self._lines(run_checks)
        rows = [self._split(split, run_checks, lines_report if split == plan.splits[0] else None)
                for split in plan.splits]
        if settled is not None:
            write_instructions(self.job.out, self.tr.name, self.lang, plan, settled)
        return rows

    def _send(self, new: dict[str, list[str]]) -> None:
        """Look up, copy or send the strings of `new` (per split) not yet seen; a string belongs to its first split."""
        owned: dict[str, list[str]] = {split: [] for split in self.plan.splits}
        for split in self.plan.splits:
            for t in new[split]:
                if t not in self.seen and t not in self.flow.done:
                    self.seen.add(t)
                    owned[split].append(t)
        self.flow.bar.grow(sum(map(len, owned.values())))
        for split in self.plan.splits:  # up front, the few strings long enough to be over the limit
            for t in owned[split]:
                if len(t) * 6 > self.tr.max_chars:
                    self._refuse_too_long(split, t)
        send(self.flow, self._batches(owned))

    def _refuse_too_long(self, split: str, text: str) -> None:
        """A string the service refuses whole, whatever is retried: stop, naming its question and the limit."""
        if self.tr.hard_max_chars and not self.job.copied(text) and self.flow.sizes[text] > self.tr.max_chars:
            where = ", ".join(_ids_of(self.plan, split, {text}, self.key_of)) or "a string"
            raise MmluMlError(f"{where} ({split}) is {self.flow.sizes[text]:,} characters as sent, over the "
                              f"{self.tr.name} translator's limit of {self.tr.max_chars:,} per request; shorten it "
                              "or leave its subject out (--subjects)")

    def _batches(self, owned: dict[str, list[str]]):
        """(split, batch) in order: each chunk of a split's strings copied, looked up in the cache, or packed."""
        for split in self.plan.splits:
            start = len(self.todo[split])
            for idx in pack(self._to_send(split, owned[split]), self.tr.max_items, self.tr.max_chars):
                yield split, [self.todo[split][start + i] for i in idx]

    def _to_send(self, split: str, strings: list[str]):
        """The size of each string that must be sent, as it is found (copied and cached ones are settled here)."""
        flow = self.flow
        for at in range(0, len(strings), LOOKUP_CHUNK):
            chunk = strings[at:at + LOOKUP_CHUNK]
            fresh = []
            for t in chunk:
                if self.job.copied(t):
                    flow.done[t] = t  # nothing to translate: copied, never paid for
                else:
                    fresh.append(t)
            chunk_keys = cache_mod.keys_for(self.fingerprint, "en", self.lang.code, fresh, spans_for(self.tr))
            flow.keys.update(chunk_keys)
            hits = cache_mod.lookup(self.db, chunk_keys, fresh)
            flow.done.update(hits)
            flow.bar.skip(len(chunk) - len(fresh) + len(hits))
            for t in fresh:
                if t not in hits:
                    self._refuse_too_long(split, t)
                    self.todo[split].append(t)
                    yield flow.sizes[t]

    def _options_in_context(self) -> dict[str, list[str]]:
        """The short options whose question came back, each as a unit with the question and its translation."""
        units: dict[str, list[str]] = {split: [] for split in self.plan.splits}
        done = self.flow.done
        for split, q, c in self.waiting:
            asked = self.key_of.get((q.id, q.question), q.question)
            if asked in done:
                unit = in_context.encode(c, q.question, done[asked], hints_of(self.glossary, q, c, self.lang.code))
                self.key_of[q.id, c] = unit
                if self.written is not None:
                    self.written.seed_option(q, c, unit, done)
                units[split].append(unit)
        for split in self.plan.splits:
            units[split] = list(dict.fromkeys(units[split]))
            self.texts[split] += units[split]
        return units

    def _lines(self, run_checks: bool) -> tuple[dict | None, dict | None]:
        """The instruction lines to write and their checks' report (translate/ask.py), once every line came back;
        what the checks sent is billed like the rest, to the first split."""
        plan, flow = self.plan, self.flow
        if not all(line in flow.done for line in plan.instruction_strings()):
            return None, None
        settled, report, asked = settle_lines(plan, self.tr, self.job.english, self.lang, self.db, self.pacer,
                                              flow.done, self.written, run_checks)
        first = flow.cost[plan.splits[0]]
        first["requests"] += asked.requests
        first["billed_chars"] += asked.billed_chars
        first["end"] = max(first["end"], time.monotonic())
        if report is not None:
            report.update({"strings_sent": asked.strings, "chars_sent": asked.chars, "requests": asked.requests})
        return settled, report

    def _split(self, split: str, run_checks: bool, lines_report: dict | None) -> dict:
        """One split's summary row; its files are written when every string came back."""
        plan, flow, texts, todo = self.plan, self.flow, self.texts[split], self.todo[split]
        sent, kept = set(todo), {t for t in texts if self.job.copied(t)}
        reused = [t for t in texts if t not in sent and t not in kept] if self.db is not None else []
        chars = {"sent": sum(flow.sizes[t] for t in todo), "cached": sum(flow.sizes[t] for t in reused),
                 "billed": flow.cost[split]["billed_chars"]}
        if lines_report is not None:
            chars["sent"] += lines_report["chars_sent"]  # the line checks' requests, like the rest
        bad = {t for t in texts if t in flow.failed}
        stuck = [q.id for s, q, c in self.waiting  # a question whose translation failed leaves its options unsent
                 if s == split and (q.id, c) not in self.key_of]
        counts = {"questions": len(plan.questions[split]), "strings": len(plan.strings(split)),
                  "distinct": len(texts), "untranslatable": len(kept), "failed": len(bad)}
        row = {"language": self.lang.code, "split": split, "strings": counts["strings"], "distinct": len(texts),
               "sent": len(todo), "chars": chars, "requests": flow.cost[split]["requests"], "failed": len(bad),
               "flagged": [], "failed_ids": _ids_of(plan, split, bad, self.key_of),
               "error": flow.errors[0] if flow.errors else None}
        if not bad and not stuck:  # never write a split with a string missing: the re-run sends only these
            self._write(split, row, counts, run_checks, lines_report)
        return row

    def _write(self, split: str, row: dict, counts: dict, run_checks: bool, lines_report: dict | None) -> None:
        questions = translated_questions(self.plan, split, self.lang, self.flow.done, self.key_of)
        checks = (check_language(list(zip(self.plan.questions[split], questions)), self.lang) if run_checks
                  else {"skipped": "identity"})
        if lines_report is not None:  # the lines are strings of the first split
            checks = instructions.count_in(checks, lines_report)
        row["flagged"] = list(checks.get("failed", []))
        took = self.flow.cost[split]["end"] - self.started
        chars = row["chars"]
        effort = (self.written.effort(split, took, chars["sent"]) if self.written is not None
                  else {"duration_s": round(took, 3), "chars_sent": chars["sent"]})
        made = manifest(self.plan, self.fingerprint, self.lang, split, counts, chars, row["requests"], took, checks,
                        self.glossary) | {"units": self.digests[split], "effort": effort}
        here = self.tr.machine()  # a local model: which build and CPU made the text (memoized: llama/load.py)
        if here is not None and self.written is not None:
            made_here = self.todo[split] or (lines_report is not None and lines_report["strings_sent"])
            made["machines"] = self.written.machines(split, here if made_here else None)
        write_split(self.job.out, self.tr.name, self.lang, split, questions, made)


def _ids_of(plan: Plan, split: str, bad: set[str], key_of: dict) -> list[str]:
    ids = [q.id for q in plan.questions[split] if bad & {key_of.get((q.id, t), t) for t in (q.question, *q.choices)}]
    if bad & set(plan.instruction_strings()):
        ids.append("instructions")
    return ids[:10]

