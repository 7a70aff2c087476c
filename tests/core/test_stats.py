"""Wilson intervals, macro averages and the paired difference with its interval."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmlu_ml.core import stats


def test_wilson_known_values():
    # closed forms: k=0 -> upper z^2/(n+z^2); k=n -> lower n/(n+z^2); 5/10 -> the textbook (0.2366, 0.7634)
    z2 = stats.Z95 ** 2
    assert stats.wilson(0, 10) == (0.0, pytest.approx(z2 / (10 + z2)))
    assert stats.wilson(10, 10) == (pytest.approx(10 / (10 + z2)), 1.0)
    low, high = stats.wilson(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = stats.wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert stats.wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        stats.wilson(11, 10)


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_the_estimate_and_stays_in_0_1(kn):
    k, n = kn
    low, high = stats.wilson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    # symmetric under swapping right and wrong
    l2, h2 = stats.wilson(n - k, n)
    assert low == pytest.approx(1 - h2, abs=1e-12) and high == pytest.approx(1 - l2, abs=1e-12)


def test_macro_average_weights_subjects_equally():
    assert stats.macro_average({"a": (1, 1), "b": (0, 9)}) == pytest.approx(0.5)
    assert stats.macro_average({"a": (3, 4), "empty": (0, 0)}) == pytest.approx(0.75)


def test_paired_difference_point_and_edges():
    n, diff, low, high = stats.paired_difference([(True, False)] * 3 + [(True, True)] * 5 + [(False, False)] * 2)
    assert n == 10 and diff == pytest.approx(0.3) and low < 0.3 < high and -1 <= low and high <= 1
    n, diff, low, high = stats.paired_difference([(True, True), (False, False)] * 20)
    assert diff == 0 and low < 0 < high
    assert stats.paired_difference([])[0] == 0


def test_agreement_narrows_the_paired_interval():
    # same marginals (60% vs 50%), but in the first table the two sides agree on most items
    agree = [(True, True)] * 50 + [(True, False)] * 10 + [(False, False)] * 40
    disagree = [(True, True)] * 10 + [(True, False)] * 50 + [(False, True)] * 40
    _, d1, l1, h1 = stats.paired_difference(agree)
    _, d2, l2, h2 = stats.paired_difference(disagree)
    assert d1 == pytest.approx(0.1) and d2 == pytest.approx(0.1)
    assert (h1 - l1) < 0.5 * (h2 - l2)

def test_paired_interval_covers_the_truth_about_95_percent():
    rng = random.Random(7)
    hits, trials = 0, 400
    for _ in range(trials):
        pairs = []
        for _ in range(80):  # true accuracies 0.7 (language) and 0.6 (English), correlated through `easy`
            easy = rng.random() < 0.5
            first = rng.random() < (0.9 if easy else 0.5)
            second = rng.random() < (0.85 if easy else 0.35)
            pairs.append((first, second))
        _, _, low, high = stats.paired_difference(pairs)
        hits += low <= 0.1 <= high
    assert 0.91 <= hits / trials <= 0.99
