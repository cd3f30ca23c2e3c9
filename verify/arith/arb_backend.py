"""Arb balls from python-flint: the fast, default rigorous backend.

Arb guarantees every operation's ball contains the exact result, including
``exp``/``log``/``log1p``; we rely on that and add exact endpoint extraction.
Flint's working precision is process-global, so it is set inside
:meth:`ArbBackend.working_precision` and restored in ``finally``; every operation of the backend
that rounds (``exact``, ``exp``, ``hull``, ``min2``, ...) runs at the backend's precision even when
called outside that scope (else it would round at flint's global 53 bits: sound, but a 256-bit
enclosure would come back 10^-16 wide).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction

import flint
from flint import arb, fmpq

from verify.arith.base import MAX_EXACT_BITS, MAX_PREC, Backend, Native, dyadic_to_fraction
from verify.arith.tri import Tri
from verify.errors import HugeValue

# Outward rounding of an endpoint beyond MAX_EXACT_BITS: such a magnitude is above 2**(MAX_EXACT_BITS -
# 2 * MAX_PREC) or below its inverse, far outside [2**-4096, 2**4096].
BOUNDED_BITS = 4096
assert BOUNDED_BITS < MAX_EXACT_BITS - 2 * MAX_PREC - 256
BOUND, TINY = Fraction(1 << BOUNDED_BITS), Fraction(1, 1 << BOUNDED_BITS)


def _exact_arb_to_fraction(x: arb) -> Fraction:
    """An exact (radius-zero) arb as a Fraction (:class:`~verify.errors.HugeValue` when astronomically
    large or fine: :func:`~verify.arith.base.dyadic_to_fraction`)."""
    if x.is_zero():
        return Fraction(0)
    man, exp = x.man_exp()
    return dyadic_to_fraction(int(man), int(exp))


def _at_prec(fn: Callable) -> Callable:
    """Run the method at the backend's precision (cheap when already inside its scope)."""

    @functools.wraps(fn)
    def at_prec(self: ArbBackend, *args: object) -> object:
        if flint.ctx.prec == self.prec:
            return fn(self, *args)
        with self.working_precision():
            return fn(self, *args)

    return at_prec


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

    @_at_prec
    def exact(self, q: Fraction) -> arb:
        return arb(fmpq(q.numerator, q.denominator))

    def from_doubles(self, lo: float, hi: float) -> arb:
        # arb(double) is exact; the union rounds outward, so the ball contains [lo, hi]
        if flint.ctx.prec != self.prec:
            with self.working_precision():
                return self.from_doubles(lo, hi)
        return arb(lo).union(arb(hi)) if lo != hi else arb(lo)

    def kernel(self, name: str):
        """Arb's own ``exp``/``log``/``log1p`` (no precision check: the caller is inside the scope)."""
        raw = {"exp": arb.exp, "log": arb.log, "log1p": arb.log1p}.get(name)
        return raw if raw is not None else getattr(self, name)

    def lower(self, x: arb) -> Fraction:
        self._require_finite(x)
        try:
            return _exact_arb_to_fraction(x.mid()) - _exact_arb_to_fraction(x.rad())
        except HugeValue:
            return self._bounded_endpoint(x, upper=False)

    def upper(self, x: arb) -> Fraction:
        self._require_finite(x)
        try:
            return _exact_arb_to_fraction(x.mid()) + _exact_arb_to_fraction(x.rad())
        except HugeValue:
            return self._bounded_endpoint(x, upper=True)

    def _bounded_endpoint(self, x: arb, upper: bool) -> Fraction:
        """An endpoint whose exact expansion is astronomically large, rounded outward to a rational of
        bounded size: the endpoint at the working precision (Arb rounds it outward); then a magnitude
        below ``2**-BOUNDED_BITS`` rounds outward to 0 or ``+-2**-BOUNDED_BITS``, and one above
        ``2**BOUNDED_BITS`` to ``+-2**BOUNDED_BITS`` where that is on the outer side. Only the upper
        end of a huge positive value (the lower of a huge negative one) has no such bound: refused."""
        with self.working_precision():
            end = x.upper() if upper else x.lower()
        try:
            return _exact_arb_to_fraction(end)
        except HugeValue as huge:
            big = end.mid().man_exp()[1] > 0  # astronomically large (else astronomically small)
            positive = end > 0
            if big and positive != upper:  # e.g. the lower end of a huge positive value: 2**B is below it
                return BOUND if positive else -BOUND
            if big:
                raise huge
            if upper:
                return TINY if positive else Fraction(0)
            return Fraction(0) if positive else -TINY

    def mid(self, x: arb) -> Fraction:
        self._require_finite(x)
        return _exact_arb_to_fraction(x.mid())

    def width(self, x: arb) -> Fraction:
        """``upper - lower`` (0 exactly for a point); for astronomically fine or large balls an upper
        bound of the width, from the outward bounded endpoints."""
        self._require_finite(x)
        if x.rad() == 0:
            return Fraction(0)
        try:
            return 2 * _exact_arb_to_fraction(x.rad())
        except HugeValue:
            return self.upper(x) - self.lower(x)

    def to_float(self, x: arb) -> float:
        """The centre as a float, for plots only (``+-inf`` or 0 beyond the double range)."""
        m = x.mid()
        if m.is_zero():
            return 0.0
        man, exp = m.man_exp()
        e = int(exp) + int(man).bit_length()
        if e > 1025:
            return math.inf if m > 0 else -math.inf
        if e < -1100:
            return 0.0
        return float(m)

    @staticmethod
    def _require_finite(x: arb) -> None:
        if not x.is_finite():
            raise ArithmeticError(f"enclosure {x} is not finite")

    def is_finite(self, x: Native) -> bool:
        return bool(x.is_finite())

    @_at_prec
    def exp(self, x: arb) -> arb:
        return x.exp()

    @_at_prec
    def log(self, x: arb) -> arb:
        return x.log()

    @_at_prec
    def log1p(self, x: arb) -> arb:
        return x.log1p()

    @_at_prec
    def relu(self, x: arb) -> arb:
        # arb_nonnegative_part: x itself if x >= 0, exact 0 if x < 0, else [r/2 +/- r/2].
        return x.nonnegative_part()

    @_at_prec
    def hull(self, x: arb, y: arb) -> arb:
        return x.union(y)

    @_at_prec
    def min2(self, x: arb, y: arb) -> arb:
        return x.min(y)

    @_at_prec
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

    # Arb decides comparisons on the balls themselves (exactly, whatever their exponents), so a huge
    # or astronomically fine enclosure is compared without expanding its endpoints into Fractions.
    def outside(self, x: arb, lo: arb | None, hi: arb | None) -> bool:
        return (hi is not None and bool(x > hi)) or (lo is not None and bool(x < lo))

    def lt(self, x: arb, y: arb) -> Tri:
        return Tri.of(bool(x < y), bool(x >= y))

    def le(self, x: arb, y: arb) -> Tri:
        return Tri.of(bool(x <= y), bool(x > y))
