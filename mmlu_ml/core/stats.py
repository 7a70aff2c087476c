"""Intervals for accuracies: Wilson for one proportion, Newcombe's square-and-add interval for a paired
difference, their post-stratified forms for an estimate of a whole split from a sample of it, Holm's adjustment
for a family of claims, and a bootstrap over clusters.

Wilson rather than the normal approximation because small slices (--limit 5, one subject) are common and the
normal interval leaves [0, 1] and collapses at 0% or 100%.

Post-stratified by subject: MMLU's subjects differ in size (professional_law holds 1,534 of the 14,042 test
questions, several hold 100), so a sample with the same number of questions a subject estimates a subject-equal
average, not the split's accuracy. Each scored question of subject h weighs W_h / n_h (W_h = N_h / N, the
subject's share of the split's questions among the subjects sampled), which makes the estimate unbiased for the
split's micro accuracy; its interval is Wilson's (Newcombe's for a difference) on Kish's effective sample size
n_eff = (sum w)^2 / sum w^2, the sample size the unequal weights are worth. With every question scored the
weights are equal, n_eff = n, and both are the ordinary figures. No finite-population correction: that keeps
the interval conservative, and equal to the ordinary one on a full split.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Mapping

Z95 = 1.959963984540054


def wilson(correct: float, n: float, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of correct/n; (0, 1) when n is 0 (nothing is known)."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= correct <= n:
        raise ValueError(f"correct={correct} outside 0..{n}")
    p = correct / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # k=0 and k=n give exactly 0 and 1 on paper; float noise must not move them
    low = 0.0 if correct == 0 else max(0.0, centre - half)
    high = 1.0 if correct == n else min(1.0, centre + half)
    return low, high


def accuracy(correct: int, n: int) -> float:
    return correct / n if n else float("nan")


def macro_average(per_group: Mapping[str, tuple[int, int]]) -> float:
    """Mean of per-group accuracies (group -> (correct, n)); groups with n=0 are left out."""
    values = [c / n for c, n in per_group.values() if n > 0]
    return sum(values) / len(values) if values else float("nan")


def paired_difference(pairs: Iterable[tuple[bool, bool]], z: float = Z95) -> tuple[int, float, float, float]:
    """(n, diff, low, high) for accuracy(first) - accuracy(second) over the same items (`paired_counts`)."""
    a = b = c = d = 0  # both right, only first, only second, both wrong
    for first, second in pairs:
        if first and second:
            a += 1
        elif first:
            b += 1
        elif second:
            c += 1
        else:
            d += 1
    n, diff, low, high = paired_counts(a, b, c, d, z)
    return int(n), diff, low, high


def paired_counts(a: float, b: float, c: float, d: float, z: float = Z95) -> tuple[float, float, float, float]:
    """(n, diff, low, high) from a paired 2x2 table: both right, only first, only second, both wrong (counts may
    be effective, not whole).

    Newcombe (1998), method 10: the square-and-add interval built from both marginals' Wilson intervals and the
    phi correlation of the table, so agreement between the two sides narrows it; it stays inside [-1, 1]. Phi
    takes Newcombe's continuity correction (as in his method 11, which also corrects the Wilson limits; these
    are not corrected)."""
    n = a + b + c + d
    if n <= 0:
        return 0, float("nan"), -1.0, 1.0
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, z)
    l2, u2 = wilson(a + c, n, z)
    denom = math.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    # without the correction a table with no discordant pairs has phi = 1 and a zero-width interval, claiming
    # certainty that 40 items cannot give
    concordance = a * d - b * c
    if concordance > 0:
        concordance = max(concordance - n / 2, 0.0)
    phi = concordance / denom if denom else 0.0
    diff = p1 - p2
    low_gap = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    high_gap = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return n, diff, max(-1.0, diff - low_gap), min(1.0, diff + high_gap)


def stratum_weights(counts: Mapping[str, int], sizes: Mapping[str, int]) -> tuple[dict[str, float], float]:
    """Each sampled stratum's weight per item (W_h / n_h, the W_h summing to 1 over the strata sampled) and
    Kish's effective sample size of those weights."""
    covered = {h: n for h, n in counts.items() if n > 0}
    total = sum(sizes[h] for h in covered)
    if not covered or total <= 0:
        return {}, 0.0
    weights = {h: sizes[h] / total / n for h, n in covered.items()}
    return weights, 1.0 / sum(n * weights[h] ** 2 for h, n in covered.items())  # (sum w)^2 = 1


