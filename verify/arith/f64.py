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

**Elementary functions.** The batch kernels' ``exp`` is :func:`exp_array`: vectorized, its error
bound proved in its docstring (within ``3 * 2^-53`` relatively). ``log1p`` comes from the platform
libm (glibc, called by numba for ``math.log1p``) and the matrix engine calls ``numpy.exp``;
neither is correctly rounded. numpy's float64 ``exp`` is SVML's on AVX-512
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
EXP_CAP = MAX_DOUBLE * EXP_LO  # exp_span's lower end at most: below exp(x) whenever the library's exp(x) overflowed


EXP_X_MIN, EXP_X_MAX = -746.0, 710.0  # exp_array's clamp: beyond, exp is below 2^-1076 or above the largest double
INV_LN2 = 1.4426950408889634  # fl(1 / ln 2)
LN2_HI = 0.6931471803691238  # 0x1.62e42fee00000p-1: a multiple of 2^-32 (fdlibm's ln2_hi)
LN2_LO = 1.9082149292705877e-10  # 0x1.a39ef35793c76p-33: |ln 2 - LN2_HI - LN2_LO| < 2^-86 (fdlibm's ln2_lo)
EXP_C2, EXP_C3, EXP_C4, EXP_C5, EXP_C6, EXP_C7 = (1.0 / math.factorial(i) for i in range(2, 8))  # fl(1/i!)
EXP_C8, EXP_C9, EXP_C10, EXP_C11, EXP_C12, EXP_C13 = (1.0 / math.factorial(i) for i in range(8, 14))


