"""Arb balls from python-flint: the fast, default rigorous backend.

Arb guarantees every operation's ball contains the exact result, including
``exp``/``log``/``log1p``; we rely on that and add exact endpoint extraction.
Flint's working precision is process-global, so it is set inside
:meth:`ArbBackend.working_precision` and restored in ``finally``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction

import flint
from flint import arb, fmpq

from verify.arith.base import Backend, Native


def _exact_arb_to_fraction(x: arb) -> Fraction:
    """An exact (radius-zero) arb as a Fraction."""
    if x.is_zero():
        return Fraction(0)
    man, exp = x.man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * (1 << exp)) if exp >= 0 else Fraction(man, 1 << -exp)


class ArbBackend(Backend):
    """Ball arithmetic ``[m +/- r]`` via python-flint's ``arb``."""

    name = "arb"

    @contextmanager
    def working_precision(self) -> Iterator[None]:
        saved = flint.ctx.prec
        flint.ctx.prec = self.prec
        try:
            yield
        finally:
            flint.ctx.prec = saved

    def exact(self, q: Fraction) -> arb:
        with self.working_precision():
            return arb(fmpq(q.numerator, q.denominator))

    def from_doubles(self, lo: float, hi: float) -> arb:
        # arb(double) is exact; the union rounds outward, so the ball contains [lo, hi]
        if flint.ctx.prec != self.prec:
            with self.working_precision():
                return self.from_doubles(lo, hi)
        return arb(lo).union(arb(hi)) if lo != hi else arb(lo)

    def lower(self, x: arb) -> Fraction:
        self._require_finite(x)
        return _exact_arb_to_fraction(x.mid()) - _exact_arb_to_fraction(x.rad())

    def upper(self, x: arb) -> Fraction:
        self._require_finite(x)
        return _exact_arb_to_fraction(x.mid()) + _exact_arb_to_fraction(x.rad())

    def mid(self, x: arb) -> Fraction:
        self._require_finite(x)
        return _exact_arb_to_fraction(x.mid())

    def width(self, x: arb) -> Fraction:
        self._require_finite(x)
        return 2 * _exact_arb_to_fraction(x.rad())

    def to_float(self, x: arb) -> float:
        return float(x.mid())

    @staticmethod
    def _require_finite(x: arb) -> None:
        if not x.is_finite():
            raise ArithmeticError(f"enclosure {x} is not finite")

    def is_finite(self, x: Native) -> bool:
        return bool(x.is_finite())

    def exp(self, x: arb) -> arb:
        return x.exp()

    def log(self, x: arb) -> arb:
        return x.log()

    def log1p(self, x: arb) -> arb:
        return x.log1p()

    def relu(self, x: arb) -> arb:
        # arb_nonnegative_part: x itself if x >= 0, exact 0 if x < 0, else [r/2 +/- r/2].
        return x.nonnegative_part()

    def hull(self, x: arb, y: arb) -> arb:
        return x.union(y)

    def min2(self, x: arb, y: arb) -> arb:
        return x.min(y)

    def max2(self, x: arb, y: arb) -> arb:
        return x.max(y)

    def sign(self, x: arb) -> int | None:
        if x > 0:
            return 1
        if x < 0:
            return -1
        if x.is_zero():
            return 0
        return None

    def overlaps(self, x: arb, y: arb) -> bool:
        return bool(x.overlaps(y))
