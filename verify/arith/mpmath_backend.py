"""Interval arithmetic on mpmath's ``iv`` context, made rigorous.

``+ - * /`` of mpmath intervals round outward and are trusted. Its ``exp`` is
not: for some exact inputs the upper endpoint comes back one unit in the last
place *below* the true value (mpmath issue #1181, open in 1.3 and 1.4). So every
transcendental result is widened outward by ``WIDEN_ULPS`` units of the working
precision, relative to each endpoint, plus an absolute ``2**-(2*prec)`` — far
more than the observed 1-ulp error. Each backend owns a private
``MPIntervalContext`` so its precision never leaks into other code.
"""

from __future__ import annotations

from fractions import Fraction

from mpmath.ctx_iv import MPIntervalContext
from mpmath.libmp import (
    from_rational,
    fzero,
    mpf_abs,
    mpf_add,
    mpf_lt,
    mpf_mul,
    mpf_sub,
    round_ceiling,
    round_floor,
    to_rational,
)

from verify.arith.base import Backend

WIDEN_ULPS = 16


def _mpf_to_fraction(t: tuple) -> Fraction:
    if t[1] == 0 and t != fzero:  # mpmath's +inf, -inf and nan have a zero mantissa
        raise ArithmeticError("interval endpoint is not finite")
    p, q = to_rational(t)
    return Fraction(p, q)


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
        y = self._widen(self.ctx.exp(x))
        lo, hi = y._mpi_
        if mpf_lt(lo, fzero):  # exp is positive: do not let the widening cross 0
            y = self.ctx.make_mpf((fzero, hi))
        return y

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

    def sign(self, x) -> int | None:
        a, b = x._mpi_
        if mpf_lt(fzero, a):
            return 1
        if mpf_lt(b, fzero):
            return -1
        if a == fzero and b == fzero:
            return 0
        return None

