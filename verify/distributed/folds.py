"""Streaming reducers: fold each lane into its chunk's summary in the worker, and chunk summaries
into one in the driver, in memory bounded by the summary's size (never by the number of lanes).

A :class:`Fold` is a commutative monoid over summaries with a way in for one lane:

* ``empty()``: the summary of no lanes (the identity of ``merge``);
* ``add(acc, index, item)``: ``acc`` with lane ``index``'s reduced value ``item`` folded in
  (runs in the worker, once per lane);
* ``merge(acc, other)``: the summary of the union of two disjoint sets of lanes; associative
  and commutative (runs in the driver, once per chunk, in whatever order chunks finish);
* ``finish(acc)``: the final value handed to the caller.

Invariant (tested as a property for every fold here): for any partition of the lanes into
chunks and any order of merging, ``finish`` gives the same value as adding every lane to one
summary. So a sweep's result depends neither on the chunking nor on the number of workers, and
a resumed sweep (chunks loaded from the store) equals a fresh one. ``add`` and ``merge`` may
update their first argument in place and return it; they never modify ``other``.

Provided: :class:`Count` (counts by a key), :class:`Sum` (exact totals), :class:`Histogram`
(exact bin edges), :class:`Smallest` (the ``k`` smallest lanes by a key, ties by index: the
counterexample candidates), :class:`Collect` (every lane's value in index order: unbounded,
for small sweeps and for lanes a claim needs whole), :class:`Filter` (a fold over the lanes
satisfying a predicate) and :class:`Fields` (several folds side by side, by name). Folds and the
functions they hold travel to worker processes, so they must pickle: module-level functions or
:func:`functools.partial` of them, not lambdas.

>>> lanes = [(0, "certified"), (1, "refuted"), (2, "certified"), (3, "inconclusive")]
>>> refuted = lambda index, status: status == "refuted"  # in a sweep: a module-level function
>>> fold = Fields(counts=Count(), first_refuted=Filter(refuted, Smallest(1, key=lane_index)))
>>> chunk_a, chunk_b = fold_lanes(fold, lanes[:2]), fold_lanes(fold, lanes[2:])
>>> fold.finish(fold.merge(chunk_b, chunk_a))
{'counts': {'certified': 2, 'inconclusive': 1, 'refuted': 1}, 'first_refuted': [(1, 1, 'refuted')]}
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Generic, Protocol, TypeVar

from verify.errors import InvalidArgument
from verify.exact import to_exact

T = TypeVar("T")
S = TypeVar("S")
R = TypeVar("R")
LaneFn = Callable[[int, Any], Any]  # (index, item) -> something


class Fold(Protocol[T, S, R]):
    """See the module doc: a commutative monoid of summaries, with ``add`` for one lane."""

    def empty(self) -> S: ...

    def add(self, acc: S, index: int, item: T) -> S: ...

    def merge(self, acc: S, other: S) -> S: ...

    def finish(self, acc: S) -> R: ...


def _item(index: int, item: Any) -> Any:
    return item


def lane_index(index: int, item: Any) -> int:
    """The key "lowest index first" (e.g. the first lane where something happened)."""
    return index


def fold_lanes(fold: Fold, lanes: Iterable[tuple[int, Any]], acc: Any = None) -> Any:
    """``acc`` (default: empty) with every ``(index, item)`` of ``lanes`` added: a chunk's summary."""
    acc = fold.empty() if acc is None else acc
    for index, item in lanes:
        acc = fold.add(acc, index, item)
    return acc


def merge_all(fold: Fold, summaries: Iterable[Any]) -> Any:
    """The merge of ``summaries`` (empty if there are none)."""
    acc = fold.empty()
    for s in summaries:
        acc = fold.merge(acc, s)
    return acc


@dataclass(frozen=True)
class Count:
    """How many lanes have each value of ``key(index, item)`` (default: the item itself).

    Summary: a dict key -> count. ``finish`` sorts it by key (keys must be comparable).
    """

    key: LaneFn = _item

    def empty(self) -> dict[Hashable, int]:
        return {}

    def add(self, acc: dict, index: int, item: Any) -> dict:
        k = self.key(index, item)
        acc[k] = acc.get(k, 0) + 1
        return acc

    def merge(self, acc: dict, other: dict) -> dict:
        for k, n in other.items():
            acc[k] = acc.get(k, 0) + n
        return acc

    def finish(self, acc: dict) -> dict:
        return dict(sorted(acc.items()))


@dataclass(frozen=True)
class Sum:
    """The exact total of ``value(index, item)`` over the lanes (ints and Fractions only: a float
    sum would depend on the order of the chunks)."""

    value: LaneFn = _item

    def empty(self) -> int | Fraction:
        return 0

    def add(self, acc: int | Fraction, index: int, item: Any) -> int | Fraction:
        v = self.value(index, item)
        if isinstance(v, bool) or not isinstance(v, int | Fraction):
            raise InvalidArgument("value", v, "must be an int or a Fraction (exact: a float sum depends on order)")
        return acc + v

    def merge(self, acc: int | Fraction, other: int | Fraction) -> int | Fraction:
        return acc + other

    def finish(self, acc: int | Fraction) -> int | Fraction:
        return acc


