"""bench/translate_quality.py's chrF: sacrebleu's corpus definition, and its bootstrap interval."""

from __future__ import annotations

import importlib.util

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("translate_quality", ROOT / "bench" / "translate_quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
