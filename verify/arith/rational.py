"""Exact rational "enclosures": a ``Fraction`` is the point it encloses.

The forward pass of a network with exact parameters on exact inputs (pre-activations, their
signs, outputs) is rational, so it can be computed exactly; :class:`RationalBackend` does that
through the scalar-backend interface (and, lifted to arrays, through
:class:`verify.arith.arrays.ObjectArrays` as the ``"exact"`` arithmetic: the test reference for
the other arithmetics' products and elementwise operations). ``exp`` and ``log`` of a rational
are not rational: they raise rather than round.
"""

from __future__ import annotations

from fractions import Fraction

from verify.arith.base import Backend


class RationalBackend(Backend):
    """Exact ``Fraction`` arithmetic; every value is a point."""

    name = "exact"

    def __init__(self, prec: int = 1 << 16) -> None:  # no rounding: the precision is unbounded
        super().__init__(prec)

    def with_prec(self, prec: int) -> RationalBackend:
        return self

    def exact(self, q: Fraction) -> Fraction:
        return Fraction(q)

    def lower(self, x: Fraction) -> Fraction:
        return x

    def upper(self, x: Fraction) -> Fraction:
        return x

    def is_finite(self, x: Fraction) -> bool:
        return True

    def _transcendental(self, name: str) -> None:
        raise ArithmeticError(f"{name} of a rational is not rational: the exact arithmetic cannot compute it "
                              "(use an interval arithmetic: 'arb', 'f64' or 'mpmath')")

    def exp(self, x: Fraction) -> Fraction:
        self._transcendental("exp")

    def log(self, x: Fraction) -> Fraction:
        self._transcendental("log")

    def log1p(self, x: Fraction) -> Fraction:
        self._transcendental("log1p")

    def relu(self, x: Fraction) -> Fraction:
        return max(x, Fraction(0))

    def hull(self, x: Fraction, y: Fraction) -> Fraction:
        if x != y:
            raise ArithmeticError("the hull of two different rationals is not a rational point")
        return x

    def sign(self, x: Fraction) -> int:
        return (x > 0) - (x < 0)
