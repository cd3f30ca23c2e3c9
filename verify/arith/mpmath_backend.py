"""Interval arithmetic on mpmath's ``iv`` context, made rigorous.

``+ - * /`` of mpmath intervals round outward and are trusted. Its ``exp`` is
not: for some exact inputs the upper endpoint comes back one unit in the last
place *below* the true value (mpmath issue #1181, open in 1.3 and 1.4). So every
transcendental result is widened outward by ``WIDEN_ULPS`` units of the working
precision, relative to each endpoint, plus an absolute ``2**-(2*prec)`` — far
more than the observed 1-ulp error. ``exp`` clamps its argument to ``[-2**64, 2**64]``
(:data:`EXP_CLAMP`): beyond, the enclosure is ``[exp(2**64), +inf]`` or ``[0, exp(-2**64)]``
(monotonicity), instead of an argument reduction with billions of bits that never ends (a
diverging GD run reaches ``exp(10**111893886690)`` in three steps). Each backend owns a private
``MPIntervalContext`` so its precision never leaks into other code.
"""

from __future__ import annotations

from fractions import Fraction

from mpmath.ctx_iv import MPIntervalContext
from mpmath.libmp import (
    finf,
    from_int,
    from_rational,
    fzero,
    mpf_abs,
    mpf_add,
    mpf_le,
    mpf_lt,
    mpf_mul,
    mpf_neg,
    mpf_sub,
    round_ceiling,
    round_floor,
)
from mpmath.libmp import to_float as mpf_to_float

from verify.arith.base import Backend, dyadic_to_fraction
from verify.arith.tri import Tri

WIDEN_ULPS = 16
EXP_CLAMP = 64  # exp's argument is clamped to [-2**EXP_CLAMP, 2**EXP_CLAMP]


def _mpf_to_fraction(t: tuple) -> Fraction:
    if t[1] == 0 and t != fzero:  # mpmath's +inf, -inf and nan have a zero mantissa
        raise ArithmeticError("interval endpoint is not finite")
    if t == fzero:
        return Fraction(0)
    sign, man, exp, _ = t
    return dyadic_to_fraction(-int(man) if sign else int(man), int(exp))


def _clamp(t: tuple, big: tuple) -> tuple:
    """``t`` clamped to ``[-big, big]``."""
    if mpf_lt(big, t):
        return big
    if mpf_lt(t, mpf_neg(big)):
        return mpf_neg(big)
    return t


def _finite(t: tuple) -> bool:
    return t == fzero or t[1] != 0


class MpmathBackend(Backend):
    """Outward-rounded intervals ``[a, b]`` via mpmath, with widened ``exp``/``log``."""

    name = "mpmath"

    def __init__(self, prec: int = 128) -> None:
        super().__init__(prec)
        self.ctx = MPIntervalContext()
        self.ctx.prec = self.prec
        # relative widening factor 2**-(prec - log2(WIDEN_ULPS)) and absolute floor
        self._rel = from_rational(WIDEN_ULPS, 1 << self.prec, self.prec, round_ceiling)
        self._abs = from_rational(1, 1 << (2 * self.prec), self.prec, round_ceiling)

    def exact(self, q: Fraction):
        ctx = self.ctx
        return ctx.mpf(q.numerator) / ctx.mpf(q.denominator)

    def lower(self, x) -> Fraction:
        return _mpf_to_fraction(x._mpi_[0])

    def upper(self, x) -> Fraction:
        return _mpf_to_fraction(x._mpi_[1])

    def is_finite(self, x) -> bool:
        a, b = x._mpi_
        return _finite(a) and _finite(b)

    def to_float(self, x) -> float:
        a, b = x._mpi_
        return mpf_to_float(a) / 2 + mpf_to_float(b) / 2  # for plots only; huge values read as inf

    def _widen(self, x):
        """Push both endpoints outward by WIDEN_ULPS relative ulps plus the absolute floor."""
        a, b = x._mpi_
        p = self.prec
        pad_a = mpf_add(mpf_mul(mpf_abs(a), self._rel, p, round_ceiling), self._abs, p, round_ceiling)
        pad_b = mpf_add(mpf_mul(mpf_abs(b), self._rel, p, round_ceiling), self._abs, p, round_ceiling)
        lo = mpf_sub(a, pad_a, p, round_floor)
        hi = mpf_add(b, pad_b, p, round_ceiling)
        return self.ctx.make_mpf((lo, hi))

    def exp(self, x):
        a, b = x._mpi_
        big = from_int(1 << EXP_CLAMP)
        over, under = mpf_lt(big, b), mpf_lt(a, mpf_neg(big))
        if over or under or mpf_lt(big, a) or mpf_lt(b, mpf_neg(big)):
            x = self.ctx.make_mpf((_clamp(a, big), _clamp(b, big)))
        y = self._widen(self.ctx.exp(x))
        lo, hi = y._mpi_
        if mpf_lt(lo, fzero) or under:  # exp is positive: do not let the widening cross 0
            lo = fzero
        if over:
            hi = finf
        return self.ctx.make_mpf((lo, hi))

    def log(self, x):
        return self._widen(self.ctx.log(x))

    def log1p(self, x):
        return self._widen(self.ctx.log1p(x))

    def relu(self, x):
        a, b = x._mpi_
        if not mpf_lt(a, fzero):
            return x
        if not mpf_lt(fzero, b):
            return self.ctx.make_mpf((fzero, fzero))
        return self.ctx.make_mpf((fzero, b))

    def hull(self, x, y):
        lo = min(self.lower(x), self.lower(y))
        hi = max(self.upper(x), self.upper(y))
        return self.ctx.make_mpf((self._round(lo, round_floor), self._round(hi, round_ceiling)))

    def _round(self, q: Fraction, rnd: str) -> tuple:
        return from_rational(q.numerator, q.denominator, self.prec, rnd)

    # comparisons on the endpoints themselves: no Fraction, whatever their exponents
    def lt(self, x, y) -> Tri:
        (xa, xb), (ya, yb) = x._mpi_, y._mpi_
        return Tri.of(mpf_lt(xb, ya), mpf_le(yb, xa))

    def le(self, x, y) -> Tri:
        (xa, xb), (ya, yb) = x._mpi_, y._mpi_
        return Tri.of(mpf_le(xb, ya), mpf_lt(yb, xa))

    def sign(self, x) -> int | None:
        a, b = x._mpi_
        if mpf_lt(fzero, a):
            return 1
        if mpf_lt(b, fzero):
            return -1
        if a == fzero and b == fzero:
            return 0
        return None

