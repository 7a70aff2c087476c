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


def test_the_weighted_estimate_on_a_hand_computed_stratified_case():
    # two subjects: a (90 questions in the split, 2 scored, both right), b (10, 2 scored, none right)
    items = [("a", True), ("a", True), ("b", False), ("b", False)]
    p, low, high, n_eff = stats.weighted_accuracy(items, {"a": 90, "b": 10})
    assert p == pytest.approx(0.9)  # 0.9 * 1 + 0.1 * 0, where the sample says 0.5
    # weights per item 0.45, 0.45, 0.05, 0.05: n_eff = 1 / (2 * 0.45^2 + 2 * 0.05^2) = 1 / 0.41
    assert n_eff == pytest.approx(1 / 0.41)
    assert (low, high) == pytest.approx(stats.wilson(0.9 * n_eff, n_eff))


def test_on_a_full_split_the_weighted_figures_are_the_ordinary_ones():
    rng = random.Random(7)
    sizes = {"a": 30, "b": 7, "c": 120}
    items = [(h, rng.random() < 0.6) for h, n in sizes.items() for _ in range(n)]
    p, low, high, n_eff = stats.weighted_accuracy(items, sizes)
    k = sum(right for _, right in items)
    assert p == pytest.approx(k / len(items)) and n_eff == pytest.approx(len(items))
    assert (low, high) == pytest.approx(stats.wilson(k, len(items)))
    pairs = [(h, right, rng.random() < 0.5) for h, right in items]
    assert stats.weighted_paired(pairs, sizes) == pytest.approx(
        stats.paired_difference([(a, b) for _, a, b in pairs]))


def test_a_balanced_sample_of_unequal_subjects_has_a_wider_interval_than_wilson():
    sizes = {"law": 1534, "virology": 166, "anatomy": 135, "astronomy": 152}
    items = [(h, i % 2 == 0) for h in sizes for i in range(5)]
    p, low, high, n_eff = stats.weighted_accuracy(items, sizes)
    w_low, w_high = stats.wilson(sum(r for _, r in items), len(items))
    assert n_eff < len(items) and high - low > w_high - w_low


def test_holm_on_a_hand_computed_family():
    # m = 4, sorted: a 0.01 x 4 = 0.04, c 0.02 x 3 = 0.06, b 0.04 x 2 = 0.08, d 0.5 x 1 = 0.5
    adjusted = stats.holm({"a": 0.01, "b": 0.04, "c": 0.02, "d": 0.5})
    assert adjusted == pytest.approx({"a": 0.04, "c": 0.06, "b": 0.08, "d": 0.5})
    assert stats.holm({"x": 0.3, "y": 0.3}) == pytest.approx({"x": 0.6, "y": 0.6})


def test_the_p_value_matches_its_interval():
    pairs = [(True, False)] * 30 + [(False, True)] * 12 + [(True, True)] * 40 + [(False, False)] * 18
    p = stats.p_value(lambda z: stats.paired_difference(pairs, z)[2:])
    z = stats.Z95
    _, _, low, _ = stats.paired_difference(pairs, z)
    assert low > 0 and p < 0.05  # the 95% interval clears 0: p under 0.05
    # at the z that p implies, the interval just reaches 0
    from statistics import NormalDist
    z_p = NormalDist().inv_cdf(1 - p / 2)
    assert stats.paired_difference(pairs, z_p)[2] == pytest.approx(0.0, abs=1e-6)
    assert stats.p_value(lambda z: (-0.1, 0.2)) == 1.0


def test_the_cluster_bootstrap_is_reproducible_and_wider_than_pairs_taken_as_independent():
    rng = random.Random(3)
    # 60 question ids, each in three languages; a question's English answer is the same in all three
    clusters = {}
    for i in range(60):
        en = rng.random() < 0.6
        clusters[i] = [(en and rng.random() < 0.7 or (not en and rng.random() < 0.2), en) for _ in range(3)]
    one = stats.cluster_bootstrap(clusters, reps=2000, seed=11)
    assert one == stats.cluster_bootstrap(clusters, reps=2000, seed=11)
    assert one != stats.cluster_bootstrap(clusters, reps=2000, seed=12)
    diff, low, high = one
    pooled = [pair for pairs in clusters.values() for pair in pairs]
    assert diff == pytest.approx(sum(a - b for a, b in pooled) / len(pooled))
    independent = stats.cluster_bootstrap({i: [pair] for i, pair in enumerate(pooled)}, reps=2000, seed=11)
    assert low < diff < high and high - low > independent[2] - independent[1]
