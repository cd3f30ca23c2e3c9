"""Rigorous float64 interval arithmetic, as numba-compiled scalar functions.

An interval is a pair of IEEE-754 doubles ``(lo, hi)`` with ``lo <= x <= hi`` for the exact
real ``x`` it encloses. Every function here returns an interval containing the exact result of
the operation on every point of its inputs. The code runs in the CPU's default rounding mode,
round-to-nearest, without fast-math (numba's default: no FMA contraction, no reassociation),
and pushes each rounded result outward with :func:`down` / :func:`up`.

**Why one outward step covers a rounding.** If ``f = fl(r)`` is the correctly rounded value of
a real ``r``, then ``pred(f) < r < succ(f)``. For a normal ``f`` with ``2^e <= |f| < 2^(e+1)``,
``|f| * 2^-52 >= 2^(e-52) = ulp(f)`` (exactly, or rounded up from it), so the exact value of
``f - (|f| * 2^-52 + 2^-1074)`` is at most ``f - ulp(f) <= pred(f)``; rounding is monotone
and fixes the double ``pred(f)``, so :func:`down` returns at most ``pred(f) < r``. The
``2^-1074`` term (the ulp of every subnormal) covers subnormal and zero ``f``. An overflow
gives ``inf`` or ``nan``, which the kernels treat as "not certified".

**Elementary functions.** ``exp`` and ``log1p`` come from the platform libm (glibc, called by
numba for ``math.exp`` and ``math.log1p``; the matrix engine calls ``numpy.exp``). None is
correctly rounded. numpy's float64 ``exp`` is SVML's on AVX-512
machines (numpy PR #19478: "maximum ULP error across all the implementations is 4 ULP"), a
table-driven algorithm proved within 0.77 ulp (PR #15648), or libm's; glibc's manual ("Known
Maximum Errors in Math Functions") lists at most 1 ulp for double ``exp`` and ``log1p`` on
x86_64. We assume at most :data:`LIBM_ULPS` = 4 ulp and widen each result by a relative
:data:`LIBM_REL` = 2^-48 (16 ulp of the result) plus an absolute :data:`LIBM_ABS` = 2^-1070
(for subnormal results, whose ulp is absolute). ``tests/test_f64.py`` checks the assumption
against Arb on random and extreme arguments, on the machine the tests run on.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction

import numpy as np
from numba import njit

ULP_SCALE = 2.0**-52  # |f| * ULP_SCALE >= ulp(f) for every normal double f
TINY = 2.0**-1074  # the smallest positive subnormal, the ulp of every subnormal
LIBM_ULPS = 4  # assumed bound on the error of exp and log1p, in ulps of the true result
LIBM_REL = 2.0**-48  # relative widening of their results: 16 ulp >= 4 * LIBM_ULPS
LIBM_ABS = 2.0**-1070  # absolute widening: 16 subnormal ulps


@njit
def select(c: bool, a, b):
    """``a if c else b``, as a call: generated kernels must not branch (see verify.dynamics.batch_codegen)."""
    return a if c else b


@njit
def pick(c: bool, al: float, ah: float, bl: float, bh: float) -> tuple[float, float]:
    """``[a] if c else [b]``."""
    return (al, ah) if c else (bl, bh)


@njit
def down(f: float) -> float:
    """A double ``< r`` for every real ``r`` with ``fl(r) = f`` (``nan`` when ``f = +inf``)."""
    return f - (abs(f) * ULP_SCALE + TINY)


@njit
def up(f: float) -> float:
    """A double ``> r`` for every real ``r`` with ``fl(r) = f`` (``nan`` when ``f = -inf``)."""
    return f + (abs(f) * ULP_SCALE + TINY)


@njit
def add(al: float, ah: float, bl: float, bh: float) -> tuple[float, float]:
    """``[a] + [b]``."""
    return down(al + bl), up(ah + bh)


@njit
def add_if(on: bool, al: float, ah: float, bl: float, bh: float) -> tuple[float, float]:
    """``[a] + [b]`` when ``on``, else ``[a]`` unchanged (a select, so lane loops stay branch-free)."""
    cl, ch = add(al, ah, bl, bh)
    return (cl if on else al), (ch if on else ah)


@njit
def mul(al: float, ah: float, bl: float, bh: float) -> tuple[float, float]:
    """``[a] * [b]`` for finite intervals (branch-free)."""
    p1, p2, p3, p4 = al * bl, al * bh, ah * bl, ah * bh
    return down(min(min(p1, p2), min(p3, p4))), up(max(max(p1, p2), max(p3, p4)))


@njit
def mul_pos(al: float, ah: float, bl: float, bh: float) -> tuple[float, float]:
    """``[a] * [b]`` when both lie in ``[0, inf)``."""
    return down(al * bl), up(ah * bh)


@njit
def div_int(xl: float, xh: float, n: int) -> tuple[float, float]:
    """``[x] / n`` for an integer ``1 <= n <= 2^53``: ``n`` converts to a double exactly, so the
    division rounds once (beyond ``2^53`` the conversion would round too)."""
    return down(xl / n), up(xh / n)


@njit
def widen_exp(el: float, eh: float) -> tuple[float, float]:
    """``exp([x])`` from ``el, eh``, the library's ``exp`` of ``x``'s two ends, widened by its
    assumed error bound (see the module doc); ``exp`` is increasing, so the ends suffice."""
    lo = down(el - el * LIBM_REL) - LIBM_ABS
    return max(lo, 0.0), up(eh + eh * LIBM_REL) + LIBM_ABS


EXP_LO = 1.0 - 2.0**-47  # exact doubles: exp_span's relative factors (see its proof)
EXP_HI = 1.0 + 2.0**-46
MAX_DOUBLE = sys.float_info.max
EXP_FLOOR = 2.0**-1000  # a normal double above every absolute error of exp_span's upper end


@njit
def exp_span(e: float, span: float) -> tuple[float, float]:
    """``exp([x, x + span])`` from ``e``, the library's ``exp(x)``: one exponential, not two, and no
    outward rounding step: the relative factors ``EXP_LO``/``EXP_HI`` absorb the library's error and
    every rounding of the few round-to-nearest operations (12 operations in all, branch-free).

    *Lower end* ``max(fl(fl(e EXP_LO) - 2^-1070), 0)``, at most the largest double. The
    library bound (:data:`LIBM_ULPS` = 4 ulp) gives ``exp(x) >= e (1 - 2^-50) - 2^-1072`` (relative
    for normal results, 4 subnormal ulps below). ``u = fl(e EXP_LO) <= e EXP_LO (1 + 2^-53) + 2^-1075``
    with ``EXP_LO (1 + 2^-53) < 1 - 2^-50``. If ``|u - 2^-1070| < 2^-1021``, the subtraction of two
    multiples of ``2^-1074`` is exact, and ``2^-1075 - 2^-1070 < -2^-1072``; else ``u >= 2^-1021`` is
    normal (no ``2^-1075`` term), the rounded difference is at most ``u``, and
    ``e (2^-47 - 2^-50 - 2^-53) >= 2^-1069``. So the lower end is ``<= exp(x) <= exp(x + s)``.

    *Upper end* ``fl(fl(fl(e EXP_HI) + 2^-1000) fl(1 + fl(span fl(1 + span))))``, or ``inf`` when
    ``span > 1`` or ``nan``. For ``0 <= s <= span <= 1``: ``exp(x + s) = exp(x) exp(s) <= exp(x)
    (1 + span + span^2)``, because ``exp(s) - 1 - s = s^2 (1/2 + s/6 + ...) <= s^2 (e - 2)``; and
    ``exp(x) <= e / (1 - 2^-50) + 2^-1072``. Each rounding keeps at least ``(1 - 2^-53)`` of its
    exact value when the result is normal. Two products may be subnormal: ``span fl(1 + span)`` loses
    at most ``2^-1075``, within a factor ``1 - 2^-53`` of the sum ``1 + ...`` it enters; ``e EXP_HI``
    loses at most ``2^-1075``, which the floor ``2^-1000`` covers, as it covers the library's
    absolute ``2^-1072``. The factor kept on ``e`` over six roundings,
    ``EXP_HI (1 - 2^-53)^7 > 1 + 2^-47 > 1 / (1 - 2^-50)``, covers the library's relative error. An
    overflow gives ``inf``, which the kernels treat as not certified.
    """
    lo = min(max(e * EXP_LO - LIBM_ABS, 0.0), MAX_DOUBLE)  # an overflowed e: the largest double, not inf
    hi = (e * EXP_HI + EXP_FLOOR) * (1.0 + span * (1.0 + span))
    return lo, (hi if span <= 1.0 else np.inf)


@njit
def log1p(xl: float, xh: float) -> tuple[float, float]:
    """``log(1 + [x])`` for ``xl > -1``: libm's values widened by its assumed error bound."""
    fl, fh = math.log1p(xl), math.log1p(xh)
    return down(fl - abs(fl) * LIBM_REL) - LIBM_ABS, up(fh + abs(fh) * LIBM_REL) + LIBM_ABS


