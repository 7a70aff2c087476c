"""Stage 1: translate MMLU splits into languages through a cache that never pays twice.

Per language: the distinct strings of the chosen splits (questions, options, the prompt lines per subject)
are looked up in `<cache_dir>/translations.sqlite`; strings with nothing to translate are copied; the rest
are packed into requests within the translator's limits, `concurrency` of them in flight, paced under the
hourly character budget, and each batch is written to the cache as it returns. So a killed run loses at most
the batches in flight, and a re-run sends only what never came back. Splits are sent one after another so
each split's manifest counts exactly what it cost.
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from tqdm import tqdm

from ..core import cache as cache_mod, languages as languages_mod, mmlu, paths, registry, settings
from ..core.errors import MmluMlError
from ..core.languages import Language
from ..core.subjects import SPLITS, SUBJECTS
from ..core import protect
from . import glossary as glossary_mod, in_context, instructions, translators
from .pacing import Pacer, pack
from .plan import (Plan, first_pass, hints_of, manifest, spans_for, to_send, translated_questions,
                   write_instructions, write_split)
from .ask import settle_lines, usage_of
from .reuse import Written, unit_digests
from .translators.base import Translator

from ..core.checks import check_language


class TranslationFailed(MmluMlError):
    """Strings still failing after the backend's retries, or --strict checks: results written, exit 1. `rows`:
    the run's summary, as run_translate would have returned it."""

    exit_code = 1

    def __init__(self, message: str, rows: list[dict] | None = None):
        super().__init__(message)
        self.rows = rows or []


def translation_dir(out: Path, translator: str, language: str) -> Path:
    """Where a language's translation lives: English always through `identity`."""
    return paths.translations_dir(out, "identity" if language == "en" else translator, language)


# what every translator's constructor takes; its other keyword parameters are its --translator-args
COMMON_TRANSLATOR_ARGS = ("model", "cache_dir", "concurrency")


def run_translate(source, languages, subjects, splits, limit, cache_dir, out, translator, translator_model,
                  concurrency, chars_per_hour, dry_run, strict, glossary=None,
                  translator_args=None) -> list[dict]:
    """Translate and write; returns the summary rows (one per language and split). See the module docstring.
    `glossary`: a term base file, "default" or "none" (mmlu_ml.translate.glossary); None is the built-in one for a
    translator that takes hints."""
    terms = glossary_mod.load(glossary)
    table = languages_mod.load()
    langs = table.select(languages)
    subj = mmlu.parse_list(subjects, SUBJECTS, "subject")
    spl = mmlu.parse_list(splits, SPLITS, "split")
    cls = registry.load(translators.TRANSLATORS, translator, "translator")
    extra = settings.parse(translator_args, cls, COMMON_TRANSLATOR_ARGS, "--translator-args", translator)
    identity_cls = registry.load(translators.TRANSLATORS, "identity", "translator")
    english = table.languages["en"]
    foreign = [lang for lang in langs if lang.code != "en"]
    cache_dir, out = Path(cache_dir), Path(out)
    plan = Plan.build(mmlu.load(source, subj, spl, limit), subj, spl, limit)
    tr = cls(translator_model, cache_dir, concurrency=concurrency, **extra) if foreign else None
    if glossary not in (None, "none") and tr is not None and not tr.glossary:
        raise MmluMlError(f"--glossary: the {translator} translator takes no glossary hints (local does); "
                          "drop --glossary or use --translator local")
    measure = tr.request_chars if tr is not None else len
    distinct = plan.all_distinct()
    sizes = _Memo(lambda t: measure(in_context.text_of(t)))  # measured as strings are packed, requests in flight
    copied = _Memo(protect.is_untranslatable).__getitem__  # judged once per string, for every language
    db_path = cache_dir / "translations.sqlite"

    if dry_run:
        db = cache_mod.Cache(db_path, "translations") if foreign and db_path.exists() else None
        rows = []
        for lang in langs:
            row = {"language": lang.code, "translator": "identity" if lang.code == "en" else tr.name,
                   "strings": sum(len(plan.strings(s)) for s in spl), "distinct": len(distinct),
                   "untranslatable": 0, "cached": 0, "send": 0, "chars": 0,
                   "priced": lang.code != "en" and tr.bills_characters}
            if lang.code != "en":
                hinted = terms if tr.takes_hints(lang) else None
                row.update(to_send(plan, tr, lang, hinted, db, sizes, copied))
            rows.append(row)
        return rows

    if tr is not None:
        tr.preflight()  # a missing key fails before anything is written, English included
    summary: list[dict] = []
    if english in langs:
        ident = identity_cls(None, cache_dir)
        summary += _language(plan, ident, english, english, None, None, out, sizes=_Memo(len), copied=copied,
                             concurrency=1, run_checks=False)
    if foreign:
        db = cache_mod.Cache(db_path, "translations")
        pacer = Pacer(chars_per_hour)
        try:
            for lang in foreign:
                hinted = terms if tr.takes_hints(lang) else None
                summary += _language(plan, tr, english, lang, db, pacer, out, sizes, copied, concurrency, True,
                                     hinted)
        finally:
            db.close()
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
    return summary