@dataclass(frozen=True)
class Histogram:
    """Counts of ``value(index, item)`` in the bins of exact ``edges`` ``e_0 < ... < e_m``.

    Summary: a list of ``m + 3`` counts: below ``e_0``, the bins ``[e_i, e_{i+1})``, at or above
    ``e_m``, and lanes whose value is None (missing). Values are compared exactly (a float at its
    binary value).
    """

    edges: Sequence[Any]
    value: LaneFn = _item

    def __post_init__(self) -> None:
        edges = tuple(to_exact(e, "edges") for e in self.edges)
        if not edges or any(a >= b for a, b in zip(edges, edges[1:], strict=False)):
            raise InvalidArgument("edges", [str(e) for e in edges], "must be a non-empty increasing sequence")
        object.__setattr__(self, "edges", edges)

    def empty(self) -> list[int]:
        return [0] * (len(self.edges) + 2)

    def add(self, acc: list[int], index: int, item: Any) -> list[int]:
        v = self.value(index, item)
        acc[-1 if v is None else bisect.bisect_right(self.edges, v)] += 1
        return acc

    def merge(self, acc: list[int], other: list[int]) -> list[int]:
        for k, n in enumerate(other):
            acc[k] += n
        return acc

    def finish(self, acc: list[int]) -> dict[str, Any]:
        return {"edges": [str(e) for e in self.edges], "below": acc[0], "counts": acc[1:-2],
                "above": acc[-2], "missing": acc[-1]}


@dataclass(frozen=True)
class Smallest:
    """The ``k`` lanes with the smallest ``key(index, item)`` (ties: lowest index), each kept as
    ``(key, index, keep(index, item))``; wrap in :class:`Filter` to choose among some lanes only.

    Summary: that list, sorted, at most ``k`` long: memory O(k) whatever the number of lanes.
    """

    k: int
    key: LaneFn
    keep: LaneFn = _item

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise InvalidArgument("k", self.k, "must be a positive integer")

    def empty(self) -> list[tuple[Any, int, Any]]:
        return []

    def add(self, acc: list, index: int, item: Any) -> list:
        key = self.key(index, item)
        if len(acc) == self.k and (key, index) >= acc[-1][:2]:
            return acc
        at = bisect.bisect_left([entry[:2] for entry in acc], (key, index))
        acc.insert(at, (key, index, self.keep(index, item)))
        del acc[self.k:]
        return acc

    def merge(self, acc: list, other: list) -> list:
        # indices are distinct across chunks, so comparisons never reach the kept values
        acc[:] = list(heapq.merge(acc, other, key=lambda entry: entry[:2]))[: self.k]
        return acc

    def finish(self, acc: list) -> list[tuple[Any, int, Any]]:
        return list(acc)


@dataclass(frozen=True)
class Collect:
    """Every lane's ``value(index, item)``, in index order (memory grows with the lanes)."""

    value: LaneFn = _item

    def empty(self) -> dict[int, Any]:
        return {}

    def add(self, acc: dict, index: int, item: Any) -> dict:
        acc[index] = self.value(index, item)
        return acc

    def merge(self, acc: dict, other: dict) -> dict:
        acc.update(other)
        return acc

    def finish(self, acc: dict) -> list[Any]:
        return [acc[i] for i in sorted(acc)]


@dataclass(frozen=True)
class Filter(Generic[S, R]):
    """``fold`` over the lanes with ``where(index, item)`` true only."""

    where: LaneFn
    fold: Any

    def empty(self) -> Any:
        return self.fold.empty()

    def add(self, acc: Any, index: int, item: Any) -> Any:
        return self.fold.add(acc, index, item) if self.where(index, item) else acc

    def merge(self, acc: Any, other: Any) -> Any:
        return self.fold.merge(acc, other)

    def finish(self, acc: Any) -> Any:
        return self.fold.finish(acc)


class Fields:
    """Several folds over the same lanes, by name: ``Fields(counts=Count(), cx=Smallest(...))``.

    Summary: a dict name -> that fold's summary; ``finish`` gives name -> finished value.
    """

    def __init__(self, **folds: Any) -> None:
        if not folds:
            raise InvalidArgument("folds", folds, "must name at least one fold")
        self.folds = dict(folds)

    def __repr__(self) -> str:
        return "Fields(" + ", ".join(f"{k}={v!r}" for k, v in self.folds.items()) + ")"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fields) and other.folds == self.folds

    def __hash__(self) -> int:
        return hash(tuple(self.folds))

    def empty(self) -> dict[str, Any]:
        return {name: f.empty() for name, f in self.folds.items()}

    def add(self, acc: dict, index: int, item: Any) -> dict:
        for name, f in self.folds.items():
            acc[name] = f.add(acc[name], index, item)
        return acc

    def merge(self, acc: dict, other: dict) -> dict:
        for name, f in self.folds.items():
            acc[name] = f.merge(acc[name], other[name])
        return acc

    def finish(self, acc: dict) -> dict[str, Any]:
        return {name: f.finish(acc[name]) for name, f in self.folds.items()}