@njit
def logistic_weight(el: float, eh: float) -> tuple[float, float]:
    """``e / (1 + e)`` for ``[e]`` in ``[0, inf)`` (increasing in ``e``): the logistic loss's ``-l'``."""
    return max(down(el / up(1.0 + el)), 0.0), up(eh / down(1.0 + eh))


def enclose(q: Fraction) -> tuple[float, float]:
    """The tightest double interval around the exact rational ``q`` (a point when ``q`` is a double).

    >>> enclose(Fraction(1, 2))
    (0.5, 0.5)
    >>> lo, hi = enclose(Fraction(1, 10)); Fraction(lo) < Fraction(1, 10) < Fraction(hi)
    True
    >>> enclose(Fraction(10**400))  # beyond the range: an infinite end, which is never certified
    (1.7976931348623157e+308, inf)
    """
    try:
        f = q.numerator / q.denominator  # correctly rounded
    except OverflowError:  # beyond the double range: enclosed by [max double, inf] (the kernels stop there)
        f = math.inf if q > 0 else -math.inf
    if math.isinf(f):
        big = sys.float_info.max
        return (big, math.inf) if f > 0 else (-math.inf, -big)
    if f.as_integer_ratio() == (q.numerator, q.denominator):  # both in lowest terms
        return f, f
    if Fraction(f) < q:
        return f, math.nextafter(f, math.inf)
    return math.nextafter(f, -math.inf), f
