"""Sending a language's batches: `concurrency` requests in flight, paced under the hourly budget, each batch
cached as it returns, with a progress bar that counts strings and characters."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Iterator

from tqdm import tqdm

from ..core.cache import Cache
from ..core.errors import Interrupted, MmluMlError
from ..core.languages import Language
from ..core.secrets import scrub
from .ask import usage_of
from .pacing import Pacer
from .translators.base import Translator


@dataclass
class Flow:
    """One language's requests: what stays fixed while they run, and what their batches brought back so far."""

    tr: Translator
    english: Language
    lang: Language
    db: Cache
    pacer: Pacer
    concurrency: int
    sizes: Memo          # text -> what it costs toward a request's limit
    bar: "Bar"
    done: dict[str, str] = field(default_factory=dict)    # text -> its translation (or itself, when copied)
    keys: dict[str, str] = field(default_factory=dict)    # text -> its cache key
    failed: set[str] = field(default_factory=set)         # texts still failing after the backend's retries
    errors: list[str] = field(default_factory=list)       # why a batch failed as a whole
    cost: dict[str, dict] = field(default_factory=dict)   # split -> requests, billed_chars, end (monotonic)
    stop: threading.Event = field(default_factory=threading.Event)  # set: no batch may be sent any more


def call(flow: Flow, batch: list[str], slots: threading.Semaphore) -> tuple[list, dict]:
    """In a worker thread: translate one batch, cache what came back, and say what it cost (the thread's usage
    around the call). A request slot is held only for the translation: the commit runs after it is given
    back, so a batch already waiting in another worker goes out at once instead of after the commit."""
    tr = flow.tr
    before = usage_of(tr)
    with slots:
        if flow.stop.is_set():  # the cache refused a write, or the user interrupted: send nothing more
            return [None] * len(batch), {}
        result = tr.translate(batch, flow.english, flow.lang)
    after = usage_of(tr)
    if len(result) != len(batch):
        raise RuntimeError(f"{tr.name} returned {len(result)} results for {len(batch)} strings")
    used = ({"requests": 1, "billed_chars": 0} if not after  # a translator that keeps no counters
            else {k: after.get(k, 0) - before.get(k, 0) for k in ("requests", "billed_chars")})
    try:
        flow.db.put_many({flow.keys[t]: r for t, r in zip(batch, result) if isinstance(r, str)})
    except MmluMlError as exc:  # a full disk: stop sending what could not be kept; this batch was paid for
        flow.stop.set()
        exc.used = used  # type: ignore[attr-defined]
        raise
    return result, used


def _harvest(flow: Flow, split: str, batch: list[str], future: Future) -> None:
    """What one batch brought back: its translations, its failures, what it cost."""
    try:
        result, used = future.result()
    except MmluMlError as exc:
        for k, v in getattr(exc, "used", {}).items():  # what a batch whose answer was lost still cost
            flow.cost[split][k] += v
        raise
    except Exception as exc:  # a backend bug or an unexpected reply: these strings failed, say why
        flow.errors.append(scrub(f"{type(exc).__name__}: {exc}")[:200])
        result, used = [None] * len(batch), {}
    flow.done.update({t: r for t, r in zip(batch, result) if isinstance(r, str)})
    flow.failed.update(t for t, r in zip(batch, result) if not isinstance(r, str))
    for k, v in used.items():
        flow.cost[split][k] += v
    flow.cost[split]["end"] = time.monotonic()
    flow.bar.update(len(batch), sum(flow.sizes[t] for t in batch))


def send(flow: Flow, batches: Iterator[tuple[str, list[str]]]) -> None:
    """Send the (split, batch) pairs, `concurrency` in flight, caching each batch as it returns; the next
    batch is prepared while the requests are in flight. Strings still failing go to `flow.failed`; a
    configuration error (MmluMlError) stops everything."""
    inflight: dict[Future, tuple[str, list[str]]] = {}

    def harvest(futures) -> None:
        for fut in futures:
            _harvest(flow, *inflight.pop(fut), fut)

    # `concurrency` requests in flight (the slots), plus batches ready in spare workers to take a slot the
    # moment one frees: a reply's caching and harvesting never leave a slot idle
    slots = threading.Semaphore(flow.concurrency)
    workers = flow.concurrency + SPARE_WORKERS
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"translate-{flow.lang.code}")
    left = False  # the hung requests were left behind (Ctrl-C): do not wait for them
    try:
        upcoming = next(batches, None)
        while upcoming is not None:
            while len(inflight) >= workers:
                harvest(_next_done(inflight))
            split, batch = upcoming
            while (pause := flow.pacer.reserve(sum(flow.sizes[t] for t in batch))) > 0:
                paused = time.monotonic()  # over the hourly budget: keep collecting replies meanwhile
                if inflight:
                    harvest(_next_done(inflight, pause))
                else:
                    time.sleep(pause)
                flow.pacer.waited += time.monotonic() - paused
            inflight[pool.submit(call, flow, batch, slots)] = (split, batch)
            upcoming = next(batches, None)  # prepared while the requests are in flight
        while inflight:
            harvest(_next_done(inflight))
    except KeyboardInterrupt:
        # requests may hang for minutes in the SDK: leave them, send nothing more; every batch that came back
        # is already committed, and no split file is written
        flow.stop.set()
        left = True
        pool.shutdown(wait=False, cancel_futures=True)
        raise Interrupted(f"{len(flow.done):,} strings into {flow.lang.code} are cached or copied; "
                          "run the same command to resume") from None
    except BaseException:
        flow.stop.set()  # workers waiting for a slot send nothing; requests already out finish
        raise
    finally:
        if not left:
            pool.shutdown(wait=True, cancel_futures=True)


def _next_done(inflight: dict, timeout: float | None = None) -> set:
    """The futures done within `timeout` (None: at least one), waiting in short steps so Ctrl-C is seen at once."""
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        step = WAIT_STEP_S if end is None else max(0.0, min(WAIT_STEP_S, end - time.monotonic()))
        done = wait(inflight, timeout=step, return_when=FIRST_COMPLETED)[0]
        if done or (end is not None and time.monotonic() >= end):
            return done


LOOKUP_CHUNK = 2000  # strings looked up in the cache at a time: about one or two full Azure requests
SPARE_WORKERS = 2  # batches prepared and waiting for a request slot
WAIT_STEP_S = 0.5  # the longest the main thread waits for a reply before it looks for a Ctrl-C again


class Memo(dict):
    """`fn(key)`, computed on first use and kept."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def __missing__(self, key):
        value = self[key] = self.fn(key)
        return value


class Bar:
    """A tqdm bar on stderr that appears with the first batch back, so an error the first request meets
    (a refused key) stays the one line the CLI prints."""

    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.chars, self.skipped, self.shown = total, desc, 0, 0, 0
        self.bar: tqdm | None = None

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
