"""bench/translate_quality.py: chrF by sacrebleu's corpus definition, its bootstrap interval, and the --protected strings."""

from __future__ import annotations

import pytest

from support import bench as bench_script


@pytest.fixture(scope="module")
def bench():
    return bench_script.load("translate_quality")


def test_chrf_by_hand(bench):
    assert bench.chrf(["le chat"], ["le chat"]) == 100.0
    assert bench.chrf(["xyz"], ["abc"]) == 0.0
    # "ab" against "abc": orders 1 and 2 count (precision 1 and 1, recall 2/3 and 1/2), order 3 has no
    # hypothesis n-gram; F2 of the averages = 5 * 1 * 7/12 / (4 + 7/12) = 35/55.
    assert bench.chrf(["ab"], ["a b c"]) == pytest.approx(100 * 35 / 55)


def test_corpus_chrf_sums_counts_before_scoring(bench):
    hyps, refs = ["ab", "le chat noir"], ["abc", "le chien noir"]
    summed = [a + b for a, b in zip(*(bench.segment_stats(h, r) for h, r in zip(hyps, refs)))]
    assert bench.chrf(hyps, refs) == pytest.approx(bench.chrf_of_stats(summed))
    mean_of_segments = (bench.chrf(hyps[:1], refs[:1]) + bench.chrf(hyps[1:], refs[1:])) / 2
    assert bench.chrf(hyps, refs) != pytest.approx(mean_of_segments)


def test_bootstrap_interval(bench):
    hyps = ["le chat noir", "un chien", "la maison bleue", "trois", "il pleut", "xyz"]
    refs = ["le chat noir", "le chien", "la maison verte", "trois", "il neige", "abc"]
    low, high = bench.chrf_interval(hyps, refs, resamples=300)
    assert low < bench.chrf(hyps, refs) < high and high - low > 5
    assert (low, high) == bench.chrf_interval(hyps, refs, resamples=300)  # a fixed seed: reproducible
    assert bench.chrf_interval(refs, refs, resamples=50) == (100.0, 100.0)


def test_protected_strings_hold_spans_and_leave_the_sample_out(bench):
    sample = frozenset(it["id"] for it in bench.select(bench.DEFAULT_LANGUAGES, 100, "val"))
    items = bench.protected_items("zh", sample)
    assert len(items) > 100 and all(bench.protect.spans(it["english"]) for it in items)
    ids = {it["id"] for it in items}
    assert not ids & sample and "high_school_computer_science/val/8:question" in ids  # a question with code lines
    assert sample & {it["id"] for it in bench.protected_items("zh", frozenset())}  # the sample has such strings too
