"""Exact integer matrix products at BLAS speed, and rational bounds of real numbers.

``int_matmul(A, B)`` returns the exact integer product of two integer matrices. When every
partial sum is bounded by ``max|A| * max|B| * inner <= 2**53``, a float64 BLAS product is exact
whatever the summation order (every product and every partial sum is an integer representable in
float64, FMA included), so it is used directly; otherwise ``A`` is split into 2**s-limbs small
enough for that bound and the limb products are recombined in Python integers (``object`` arrays).

``sqrt_bracket`` / ``arb_bracket`` turn a real number into two rationals ``lo <= x <= hi``:
the bracket always contains the exact value (outward rounding through python-flint's arb).
"""

from __future__ import annotations

import math
from fractions import Fraction

import flint
import numpy as np

EXACT_F64 = 2**53


def _maxabs(a: np.ndarray) -> int:
    if a.size == 0:
        return 0
    return max(abs(int(a.max())), abs(int(a.min())))


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact product of integer matrices ``a`` (n, m) and ``b`` (m, p).

    The result is int64 when it fits, else an ``object`` array of Python ints.

    >>> int_matmul(np.array([[2**40, 1]]), np.array([[2**40], [3]])).tolist()
    [[1208925819614629174706179]]
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.dtype == object or b.dtype == object:
        return np.asarray(a, dtype=object) @ np.asarray(b, dtype=object)
    ma, mb, inner = _maxabs(a), _maxabs(b), max(1, a.shape[-1])
    if ma == 0 or mb == 0:
        return np.zeros((a.shape[0], b.shape[1]), dtype=np.int64)
    if mb * inner > EXACT_F64:
        raise ValueError("int_matmul: the right factor is too large for exact limbs")
    if ma * mb * inner <= EXACT_F64:
        out = a.astype(np.float64) @ b.astype(np.float64)
        return out.astype(np.int64)
    # limbs of a with |limb| < 2**s and 2**s * mb * inner <= 2**53
    s = max(1, (EXACT_F64 // (mb * inner)).bit_length() - 1)
    bf = b.astype(np.float64)
    sign = np.sign(a).astype(np.int64)
    rest = np.abs(a.astype(object)) if ma >= 2**63 else np.abs(a).astype(np.int64)
    total = np.zeros((a.shape[0], b.shape[1]), dtype=object)
    shift = 0
    mask = (1 << s) - 1
    while _maxabs(np.asarray(rest)) > 0:
        limb = (rest & mask).astype(np.int64) * sign
        part = (limb.astype(np.float64) @ bf).astype(np.int64).astype(object)
        total = total + part * (1 << shift)
        rest = rest >> s
        shift += s
    if _maxabs(total) < 2**63:
        return total.astype(np.int64)
    return total


def frac_of_arb_end(x: flint.arb) -> Fraction:
    """The exact rational value of an exact arb (an endpoint from ``lower()`` / ``upper()``)."""
    man, exp = x.man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * 2**exp) if exp >= 0 else Fraction(man, 2 ** (-exp))


def arb_bracket(x: flint.arb) -> tuple[Fraction, Fraction]:
    """Rationals ``lo <= x <= hi`` for every real in the ball ``x`` (raises on a non-finite ball)."""
    if not x.is_finite():
        raise ArithmeticError(f"arb_bracket: non-finite ball {x}")
    return frac_of_arb_end(x.lower()), frac_of_arb_end(x.upper())


def arb_of(q: Fraction | int) -> flint.arb:
    """The ball of the exact rational ``q`` (exact when the denominator is a power of two)."""
    q = Fraction(q)
    return flint.arb(flint.fmpq(q.numerator, q.denominator))


def sqrt_bracket(q: Fraction | int, bits: int = 64) -> tuple[Fraction, Fraction]:
    """Rationals ``lo <= sqrt(q) <= hi`` with ``hi - lo == 2**-bits`` (dyadic ends).

    Exact (``lo == hi``) when ``q`` is the square of a rational.

    >>> sqrt_bracket(4)
    (Fraction(2, 1), Fraction(2, 1))
    >>> lo, hi = sqrt_bracket(2); lo * lo <= 2 <= hi * hi
    True
    """
    q = Fraction(q)
    if q < 0:
        raise ValueError("sqrt_bracket: negative argument")
    rn, rd = math.isqrt(q.numerator), math.isqrt(q.denominator)
    if rn * rn == q.numerator and rd * rd == q.denominator:
        return Fraction(rn, rd), Fraction(rn, rd)
    # integer square roots at a scale of 2**bits: floor and ceil bracket sqrt(q) exactly
    scale = 1 << (2 * bits)
    num = q.numerator * scale
    lo_n = math.isqrt(num // q.denominator)
    lo = Fraction(lo_n, 1 << bits)
    hi = Fraction(lo_n + 1, 1 << bits)
    assert lo * lo <= q <= hi * hi
    return lo, hi
