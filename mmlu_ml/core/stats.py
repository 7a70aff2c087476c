"""Intervals for accuracies: Wilson for one proportion, Newcombe's hybrid score interval for a paired difference.

Wilson rather than the normal approximation because small slices (--limit 5, one subject) are common and the
normal interval leaves [0, 1] and collapses at 0% or 100%.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

Z95 = 1.959963984540054


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
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
    """(n, diff, low, high) for accuracy(first) - accuracy(second) over the same items.

    Newcombe (1998), hybrid score interval: Wilson intervals of both marginals combined with the phi correlation
    of the 2x2 table, so agreement between the two sides narrows the interval; it stays inside [-1, 1]."""
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
    n = a + b + c + d
    if n == 0:
        return 0, float("nan"), -1.0, 1.0
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, z)
    l2, u2 = wilson(a + c, n, z)
    denom = math.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    # phi with Newcombe's continuity correction (his method 11): without it a table with no discordant pairs
    # has phi = 1 and a zero-width interval, claiming certainty that 40 items cannot give
    concordance = a * d - b * c
    if concordance > 0:
        concordance = max(concordance - n / 2, 0.0)
    phi = concordance / denom if denom else 0.0
    diff = p1 - p2
    low_gap = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    high_gap = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return n, diff, max(-1.0, diff - low_gap), min(1.0, diff + high_gap)