@njit(nogil=True)
def exp_array(v: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> None:
    """``v[j] = exp(v[j])`` in place, within ``3u`` of the true value relatively for a normal result and
    ``2^-1075`` absolutely for a subnormal one (``u = 2^-53``): the bound :func:`exp_span` assumes of
    the library (``2^-50`` relative, ``2^-1072`` absolute), proved here instead of assumed, in
    branch-free steps that numba vectorizes (libm's ``exp`` is a call per element: about 4 ns
    against 1). ``s1, s2``: int64 scratch arrays at least as long as ``v``. As libm's: ``nan`` stays
    ``nan``, ``exp(0) = 1`` exactly, ``-inf`` and arguments below ``-746`` give 0, ``inf`` and
    arguments above ``log(MAX_DOUBLE)`` give ``inf``.

    *Method* (fdlibm's reduction, a Taylor polynomial, two exact scalings): clamp ``x`` to
    ``[-746, 710]`` (beyond, the result is 0 or ``inf`` either way); ``k = floor(fl(fl(x L) + 1/2))``
    with ``L = fl(1/ln 2)``; ``r = fl(fl(x - k H) - fl(k G))`` with ``H = LN2_HI``, ``G = LN2_LO``;
    ``p`` = Horner's scheme for ``sum_{i<=13} c_i r^i``, ``c_i = fl(1/i!)``; result
    ``fl(fl(p 2^k1) 2^k2)`` with ``k1 = floor(k/2)``, ``k2 = k - k1``.

    1. *Reduction.* ``L`` is within ``2^-55`` of ``1/ln 2``, so ``fl(x L)`` is within ``1.3u |x/ln 2|
       < 2^-42`` of ``x/ln 2`` (``|x/ln 2| < 1077``), and adding 1/2 rounds by at most ``2^-43``:
       ``|x - k ln 2| <= ln 2 (1/2 + 2^-41) < 0.34658`` and ``|k| <= 1077``. ``k H`` is exact (``H`` is a
       multiple of ``2^-32`` below 1, ``|k H| 2^32 < 2^43``).
       ``x - k H`` is exact: for ``k = 0`` trivially; else ``|x| > 0.34 > 2^-2``, so ``x`` and ``k H`` are
       multiples of ``2^-54``, and so is their difference, below ``0.34658 + 1077 G < 1/2`` in magnitude:
       a double. ``fl(k G)`` errs by at most ``1077 G u < 2^-75``, the last subtraction by ``u |r|``.
       So ``r = x - k ln 2 + d``, ``|d| <= 1077 * 2^-86 + 2^-75 + 0.3466 u < 0.38 u``, ``|r| <= 0.3466``.
    2. *Polynomial.* Truncation: ``|r|^14/14! e^|r| < 0.11 u e^r`` (``e^r >= 0.707``); the coefficients'
       roundings: ``u sum_{i>=3} |r|^i/i! < 0.01 u e^r``. Horner's ``q_13 = c_13``, ``q_i = fl(c_i +
       fl(r q_(i+1)))`` against the exact tails ``T_i = sum_{j>=i} c_j r^(j-i)``: ``E_i = q_i - T_i`` obeys
       ``|E_i| <= |r| |E_(i+1)| + u |r q_(i+1)| + u' |q_i|`` (``u' = u/(1-u)``; a subnormal product,
       possible only for ``|r| < 2^-900``, adds ``2^-1075``, far below ``u``), so ``|E_0| <= u' (q_0 +
       2 sum_{i>=1} |r|^i q_i) <= u' (q_0 + 1.0)``, with ``q_1 <= 1.2``, ``q_2 <= 0.6``, ``q_i <= 1.5/i!``
       (``2 (0.416 + 0.072 + 0.012) = 1.0``); with ``q_0 >= 0.7`` that is ``2.45 u`` of ``q_0``. So
       ``p = e^r (1 + t)``, ``|t| <= 2.6 u``, and ``p 2^k = exp(x) e^d (1 + t)``, within ``3u`` relatively.
    3. *Scaling.* ``k1, k2`` lie in ``[-539, 512]``, so ``2^k1, 2^k2`` are normal doubles (made from their
       bits). ``p 2^k1`` is exact (``p`` in ``[0.7, 1.42]``, a normal result); ``fl(. 2^k2)`` is exact for a
       normal result and within ``2^-1075`` for a subnormal one. An overflow to ``inf`` means ``p 2^k >
       MAX_DOUBLE (1 + 2^-54)``, hence ``exp(x) > MAX_DOUBLE (1 - 2^-51)``, above the cap of
       :func:`exp_span`'s lower end. For ``x <= -746`` the result is 0 and ``exp(x) < 2^-1076``.

    ``tests/test_f64.py`` checks the bound (``3u``, and each step's exactness) against Arb.
    """
    f1, f2 = s1.view(np.float64), s2.view(np.float64)
    for j in range(v.shape[0]):
        x = v[j]
        xc = x if x > EXP_X_MIN else EXP_X_MIN  # nan: the clamp picks a bound; nan is put back below
        xc = xc if xc < EXP_X_MAX else EXP_X_MAX
        k = np.floor(xc * INV_LN2 + 0.5)
        r = (xc - k * LN2_HI) - k * LN2_LO
        p = EXP_C13
        p = EXP_C12 + r * p
        p = EXP_C11 + r * p
        p = EXP_C10 + r * p
        p = EXP_C9 + r * p
        p = EXP_C8 + r * p
        p = EXP_C7 + r * p
        p = EXP_C6 + r * p
        p = EXP_C5 + r * p
        p = EXP_C4 + r * p
        p = EXP_C3 + r * p
        p = EXP_C2 + r * p
        p = 1.0 + r * p
        p = 1.0 + r * p
        k1 = np.floor(k * 0.5)
        s1[j] = (np.int64(k1) + 1023) << 52  # the bits of 2^k1
        s2[j] = (np.int64(k - k1) + 1023) << 52
        v[j] = p if x == x else x
    for j in range(v.shape[0]):
        v[j] = (v[j] * f1[j]) * f2[j]


@njit
def exp_span(e: float, span: float) -> tuple[float, float]:
    """``exp([x, x + span])`` from ``e``, the library's ``exp(x)``: one exponential, not two, and no
    outward rounding step: the relative factors ``EXP_LO``/``EXP_HI`` absorb the library's error and
    every rounding of the few round-to-nearest operations (12 operations in all, branch-free).

    *Lower end* ``max(fl(fl(e EXP_LO) - 2^-1070), 0)``, at most :data:`EXP_CAP` ``= fl(MAX_DOUBLE EXP_LO)``
    (an ``e`` that overflowed to ``inf`` means ``exp(x) > MAX_DOUBLE (1 - 2^-50) > EXP_CAP``). The
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
    lo = min(max(e * EXP_LO - LIBM_ABS, 0.0), EXP_CAP)  # an overflowed e: the cap, not inf
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