def _language(plan: Plan, tr: Translator, english: Language, lang: Language, db, pacer, out: Path, sizes, copied,
              concurrency: int, run_checks: bool, glossary=None) -> list[dict]:
    """Translate one language; write each split whose strings all came back. Returns its summary rows.

    Batches never mix splits, so what each split cost (requests, billed characters) is counted exactly,
    while the requests of all splits flow through one pool with no pause between splits. The cache lookup,
    sizing and packing run chunk by chunk while requests are in flight, so the first request leaves at once."""
    started = time.monotonic()
    fingerprint = tr.fingerprint()
    words = tr.option_context(lang) if db is not None else 0

    texts, key_of, waiting = first_pass(plan, lang.code, glossary, words)  # key_of: (question id, text) -> unit
    done: dict[str, str] = {}
    if db is None:  # identity: nothing to pay
        done = {t: t for split in plan.splits for t in texts[split]}
    digests = {split: unit_digests(plan, split, key_of, waiting, fingerprint, lang, spans_for(tr))
               for split in plan.splits}
    written = Written(out, tr.name, lang, digests, fingerprint, glossary) if db is not None else None
    if written is not None:
        written.seed(plan, key_of, done, waiting)
    todo: dict[str, list[str]] = {split: [] for split in plan.splits}  # what was actually sent, per split
    keys: dict[str, str] = {}
    cost = {split: {"requests": 0, "billed_chars": 0, "end": started} for split in plan.splits}
    failed: set[str] = set()
    errors: list[str] = []
    seen: set[str] = set()
    bar = _Bar(total=0, desc=f"{lang.code} ({tr.name})")

    def send(new: dict[str, list[str]]) -> None:
        """Look up, copy or send the strings of `new` (per split) not yet seen; a string belongs to its first split."""
        owned: dict[str, list[str]] = {split: [] for split in plan.splits}
        for split in plan.splits:
            for t in new[split]:
                if t not in seen and t not in done:
                    seen.add(t)
                    owned[split].append(t)
        bar.grow(sum(map(len, owned.values())))

        def batches():
            """(split, batch) in order: each chunk of a split's strings copied, looked up in the cache, or packed."""
            for split in plan.splits:
                start = len(todo[split])

                def sizes_to_send():
                    for at in range(0, len(owned[split]), LOOKUP_CHUNK):
                        chunk = owned[split][at:at + LOOKUP_CHUNK]
                        fresh = []
                        for t in chunk:
                            if copied(t):
                                done[t] = t  # nothing to translate: copied, never paid for
                            else:
                                fresh.append(t)
                        chunk_keys = cache_mod.keys_for(fingerprint, "en", lang.code, fresh, spans_for(tr))
                        keys.update(chunk_keys)
                        hits = cache_mod.lookup(db, chunk_keys, fresh)
                        done.update(hits)
                        bar.skip(len(chunk) - len(fresh) + len(hits))
                        for t in fresh:
                            if t not in hits:
                                todo[split].append(t)
                                yield sizes[t]
                for idx in pack(sizes_to_send(), tr.max_items, tr.max_chars):
                    yield split, [todo[split][start + i] for i in idx]

        _send(tr, batches(), sizes, keys, english, lang, db, pacer, concurrency, done, failed, errors, cost, bar)

    try:
        send(texts)
        if words:  # short options after their questions, which they carry with their translations
            units = {split: [] for split in plan.splits}
            for split, q, c in waiting:
                asked = key_of.get((q.id, q.question), q.question)
                if asked in done:
                    key_of[q.id, c] = in_context.encode(c, q.question, done[asked], hints_of(glossary, q, c, lang.code))
                    if written is not None:
                        written.seed_option(q, c, key_of[q.id, c], done)
                    units[split].append(key_of[q.id, c])
            for split in plan.splits:
                units[split] = list(dict.fromkeys(units[split]))
                texts[split] += units[split]
            send(units)
    finally:
        bar.close()
    settled, lines_report = _lines(plan, tr, english, lang, db, pacer, done, written, run_checks, cost)
    rows = []
    for split in plan.splits:
        sent = set(todo[split])
        kept = {t for t in texts[split] if copied(t)}
        reused = [t for t in texts[split] if t not in sent and t not in kept] if db is not None else []
        chars = {"sent": sum(sizes[t] for t in todo[split]), "cached": sum(sizes[t] for t in reused),
                 "billed": cost[split]["billed_chars"]}
        if lines_report is not None and split == plan.splits[0]:
            chars["sent"] += lines_report["chars_sent"]  # the line checks' requests, like the rest
        bad = {t for t in texts[split] if t in failed}
        stuck = list(dict.fromkeys(q.id for s, q, c in waiting  # a question whose translation failed leaves its
                                   if s == split and (q.id, c) not in key_of))  # options unsent
        counts = {"questions": len(plan.questions[split]), "strings": len(plan.strings(split)),
                  "distinct": len(texts[split]), "untranslatable": len(kept),
                  "failed": len(bad)}
        row = {"language": lang.code, "split": split, "strings": counts["strings"], "distinct": len(texts[split]),
               "sent": len(todo[split]), "chars": chars, "requests": cost[split]["requests"], "failed": len(bad),
               "flagged": [], "failed_ids": _ids_of(plan, split, bad, key_of), "error": errors[0] if errors else None}
        rows.append(row)
        if bad or stuck:
            continue  # never write a split with a string missing: the re-run sends only these
        questions = translated_questions(plan, split, lang, done, key_of)
        checks = _checks(plan.questions[split], questions, lang) if run_checks else {"skipped": "identity"}
        if lines_report is not None and split == plan.splits[0]:  # the lines are strings of the first split
            checks = instructions.count_in(checks, lines_report)
        row["flagged"] = list(checks.get("failed", []))
        took = cost[split]["end"] - started
        effort = written.effort(split, took, chars["sent"]) if written is not None else \
            {"duration_s": round(took, 3), "chars_sent": chars["sent"]}
        made = manifest(plan, fingerprint, lang, split, counts, chars, row["requests"], took, checks, glossary) \
            | {"units": digests[split], "effort": effort}
        here = tr.machine()
        if here is not None and written is not None:  # a local model: which build and CPU made the text
            made_here = todo[split] or (lines_report is not None and split == plan.splits[0]
                                        and lines_report["strings_sent"])
            made["machines"] = written.machines(split, here if made_here else None)
        write_split(out, tr.name, lang, split, questions, made)
    if settled is not None:
        write_instructions(out, tr.name, lang, plan, settled)
    return rows


