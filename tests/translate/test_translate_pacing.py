"""Packing strings into requests, and the hourly character budget."""

from __future__ import annotations

import json

import threading

from mmlu_ml.translate.pacing import Pacer, pack


def test_pack_respects_both_limits_and_keeps_order():
    sizes = [10, 20, 30, 40, 5, 5, 5, 100, 1]
    batches = list(pack(sizes, max_items=3, max_chars=50))
    assert [i for b in batches for i in b] == list(range(len(sizes)))
    assert batches == [[0, 1], [2], [3, 4, 5], [6], [7], [8]]  # 100 > 50 goes alone
    assert all(len(b) <= 3 and (sum(sizes[i] for i in b) <= 50 or len(b) == 1) for b in batches)
    assert list(pack([], 3, 50)) == []


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_pacer_never_exceeds_the_budget_in_any_hour():
    clock = FakeClock()
    pacer = Pacer(1000, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(7):  # 7 x 400 characters under 1,000 per hour
        pacer.acquire(400)
        starts.append((clock.now, 400))
        clock.now += 60  # each request takes a minute
    for t, _ in starts:
        assert sum(c for s, c in starts if t <= s < t + 3600) <= 1000
    assert starts[1][0] == 60 and starts[2][0] == 3600  # the third waits for the first to age out
    assert abs(pacer.waited - sum(clock.sleeps)) < 1e-9 and pacer.waited > 3000


def test_pacer_under_budget_never_waits_and_is_thread_safe():
    pacer = Pacer(40_000_000)
    threads = [threading.Thread(target=lambda: [pacer.acquire(50_000) for _ in range(50)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert pacer.waited == 0 and pacer._in_window == 4 * 50 * 50_000


def test_reserve_says_how_long_to_wait_without_counting():
    clock = FakeClock()
    pacer = Pacer(100, clock=clock, sleep=clock.sleep)
    assert pacer.reserve(80) == 0.0
    clock.now = 1000.0
    assert pacer.reserve(30) == 2600.0 and pacer._in_window == 80  # waiting counts nothing
    clock.now = 3600.0
    assert pacer.reserve(30) == 0.0 and pacer._in_window == 30


def test_stage_paces_requests_and_keeps_caching(mmlu_dir, tmp_path, monkeypatch):
    """dev of all subjects is 3 requests of up to 50,000 characters; with a 50,000-character budget each
    waits for the window (shortened to 0.3 s here) to clear the one before."""
    from support.fake_azure import FakeAzure
    from support.stages import run_translate

    monkeypatch.setattr(Pacer, "WINDOW", 0.3)
    granted = []
    reserve = Pacer.reserve

    sizes = []

    def spy(self, chars):
        pause = reserve(self, chars)
        if pause == 0:
            granted.append(self._clock())
            sizes.append(min(chars, 50_000))
        return pause

    monkeypatch.setattr(Pacer, "reserve", spy)
    with FakeAzure(key="k") as fake:
        monkeypatch.setenv("AZURE_TRANSLATOR_KEY", "k")
        monkeypatch.setenv("AZURE_TRANSLATOR_ENDPOINT", fake.endpoint)
        rows = run_translate(source=str(mmlu_dir), languages="sw", subjects="all", splits="dev", limit=None,
                             cache_dir=tmp_path / "cache", out=tmp_path / "out", translator="azure",
                             translator_model=None, concurrency=4, chars_per_hour=50_000,
                             dry_run=False, strict=False)
        received = [r["received"] for r in fake.request_log]
    checked = json.loads((tmp_path / "out" / "translations" / "azure" / "sw" / "dev.manifest.json").read_text())
    asked = checked["checks"]["instructions"]["requests"]  # the line checks' back-translations, paced alike
    assert rows[0]["requests"] == len(received) == len(granted) == 3 + asked and rows[0]["failed"] == 0
    assert all(b - a >= 0.3 for a, b in zip(granted[:3], granted[1:3]))  # the split's full requests, one a window
    for t in granted:  # never more than the budget in any window
        assert sum(c for g, c in zip(granted, sizes) if t - 0.3 < g <= t) <= 50_000
    assert received[2] - received[0] >= 0.45
