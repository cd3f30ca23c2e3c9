"""Printing exact numbers for people: short decimals of exact rationals and enclosures.

Exact values stay exact in ``results.json``; these helpers only decide how a number *reads* in a
terminal or a report. They never round anything used for a decision.

>>> short(Fraction(1, 3))
'0.3333333333'
>>> short(Fraction(3602879701896397, 36028797018963968))  # the double nearest 0.1
'0.1'
>>> short("-7/2")
'-3.5'
>>> short(Fraction(10**400, 3))
'3.333333333e+399'
"""

from __future__ import annotations

from fractions import Fraction

DIGITS = 10


def _scientific(q: Fraction, digits: int, rounding: str) -> tuple[int, int]:
    """``(m, e)`` with ``|q| ~ m * 10^(e - digits + 1)`` and ``10^(digits-1) <= m <= 10^digits``; ``m`` rounds
    ``|q|`` to nearest, or outward/inward as ``rounding`` asks for the signed value (``"down"`` is toward
    -inf, ``"up"`` toward +inf). Exact integer arithmetic: huge and tiny values cost their digit count."""
    a = abs(q)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    e = (e * 30103) // 100000  # ~ log10(2) * binary exponent, within one of the decimal exponent
    while Fraction(10) ** e > a:
        e -= 1
    while Fraction(10) ** (e + 1) <= a:
        e += 1
    scaled = a / Fraction(10) ** (e - digits + 1)
    away = (rounding == "up" and q > 0) or (rounding == "down" and q < 0)
    toward = (rounding == "up" and q < 0) or (rounding == "down" and q > 0)
    m = -((-scaled.numerator) // scaled.denominator) if away else (int(scaled) if toward else round(scaled))
    if m >= 10**digits:  # rounding carried into a new digit: m = 10^digits exactly
        m, e = m // 10, e + 1
    return m, e


def short(value: object, digits: int = DIGITS, rounding: str = "nearest") -> str:
    """A decimal with at most ``digits`` significant digits (scientific beyond 1e12 or below 1e-6),
    rounded to nearest, ``"down"`` (toward -inf: a printed lower bound stays a lower bound) or ``"up"``.

    ``value`` is a Fraction, an int, or a rational string such as ``"3/8"``; other strings are returned
    as they are (e.g. an already formatted enclosure).
    """
    if isinstance(value, str):
        try:
            value = Fraction(value)
        except (ValueError, ZeroDivisionError):
            return value
    q = Fraction(value)
    if q == 0:
        return "0"
    m, e = _scientific(q, digits, rounding)
    sign = "-" if q < 0 else ""
    mant = str(m).rstrip("0") or "0"
    if e > 12 or e < -6:
        body = mant[0] + ("." + mant[1:] if len(mant) > 1 else "")
        return f"{sign}{body}e{'+' if e >= 0 else '-'}{abs(e):02d}"
    if e >= len(mant) - 1:
        return sign + mant + "0" * (e - len(mant) + 1)
    if e >= 0:
        return f"{sign}{mant[:e + 1]}.{mant[e + 1:]}"
    return f"{sign}0.{'0' * (-e - 1)}{mant}"


def short_interval(lo: object, hi: object, digits: int = DIGITS) -> str:
    """``[lo, hi]`` printed outward: the printed interval contains the exact one.

    >>> short_interval(Fraction(1, 3), Fraction(2, 3), 3)
    '[0.333, 0.667]'
    """
    return f"[{short(lo, digits, 'down')}, {short(hi, digits, 'up')}]"


def short_enclosure(x: object, digits: int = DIGITS) -> str:
    """An enclosure (anything with exact ``lower`` / ``upper``) printed outward, e.g. ``[0.333, 0.334]``;
    one whose endpoints are too large to expand exactly (or not finite) is printed by its backend (``text()``, e.g.
    ``[3.3769e+111893886684 +/- 1.32e+111893886679]``)."""
    try:
        return short_interval(x.lower, x.upper, digits)
    except ArithmeticError:  # HugeValue, or not finite
        return x.text(digits) if hasattr(x, "text") else "[not expandable]"