def weighted_accuracy(items: Iterable[tuple[str, bool]], sizes: Mapping[str, int],
                      z: float = Z95) -> tuple[float, float, float, float]:
    """(estimate, low, high, n_eff) of the split's micro accuracy from (stratum, correct) items; `sizes`: each
    stratum's questions in the split."""
    items = list(items)
    weights, n_eff = stratum_weights(Counter(h for h, _ in items), sizes)
    if not weights:
        return float("nan"), 0.0, 1.0, 0.0
    p = sum(weights[h] for h, right in items if right)
    low, high = wilson(min(p * n_eff, n_eff), n_eff, z)
    return p, low, high, n_eff


def weighted_paired(items: Iterable[tuple[str, bool, bool]], sizes: Mapping[str, int],
                    z: float = Z95) -> tuple[float, float, float, float]:
    """(n_eff, diff, low, high) of the split's paired difference from (stratum, first right, second right) items:
    the post-stratified 2x2 table at its effective size, through `paired_counts`."""
    items = list(items)
    weights, n_eff = stratum_weights(Counter(h for h, _, _ in items), sizes)
    if not weights:
        return 0.0, float("nan"), -1.0, 1.0
    a = b = c = d = 0.0  # both right, only first, only second, both wrong: shares of n_eff
    for h, first, second in items:
        w = weights[h] * n_eff
        if first and second:
            a += w
        elif first:
            b += w
        elif second:
            c += w
        else:
            d += w
    return paired_counts(a, b, c, d, z)


def p_value(interval_at) -> float:
    """The two-sided p-value of "the difference is 0" that matches an interval: the level at which
    `interval_at(z) -> (low, high)` just reaches 0 (found by bisection on z), so a test and its interval never
    disagree. 1.0 when even the narrowest interval holds 0."""
    low, high = interval_at(1e-9)
    if low <= 0.0 <= high:
        return 1.0
    lo, hi = 1e-9, 40.0
    if not interval_at(hi)[0] <= 0.0 <= interval_at(hi)[1]:
        return 0.0
    for _ in range(60):
        mid = (lo + hi) / 2
        low, high = interval_at(mid)
        lo, hi = (lo, mid) if low <= 0.0 <= high else (mid, hi)
    return math.erfc(hi / math.sqrt(2))


def holm(p_values: Mapping[str, float]) -> dict[str, float]:
    """Holm's step-down adjusted p-values for a family of tests (family-wise error held at the level)."""
    order = sorted(p_values, key=lambda k: p_values[k])
    m, running, out = len(order), 0.0, {}
    for rank, key in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[key]))
        out[key] = running
    return out


def cluster_bootstrap(clusters: Mapping, reps: int = 10_000, seed: int = 0,
                      level: float = 0.95) -> tuple[float, float, float]:
    """(diff, low, high): the mean of first - second over every pair, with a percentile interval from resampling
    whole clusters (a question id scored in several languages is one cluster: its pairs share the English
    answer, so they are not independent). Seeded: the same call gives the same interval."""
    import numpy as np

    sums = np.array([sum(int(a) - int(b) for a, b in pairs) for pairs in clusters.values()], dtype=float)
    sizes = np.array([len(pairs) for pairs in clusters.values()], dtype=float)
    if not sizes.sum():
        return float("nan"), -1.0, 1.0
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(sums), size=(reps, len(sums)))
    draws = sums[picks].sum(axis=1) / sizes[picks].sum(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(sums.sum() / sizes.sum()), float(low), float(high)