def _lines(plan: Plan, tr, english: Language, lang: Language, db, pacer, done: dict, written, run_checks: bool,
           cost: dict) -> tuple[dict | None, dict | None]:
    """The instruction lines to write and their checks' report (translate/ask.py), once every line came back;
    what the checks sent is billed like the rest, to the first split."""
    if not all(line in done for line in plan.instruction_strings()):
        return None, None
    settled, report, asked = settle_lines(plan, tr, english, lang, db, pacer, done, written, run_checks)
    first = cost[plan.splits[0]]
    first["requests"] += asked.requests
    first["billed_chars"] += asked.billed_chars
    first["end"] = max(first["end"], time.monotonic())
    if report is not None:
        report.update({"strings_sent": asked.strings, "chars_sent": asked.chars, "requests": asked.requests})
    return settled, report


def _call(tr: Translator, batch: list[str], english: Language, lang: Language, db, keys: dict, slots: threading.Semaphore):
    """In a worker thread: translate one batch, cache what came back, and say what it cost (the thread's usage
    around the call). A request slot is held only for the translation: the commit runs after it is given
    back, so a batch already waiting in another worker goes out at once instead of after the commit."""
    before = usage_of(tr)
    with slots:
        result = tr.translate(batch, english, lang)
    after = usage_of(tr)
    if len(result) != len(batch):
        raise RuntimeError(f"{tr.name} returned {len(result)} results for {len(batch)} strings")
    db.put_many({keys[t]: r for t, r in zip(batch, result) if isinstance(r, str)})
    if not after:  # a translator that keeps no counters: one request, nothing billed
        return result, {"requests": 1, "billed_chars": 0}
    return result, {k: after.get(k, 0) - before.get(k, 0) for k in ("requests", "billed_chars")}


