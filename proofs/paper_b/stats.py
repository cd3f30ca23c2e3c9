"""A rigorous Clopper-Pearson upper confidence bound on a population error from an exact error count.

The one-sided (1 - alpha) Clopper-Pearson upper bound for e errors in n trials is the p* in (0, 1)
with P[Bin(n, p*) <= e] = alpha (p* = 1 when e = n). The binomial CDF is decreasing in p, so any p
with P[Bin(n, p) <= e] <= alpha satisfies p >= p*: it is a valid (slightly conservative) upper bound.

Here scipy's ``beta.ppf`` gives the float guess; it is rounded up to a dyadic ``p = P / 2**B`` and the
CDF at that p is then evaluated **exactly** in integers,

    2**(B n) * P[Bin(n, p) <= e] = sum_{i <= e} C(n, i) P^i (2**B - P)^(n - i),

and compared with alpha exactly (the shorter of the two tails is summed). The guess is raised until
the check passes. A second exact check at p - 2**-B (CDF > alpha) shows p* lies in (p - 2**-B, p].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import flint
from scipy.stats import beta

from verify.errors import InvalidArgument
from verify.exact import to_exact

BITS = 32


def _lower_tail(e: int, n: int, pnum: int, qnum: int) -> int:
    """sum_{i <= e} C(n, i) P^i Q^(n - i), by Horner on the short sum, times Q^(n - e) once."""
    # python-flint's fmpz (GMP/FLINT big integers) for speed; the arithmetic is exact either way
    acc = flint.fmpz(math.comb(n, e))
    coef = flint.fmpz(acc)
    qpow = flint.fmpz(1)
    p, q = flint.fmpz(pnum), flint.fmpz(qnum)
    for i in range(e - 1, -1, -1):
        coef = coef * (i + 1) // (n - i)  # C(n, i) from C(n, i + 1)
        qpow *= q
        acc = coef * qpow + p * acc
    return int(acc * q ** (n - e))


def binom_cdf_scaled(e: int, n: int, pnum: int, bits: int) -> int:
    """2**(bits n) * P[Bin(n, pnum / 2**bits) <= e], an exact integer.

    >>> binom_cdf_scaled(1, 2, 1, 1)  # p = 1/2: P[Bin(2, 1/2) <= 1] = 3/4, times 2**2
    3
    """
    scale = 1 << bits
    qnum = scale - pnum
    if e >= n:
        return scale**n
    if e + 1 <= n - e:
        return _lower_tail(e, n, pnum, qnum)
    # P[Bin(n, p) <= e] = 1 - P[Bin(n, 1 - p) <= n - e - 1]
    return scale**n - _lower_tail(n - e - 1, n, qnum, pnum)


def cdf_at_most(e: int, n: int, p: Fraction, alpha: Fraction) -> bool:
    """Exactly: is P[Bin(n, p) <= e] <= alpha?  (p dyadic.)"""
    den = p.denominator
    bits = den.bit_length() - 1
    if den != 1 << bits:
        raise ValueError("cdf_at_most: p must be dyadic")
    s = binom_cdf_scaled(e, n, p.numerator, bits)
    return s * alpha.denominator <= alpha.numerator * (1 << (bits * n))


@dataclass(frozen=True)
class CPBound:
    """``upper``: a certified (1 - alpha) upper confidence bound on the error rate (dyadic, exact);
    the exact Clopper-Pearson value lies in (``tight_below``, ``upper``]."""

    errors: int
    n: int
    alpha: Fraction
    upper: Fraction
    tight_below: Fraction


def clopper_pearson_upper(errors: int, n: int, alpha: Fraction | str | int = Fraction(1, 20),
                          bits: int = BITS) -> CPBound:
    """The rigorous one-sided Clopper-Pearson upper bound (see the module docstring).

    >>> b = clopper_pearson_upper(0, 100, Fraction(1, 20)); float(b.upper)  # 1 - 0.05**(1/100)
    0.029513049...
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidArgument("n", n, "must be an integer >= 1")
    if isinstance(errors, bool) or not isinstance(errors, int) or not 0 <= errors <= n:
        raise InvalidArgument("errors", errors, f"must be an integer in [0, n={n}]")
    alpha = to_exact(alpha, "alpha")
    if not 0 < alpha < 1:
        raise InvalidArgument("alpha", alpha, "must be in (0, 1)")
    if errors == n:
        return CPBound(errors, n, alpha, Fraction(1), Fraction(1) - Fraction(1, 1 << bits))
    scale = 1 << bits
    guess = float(beta.ppf(1 - float(alpha), errors + 1, n - errors))
    pnum = min(scale, max(1, math.ceil(guess * scale)))
    step = 1
    while not cdf_at_most(errors, n, Fraction(pnum, scale), alpha):
        pnum = min(scale, pnum + step)
        step *= 2
    # walk down while the smaller dyadic still passes (the float guess may be a little high)
    while pnum > 1 and cdf_at_most(errors, n, Fraction(pnum - 1, scale), alpha):
        pnum -= 1
    return CPBound(errors, n, alpha, Fraction(pnum, scale), Fraction(pnum - 1, scale))
