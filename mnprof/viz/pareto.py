"""Pareto fronts, exactly: a point is on the front when no other point is at least as
good on every axis and better on one.

Each axis says which way is better (``LOWER`` or ``HIGHER``). Equal points do not
dominate each other, so duplicates are on the front together. Pure Python, no
numpy: a sweep has tens of points, and the quadratic check is the definition
itself, so there is nothing to get subtly wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

LOWER, HIGHER = -1, 1


def dominates(a: Sequence[float], b: Sequence[float], senses: Sequence[int]) -> bool:
    """Whether ``a`` is at least as good as ``b`` on every axis and better on one."""
    better = False
    for x, y, sense in zip(a, b, senses, strict=True):
        if (x - y) * sense < 0:
            return False
        if (x - y) * sense > 0:
            better = True
    return better


def front(points: Sequence[Sequence[float]], senses: Sequence[int]) -> list[int]:
    """Indices of the points on the front, in the order given."""
    return [i for i, p in enumerate(points)
            if not any(dominates(q, p, senses) for j, q in enumerate(points) if j != i)]
