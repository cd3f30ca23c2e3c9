"""Exact entry of inputs: every number enters as a :class:`fractions.Fraction`.

Accepted: ``int``, ``Fraction``, decimal or rational strings (``"0.1"``, ``"1/3"``,
``"-2.5e-3"``), and binary floats taken at their *exact* binary value
(``0.1`` becomes 3602879701896397/36028797018963968, not 1/10). NaN, infinities,
booleans and anything else are rejected with an error naming the field.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from fractions import Fraction
from numbers import Rational

from verify.errors import InvalidArgument

ExactLike = int | float | str | Fraction

# Exact values are written as exact decimal text (results.json, digests, counterexamples): an input
# such as eta = 1e5000 has 5,001 digits, past Python's default limit of 4,300 for int <-> str, which
# guards servers against quadratic parsing, not an exact-arithmetic tool against its own values.
# The sizes here are bounded by the inputs and by verify.arith.base.MAX_EXACT_BITS.
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)


def to_exact(value: object, field: str) -> Fraction:
    """Return ``value`` as an exact rational, or raise naming ``field``.

    >>> to_exact("0.1", "eta")
    Fraction(1, 10)
    >>> to_exact(0.5, "w1")
    Fraction(1, 2)
    """
    if isinstance(value, bool):
        raise InvalidArgument(field, value, "must be a number, not a bool")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int | Rational):
        return Fraction(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
            raise InvalidArgument(field, value, "must be finite")
        try:
            return Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise InvalidArgument(field, value, "must be a decimal or rational number") from None
    if hasattr(value, "dtype") and hasattr(value, "item"):  # numpy scalar
        return to_exact(value.item(), field)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgument(field, value, "must be finite")
        return Fraction(value)
    raise InvalidArgument(field, value, "must be an int, float, decimal string or Fraction")


def to_exact_vector(values: Iterable[object], field: str) -> tuple[Fraction, ...]:
    """Exact entry of a sequence; the error names the element, e.g. ``x[2]``."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidArgument(field, values, "must be a sequence of numbers")
    return tuple(to_exact(v, f"{field}[{i}]") for i, v in enumerate(values))


def require_positive(value: Fraction, field: str) -> Fraction:
    """Raise unless ``value > 0``."""
    if value <= 0:
        raise InvalidArgument(field, str(value), "must be > 0")
    return value
