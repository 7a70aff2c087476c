"""Packing strings into requests, and pacing requests under an hourly character budget."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Iterator, Sequence


def pack(sizes: Sequence[int], max_items: int, max_chars: int) -> Iterator[list[int]]:
    """Indices of `sizes` in order, grouped greedily into requests of at most `max_items` items and
    `max_chars` characters. An item larger than `max_chars` goes alone (the backend reports it failed)."""
    batch: list[int] = []
    chars = 0
    for i, size in enumerate(sizes):
        if batch and (len(batch) >= max_items or chars + size > max_chars):
            yield batch
            batch, chars = [], 0
        batch.append(i)
        chars += size
    if batch:
        yield batch


class Pacer:
    """Never lets more than `chars_per_hour` characters start within any sliding hour.

    A sliding window rather than an even rate: a job under the quota (one language on S1) runs at full
    speed, a larger one (26 languages) sends a quota's worth, then waits for the oldest requests to age out.
    Thread-safe; `clock` and `sleep` are injectable so tests need not wait an hour."""

    WINDOW = 3600.0

    def __init__(self, chars_per_hour: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.budget = int(chars_per_hour)
        self._clock, self._sleep = clock, sleep
        self._sent: deque[tuple[float, int]] = deque()
        self._in_window = 0
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting, for the summary

    def reserve(self, chars: int) -> float:
        """Count `chars` as sent now and return 0 if they fit in the window; else count nothing and return
        the seconds until they would. Lets a caller do useful work (harvest replies) while it waits."""
        chars = min(int(chars), self.budget)  # a request bigger than the budget waits for an empty window
        with self._lock:
            now = self._clock()
            while self._sent and self._sent[0][0] <= now - self.WINDOW:
                self._in_window -= self._sent.popleft()[1]
            if self._in_window + chars <= self.budget:
                self._sent.append((now, chars))
                self._in_window += chars
                return 0.0
            return max(self._sent[0][0] + self.WINDOW - now, 0.01)

    def acquire(self, chars: int) -> None:
        """Block until `chars` more characters fit in the window, then count them as sent now."""
        while (wait := self.reserve(chars)) > 0:
            self.waited += wait
            self._sleep(wait)
