"""Which lanes a sweep still has to compute, given the chunks a store already holds.

Lanes ``0 .. n - 1`` are cut on a fixed grid of ``chunk_size`` (chunk ``k`` is
``[k * chunk_size, (k + 1) * chunk_size)``), independent of the number of workers, so a resumed
run meets the boundaries of the run it resumes. Stored chunks of another chunking are used
too: :func:`choose_tiling` picks non-overlapping ones, and :func:`gaps` cuts what they leave
uncovered on the grid. Invariant: the chosen stored chunks and the gaps tile ``[0, n)``
exactly, without overlap.

>>> gaps(10, 4, [(4, 6)])
[(0, 4), (6, 8), (8, 10)]
"""

from __future__ import annotations

from collections.abc import Iterable

Range = tuple[int, int]


def choose_tiling(n: int, stored: Iterable[Range]) -> list[Range]:
    """Stored ranges inside ``[0, n)``, none overlapping another (earliest start, then longest, first)."""
    chosen: list[Range] = []
    end = 0
    for a, b in sorted(stored, key=lambda r: (r[0], -r[1])):
        if a >= end and b <= n and a < b:
            chosen.append((a, b))
            end = b
    return chosen


def gaps(n: int, chunk_size: int, covered: Iterable[Range]) -> list[Range]:
    """The uncovered parts of ``[0, n)`` (``covered``: disjoint ranges), cut on the grid of ``chunk_size``."""
    out: list[Range] = []
    at = 0
    for a, b in [*sorted(covered), (n, n)]:
        while at < a:
            stop = min(a, (at // chunk_size + 1) * chunk_size)
            out.append((at, stop))
            at = stop
        at = max(at, b)
    return out
