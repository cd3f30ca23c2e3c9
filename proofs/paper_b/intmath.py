"""Exact integer matrix products at BLAS speed, and rational bounds of real numbers.

``int_matmul(A, B)`` returns the exact integer product of two integer matrices. When every
partial sum is bounded by ``max|A| * max|B| * inner <= 2**53``, a float64 BLAS product is exact
whatever the summation order (every product and every partial sum is an integer representable in
float64, FMA included), so it is used directly; otherwise ``A`` and/or ``B`` are split into signed
limbs small enough for that bound and the limb products are recombined in Python integers.

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


def _limbs(a: np.ndarray, s: int) -> list[np.ndarray]:
    """Signed limbs of an integer matrix: a == sum_t limbs[t] * 2**(s*t), each |limb| < 2**s."""
    sign = np.sign(a).astype(np.int64)
    rest = np.abs(np.asarray(a, dtype=object)) if a.dtype == object else np.abs(a.astype(object))
    mask = (1 << s) - 1
    out = []
    while _maxabs(rest) > 0:
        out.append((rest & mask).astype(np.int64) * sign)
        rest = rest >> s
    return out


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact product of integer matrices ``a`` (n, m) and ``b`` (m, p) (int64 or object arrays).

    The result is int64 when it fits, else an ``object`` array of Python ints.

    >>> int_matmul(np.array([[2**40, 1]]), np.array([[2**40], [3]])).tolist()
    [[1208925819614629174706179]]
    >>> big = int_matmul(np.array([[3**50]], dtype=object), np.array([[-(5**30)]], dtype=object))
    >>> big[0, 0] == -(3**50 * 5**30)
    True
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.dtype != object:
        a = a.astype(np.int64)
    if b.dtype != object:
        b = b.astype(np.int64)
    ma, mb, inner = _maxabs(a), _maxabs(b), max(1, a.shape[-1])
    if ma == 0 or mb == 0:
        return np.zeros((a.shape[0], b.shape[1]), dtype=np.int64)
    if ma * mb * inner <= EXACT_F64:
        out = a.astype(np.float64) @ b.astype(np.float64)
        return out.astype(np.int64)
    # limbs with 2**(sa + sb) * inner <= 2**53: every limb product is an exact BLAS product
    room = (EXACT_F64 // inner).bit_length() - 1
    if room < 2:
        return np.asarray(a, dtype=object) @ np.asarray(b, dtype=object)
    if mb * inner <= EXACT_F64:
        sb = mb.bit_length()
        lb = [b]
        sa = max(1, room - sb)
    elif ma * inner <= EXACT_F64:
        sa = ma.bit_length()
        sb = max(1, room - sa)
        lb = _limbs(b, sb)
    else:
        sa = max(1, room // 2)
        sb = max(1, room - sa)
        lb = _limbs(b, sb)
    la = [a] if sa >= ma.bit_length() else _limbs(a, sa)
    lbf = [limb.astype(np.float64) for limb in lb]
    total = np.zeros((a.shape[0], b.shape[1]), dtype=object)
    for i, x in enumerate(la):
        xf = x.astype(np.float64)
        for j, y in enumerate(lbf):
            part = (xf @ y).astype(np.int64).astype(object)
            total = total + part * (1 << (sa * i + sb * j))
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


class PreparedRight:
    """An integer matrix ``b`` (m, p) split once into float64 limbs, for many exact products ``a @ b``.

    >>> pr = PreparedRight(np.array([[2**70], [3]], dtype=object))
    >>> pr.left_mul(np.array([[5, -7]])).tolist() == [[5 * 2**70 - 21]]
    True
    """

    def __init__(self, b: np.ndarray) -> None:
        b = np.asarray(b)
        self.inner = max(1, b.shape[0])
        self.room = (EXACT_F64 // self.inner).bit_length() - 1
        self.b = b
        self.sb = max(1, min(self.room // 2, _maxabs(b).bit_length()))
        self.limbs = [limb.astype(np.float64) for limb in _limbs(b if b.dtype == object else b.astype(np.int64),
                                                                 self.sb)]

    def left_mul(self, a: np.ndarray) -> np.ndarray:
        """Exact ``a @ b`` (object array of Python ints)."""
        a = np.asarray(a)
        sa = self.room - self.sb
        if sa < 1:
            return np.asarray(a, dtype=object) @ np.asarray(self.b, dtype=object)
        total = np.zeros((a.shape[0], self.b.shape[1]), dtype=object)
        for i, x in enumerate(_limbs(a if a.dtype == object else a.astype(np.int64), sa)):
            xf = x.astype(np.float64)
            for j, y in enumerate(self.limbs):
                total = total + (xf @ y).astype(np.int64).astype(object) * (1 << (sa * i + self.sb * j))
        return total
