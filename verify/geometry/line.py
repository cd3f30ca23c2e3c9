"""Decision geometry of a ReLU network on the real line (input dimension 1, any width).

``Phi(x) = sum_j a_j relu(w_j x + b_j)`` is piecewise linear with kinks at
``-b_j / w_j``. Between consecutive kinks the set of active neurons is fixed, so
the *decision set* ``{x : Phi(x) = 0}`` is a union of points (roots of the linear
pieces) and intervals (pieces where no neuron is active, or where the active
ones cancel exactly: paper A's *degenerate interval*).

Every case split (signs of ``w_j``, order of kinks, root inside its piece) is
taken only when certified; otherwise :class:`~verify.errors.UndecidableError` is
raised. Returned endpoints are enclosures of the exact endpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from verify.arith import Enclosure, Tri
from verify.errors import UndecidableError

Neuron = tuple[Enclosure, Enclosure, Enclosure]  # (w_j, b_j, a_j)


@dataclass(frozen=True)
class ZeroSet:
    """One connected component of ``{Phi = 0}``: ``[lo, hi]``; ``None`` means infinite."""

    lo: Enclosure | None
    hi: Enclosure | None
    degenerate: bool  # True for an interval of positive length


def _certain_sign(x: Enclosure, what: str) -> int:
    s = x.sign()
    if s is None:
        raise UndecidableError(f"sign of {what} is undecided: {x!r}")
    return s


def _kinks(neurons: Sequence[Neuron]) -> list[tuple[Enclosure, int]]:
    """Kinks ``(-b_j / w_j, j)`` sorted with certified strict order."""
    kinks = []
    for j, (w, b, _) in enumerate(neurons):
        if _certain_sign(w, f"w{j + 1}") != 0:
            kinks.append((-b / w, j))
    kinks.sort(key=lambda kj: kj[0].mid)
    for (k1, j1), (k2, j2) in zip(kinks, kinks[1:], strict=False):
        if not ((k1 < k2).certainly() or _same_point(k1, k2)):
            raise UndecidableError(f"order of the kinks of neurons {j1 + 1} and {j2 + 1} is undecided")
    return kinks


def _same_point(x: Enclosure | None, y: Enclosure | None) -> bool:
    """Certainly the same real: the same enclosure, or two equal exact points."""
    if x is None or y is None:
        return False
    return x is y or (x.width == 0 and y.width == 0 and x.lower == y.lower)


def decision_set(neurons: Sequence[Neuron]) -> list[ZeroSet]:
    """The components of ``{x in R : Phi(x) = 0}``, left to right."""
    kinks = _kinks(neurons)
    bounds: list[Enclosure | None] = [None] + [k for k, _ in kinks] + [None]
    zeros: list[ZeroSet] = []
    for p in range(len(bounds) - 1):
        lo, hi = bounds[p], bounds[p + 1]
        if _same_point(lo, hi):
            continue  # coincident kinks: an empty open piece
        slope = intercept = None
        on_here = []
        for j, (w, b, a) in enumerate(neurons):
            sw = w.sign()
            if sw == 0:
                on = _certain_sign(b, f"b{j + 1}") > 0
            else:
                rank = next(r for r, (_, jj) in enumerate(kinks) if jj == j)
                on = (rank < p) if sw > 0 else (rank >= p)  # right of its kink iff rank < p
            if on:
                on_here.append(j)
                slope = a * w if slope is None else slope + a * w
                intercept = a * b if intercept is None else intercept + a * b
        if slope is None or (slope.sign() == 0 and intercept.sign() == 0):
            zeros.append(ZeroSet(lo, hi, degenerate=True))
            continue
        if _certain_sign(slope, "the slope of a linear piece") == 0:
            continue  # nonzero constant on this piece
        if len(on_here) == 1:
            # one active neuron: its root is exactly its own kink, an end of this piece or outside it
            j = on_here[0]
            kink = next(k for k, jj in kinks if jj == j)
            end = lo if neurons[j][0].sign() > 0 else hi
            if _same_point(end, kink):
                zeros.append(ZeroSet(kink, kink, degenerate=False))
            continue
        root = -intercept / slope
        inside = Tri.TRUE
        if lo is not None:
            inside = inside & (lo <= root)
        if hi is not None:
            inside = inside & (root <= hi)
        if inside is Tri.UNKNOWN:
            raise UndecidableError(f"whether the root {root!r} lies in its piece is undecided")
        if inside is Tri.TRUE:
            zeros.append(ZeroSet(root, root, degenerate=False))
    return _merge(zeros)


def _merge(zeros: list[ZeroSet]) -> list[ZeroSet]:
    """Join components that share an endpoint (a root at the edge of a degenerate piece)."""
    merged: list[ZeroSet] = []
    for z in zeros:
        if merged and _same_point(merged[-1].hi, z.lo):
            prev = merged.pop()
            z = ZeroSet(prev.lo, z.hi, degenerate=prev.degenerate or z.degenerate)
        merged.append(z)
    return merged


def output(neurons: Sequence[Neuron], x: Fraction | int | Enclosure) -> Enclosure:
    """``Phi(x)`` as an enclosure."""
    total = None
    for w, b, a in neurons:
        term = a * (w * x + b).relu()
        total = term if total is None else total + term
    return total


def margin(neurons: Sequence[Neuron], X: Sequence[Fraction], y: Sequence[int]) -> Enclosure:
    """Robustness margin: ``min_i`` distance from ``x_i`` to ``{x : y_i Phi(x) <= 0}``.

    Zero when some point is not strictly correctly classified.
    """
    zero = neurons[0][0] * 0
    for xi, yi in zip(X, y, strict=True):
        correct = output(neurons, xi) * yi > 0
        if correct is Tri.FALSE:
            return zero
        if correct is Tri.UNKNOWN:
            raise UndecidableError(f"whether x={xi} is correctly classified is undecided")
    best: Enclosure | None = None
    for xi in X:
        for comp in decision_set(neurons):
            d = zero
            if comp.lo is not None:
                d = d.max(comp.lo - xi)
            if comp.hi is not None:
                d = d.max(xi - comp.hi)
            best = d if best is None else best.min(d)
    if best is None:
        raise UndecidableError("the decision set is empty although both classes are correct")
    return best