def _send(tr: Translator, batches, sizes, keys: dict, english: Language, lang: Language, db, pacer: Pacer,
          concurrency: int, done: dict, failed: set, errors: list, cost: dict, bar) -> None:
    """Send the (split, batch) pairs, `concurrency` in flight, caching each batch as it returns; the next
    batch is prepared while the requests are in flight. Strings still failing go to `failed`; a
    configuration error (MmluMlError) stops everything."""
    inflight: dict[Future, tuple[str, list[str]]] = {}

    def harvest(futures) -> None:
        for fut in futures:
            split, batch = inflight.pop(fut)
            try:
                result, used = fut.result()
            except MmluMlError:
                raise
            except Exception as exc:  # a backend bug or an unexpected reply: these strings failed, say why
                errors.append(f"{type(exc).__name__}: {str(exc)[:160]}")
                result, used = [None] * len(batch), {}
            good = {t: r for t, r in zip(batch, result) if isinstance(r, str)}
            failed.update(t for t, r in zip(batch, result) if not isinstance(r, str))
            done.update(good)
            for k, v in used.items():
                cost[split][k] += v
            cost[split]["end"] = time.monotonic()
            bar.update(len(batch), sum(sizes[t] for t in batch))

    # `concurrency` requests in flight (the slots), plus batches ready in spare workers to take a slot the
    # moment one frees: a reply's caching and harvesting never leave a slot idle
    slots = threading.Semaphore(concurrency)
    workers = concurrency + SPARE_WORKERS
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"translate-{lang.code}")
    try:
        upcoming = next(batches, None)
        while upcoming is not None:
            while len(inflight) >= workers:
                harvest(wait(inflight, return_when=FIRST_COMPLETED)[0])
            split, batch = upcoming
            while (pause := pacer.reserve(sum(sizes[t] for t in batch))) > 0:
                paused = time.monotonic()  # over the hourly budget: keep collecting replies meanwhile
                if inflight:
                    harvest(wait(inflight, timeout=pause, return_when=FIRST_COMPLETED)[0])
                else:
                    time.sleep(pause)
                pacer.waited += time.monotonic() - paused
            inflight[pool.submit(_call, tr, batch, english, lang, db, keys, slots)] = (split, batch)
            upcoming = next(batches, None)  # prepared while the requests are in flight
        while inflight:
            harvest(wait(inflight, return_when=FIRST_COMPLETED)[0])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


LOOKUP_CHUNK = 2000  # strings looked up in the cache at a time: about one or two full Azure requests
SPARE_WORKERS = 2  # batches prepared and waiting for a request slot


class _Memo(dict):
    """`fn(key)`, computed on first use and kept."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def __missing__(self, key):
        value = self[key] = self.fn(key)
        return value


class _Bar:
    """A tqdm bar on stderr that appears with the first batch back, so an error the first request meets
    (a refused key) stays the one line the CLI prints."""

    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.bar, self.chars, self.skipped, self.shown = total, desc, None, 0, 0, 0

    def grow(self, strings: int) -> None:
        """More strings to come (options in context, known once their questions are back)."""
        self.total += strings
        if self.bar is not None:
            self.bar.total = self.total
            self.bar.refresh()

    def skip(self, strings: int) -> None:
        """Strings that need no request (cached or copied): counted toward the total, shown with the next update."""
        self.skipped += strings

    def update(self, strings: int, chars: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=self.total, desc=self.desc, unit="str", file=sys.stderr, mininterval=0.5,
                            dynamic_ncols=True)
        self.chars += chars
        self.bar.set_postfix_str(f"{self.chars:,} chars" + (f", {self.skipped:,} cached or copied" if self.skipped
                                                            else ""), refresh=False)
        self.bar.update(strings + self.skipped - self.shown)
        self.shown = self.skipped

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()



def _ids_of(plan: Plan, split: str, bad: set[str], key_of: dict) -> list[str]:
    ids = [q.id for q in plan.questions[split] if bad & {key_of.get((q.id, t), t) for t in (q.question, *q.choices)}]
    if bad & set(plan.instruction_strings()):
        ids.append("instructions")
    return ids[:10]


def _checks(source, translated, lang: Language) -> dict:
    return check_language(list(zip(source, translated)), lang)
