"""``verify.arith.f64``: every float64 interval operation contains the exact result.

What this file pins down, against exact oracles (``Fraction`` for field operations, python-flint
``arb`` at 300 bits for ``exp`` and ``log1p``):

* ``enclose(q)`` contains ``q``, is a point exactly when ``q`` is a double, and is otherwise the
  pair of adjacent doubles around ``q``; values beyond the double range raise ``OverflowError``.
* ``down`` / ``up`` step at least one double outward (so they cover one correct rounding) and at
  most three (they do not over-widen), over the whole finite range, subnormals included.
* ``add``, ``add_if``, ``mul`` (corners and interior points), ``mul_pos``, ``div_int`` (``n <= 2^53``)
  and ``logistic_weight`` contain the exact rational result for every point of their input intervals
  (``logistic_weight``'s lower end is ``>= 0``; ``add_if`` off returns its first argument bit for bit);
  a ``nan`` end (an overflow: "not certified") only appears when the result is out of range.
* ``widen_exp`` and ``exp_span``, fed ``numpy.exp`` as the kernels do, and ``log1p`` contain the
  true value; near and past overflow the upper end is ``inf``, never a wrong finite number, and
  so is ``exp_span``'s for a span above 1 or ``nan``.
* ``widen_exp`` absorbs any library error of up to ``LIBM_ULPS`` ulps (a synthetic library that
  is off by exactly that much), and on this machine ``numpy.exp`` and libm's ``log1p`` (as numba
  calls it) are within ``LIBM_ULPS`` ulps of the true value: the assumption the module documents.
* The containment checks can fail: deliberately unsound variants (no outward rounding, no
  ``2^-1074`` term, too few corners, no widening of ``exp``) are caught on fixed inputs.

``div_int`` requires ``n <= 2^53`` (so that ``n`` is a double and the division rounds once): for
``n = 2^53 + 3`` the conversion rounds too and the upper end can miss ``x / n`` (found by this
file), so :func:`verify.arith.f64.div_int` states it and the batch backend checks it.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction

import flint
import numba
import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from tests.conftest import cheap
from verify.arith import f64

INF = math.inf
MAX = sys.float_info.max
MAX_Q = Fraction(MAX)
TINY = 5e-324  # 2^-1074
NORMAL_MIN = 2.0**-1022
LOG_MAX = 709.782712893384  # the largest double x with exp(x) <= MAX (exp rounds to MAX there)
PREC = 300


# ---------------------------------------------------------------------------------------------
# The primitives are numba functions, callable from Python as they are.


@numba.njit
def _down_up(f):
    return f64.down(f), f64.up(f)


_add, _add_if, _mul, _mul_pos, _div_int = f64.add, f64.add_if, f64.mul, f64.mul_pos, f64.div_int
_widen_exp, _exp_span, _log1p, _logistic_weight = f64.widen_exp, f64.exp_span, f64.log1p, f64.logistic_weight


@numba.njit
def _libm_log1p(xs):
    """``math.log1p`` elementwise, as numba compiles it for :func:`f64.log1p` (a libm call)."""
    out = np.empty_like(xs)
    for i in range(xs.size):
        out[i] = math.log1p(xs[i])
    return out


# Deliberately unsound variants, for the mutation checks.


@numba.njit
def _add_nearest(al, ah, bl, bh):
    """``add`` with no outward rounding."""
    return al + bl, ah + bh


@numba.njit
def _mul_no_tiny(al, ah, bl, bh):
    """``mul`` whose outward step lacks the ``2^-1074`` term (misses underflow to zero)."""
    p1, p2, p3, p4 = al * bl, al * bh, ah * bl, ah * bh
    lo, hi = min(min(p1, p2), min(p3, p4)), max(max(p1, p2), max(p3, p4))
    return lo - abs(lo) * 2.0**-52, hi + abs(hi) * 2.0**-52


@numba.njit
def _mul_two_corners(al, ah, bl, bh):
    """``mul_pos`` used outside its domain: only the corners ``al*bl`` and ``ah*bh``."""
    return f64.mul_pos(al, ah, bl, bh)


@numba.njit
def _exp_unwidened(el, eh):
    """Trusting the library's ``exp`` as if it were exact."""
    return el, eh


@numba.njit
def _exp_relative_only(el, eh):
    """``widen_exp`` without the absolute term ``LIBM_ABS`` (unsound for subnormal results)."""
    return f64.down(el - el * f64.LIBM_REL), f64.up(eh + eh * f64.LIBM_REL)


@numba.njit
def _exp_span_trusting(e, span):
    """``exp_span`` trusting the library's ``exp`` as exact (no relative factors, no floor)."""
    return e, e * (1.0 + span * (1.0 + span))


@numba.njit
def _exp_span_linear(e, span):
    """``exp_span`` with ``exp(s) <= 1 + s`` (false): drops the ``span^2`` term."""
    lo, hi = f64.widen_exp(e, e)
    return lo, f64.up(hi * f64.up(1.0 + span))


# ---------------------------------------------------------------------------------------------
# Oracles.


def _q(f: float) -> Fraction:
    return Fraction(f)


def _arb(q: Fraction) -> flint.arb:
    """An exact ball (``flint.arb(float)`` is not exact at every precision; ``fmpq`` is)."""
    return flint.arb(flint.fmpq(q.numerator, q.denominator))


def _lies_in_q(lo: float, hi: float, q: Fraction) -> bool:
    """``lo <= q <= hi`` exactly; a ``nan`` end ("not certified") is allowed only for ``|q| > MAX``."""
    if math.isnan(lo) or math.isnan(hi):
        return abs(q) > MAX_Q
    below = lo == -INF or (lo != INF and _q(lo) <= q)
    above = hi == INF or (hi != -INF and q <= _q(hi))
    return below and above


def _lies_in_arb(lo: float, hi: float, t: flint.arb) -> bool:
    """``lo <= t <= hi`` for the true value in the (tiny) ball ``t``, decided with certainty."""
    if math.isnan(lo) or math.isnan(hi):
        return bool(t > _arb(MAX_Q))
    below = lo == -INF or (lo != INF and bool(_arb(_q(lo)) <= t))
    above = hi == INF or (hi != -INF and bool(t <= _arb(_q(hi))))
    return below and above


def _exp(x: Fraction) -> flint.arb:
    flint.ctx.prec = PREC
    return _arb(x).exp()


def _log1p_true(x: Fraction) -> flint.arb:
    flint.ctx.prec = PREC
    return _arb(x).log1p()


def _lib_exp(*xs: float) -> list[float]:
    """``numpy.exp`` on an array, the way the kernels call it."""
    with np.errstate(over="ignore"):
        return [float(v) for v in np.exp(np.array(xs, dtype=np.float64))]


def _kernel_exp(*xs: float) -> list[float]:
    """The batch kernels' exponential pass (:func:`verify.dynamics.batch_kernel.exp_rows`:
    :func:`verify.arith.f64.exp_array` in place on a row of a blocked state array)."""
    from verify.dynamics.batch_kernel import exp_rows

    X = np.zeros((1, 3, len(xs)))
    X[0, 1] = xs
    exp_rows(X, 1, 1)
    return X[0, 1].tolist()


def _point(lo: float, hi: float, t: Fraction) -> Fraction:
    """The exact point ``lo + t (hi - lo)`` of ``[lo, hi]``, ``0 <= t <= 1``."""
    return _q(lo) + (_q(hi) - _q(lo)) * t


def _neg(x: tuple[float, float]) -> tuple[float, float]:
    return -x[1], -x[0]


def _ulp_q(t: Fraction) -> Fraction:
    """The ulp of the real ``t != 0``: ``2^(e-52)`` for ``2^e <= |t| < 2^(e+1)``, ``2^-1074`` below normal."""
    a = abs(t)
    if a < _q(NORMAL_MIN):
        return _q(TINY)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    return Fraction(2) ** (e - 52)


def _ulp_error(v: float, t: flint.arb) -> float:
    """``|v - t|`` in ulps of the true value ``t`` (its ball is far narrower than an ulp)."""
    mid = t.mid()
    f = abs(float(mid))
    if f == 0.0:
        ulp = TINY
    else:
        ulp = math.ulp(f)
        if math.frexp(f)[0] == 0.5 and bool(abs(t) < _arb(_q(f))):  # just below a power of two
            ulp = max(ulp / 2, TINY)
    if math.isinf(v):
        return INF
    flint.ctx.prec = PREC
    return float(abs(_arb(_q(v)) - t).mid()) / ulp


# ---------------------------------------------------------------------------------------------
# Strategies.

SPECIAL = [
    0.0, -0.0, TINY, -TINY, 2 * TINY, NORMAL_MIN, -NORMAL_MIN, math.nextafter(NORMAL_MIN, 0.0),
    math.nextafter(NORMAL_MIN, 1.0), 2.0**-1023, MAX, -MAX, math.nextafter(MAX, 0.0), 1.0, -1.0,
    math.nextafter(1.0, 0.0), math.nextafter(1.0, 2.0), 2.0**-52, 2.0**52, 2.0**53, 2.0**1023, -(2.0**1023),
    math.nextafter(2.0**1023, 0.0), 0.1, 1 / 3, -2 / 3, 1e-300, 1e300,
]
finite = st.floats(allow_nan=False, allow_infinity=False)
doubles = st.one_of(st.sampled_from(SPECIAL), finite,
                    st.floats(-1e-300, 1e-300), st.floats(-4.0, 4.0))
nonneg = st.one_of(st.sampled_from([f for f in SPECIAL if f >= 0]), st.floats(0.0, MAX),
                   st.floats(0.0, 1e-300), st.floats(0.0, 4.0))
unit = st.one_of(st.sampled_from([Fraction(0), Fraction(1), Fraction(1, 2)]),
                 st.fractions(min_value=0, max_value=1, max_denominator=2**64))


@st.composite
def intervals(draw, ends=doubles, floor=-INF):
    """``(lo, hi)`` doubles with ``floor < lo <= hi``: arbitrary pairs, one-signed pairs, points, and a few-ulp
    widths (``ends`` draws only values above ``floor``)."""
    a = draw(ends)
    kind = draw(st.integers(0, 3))
    if kind == 0:
        b = draw(ends)
    elif kind == 3:
        b = -abs(draw(ends)) if a < 0 else abs(draw(ends))
        if not b > floor:
            b = draw(ends)
    elif kind == 1:
        b = a
    else:
        b = a
        for _ in range(draw(st.integers(1, 4))):
            b = math.nextafter(b, INF)
        if math.isinf(b) or not draw(st.booleans()):
            b = a
    return (a, b) if a <= b else (b, a)


# Exponent arguments: near 0, around the subnormal boundary (exp(x) = 2^-1022 at -708.4) and the
# underflow to 0 (-745.13), near overflow (709.78) and beyond it.
exp_args = st.one_of(
    st.floats(-750.0, 711.0), st.floats(-1e-6, 1e-6), st.floats(-4.0, 4.0), st.floats(-709.5, -707.5),
    st.floats(-746.0, -744.0), st.floats(709.0, 710.0),
    st.sampled_from([0.0, -0.0, TINY, -TINY, 1.0, -1.0, LOG_MAX, math.nextafter(LOG_MAX, INF), -745.0, -745.2,
                     -744.4, -708.4, -708.3, 709.7, 709.8, 1e-300]),
)
spans = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, TINY, 2.0**-52, 0.5, 1.0, math.nextafter(1.0, 0.0)]))
log1p_args = st.one_of(
    st.floats(-1.0, MAX, exclude_min=True), st.floats(-1.0, -0.9, exclude_min=True), st.floats(-1e-5, 1e-5),
    st.sampled_from([math.nextafter(-1.0, 0.0), -0.5, 0.0, TINY, -TINY, 1e-300, 1.0, MAX, 2.0**-53]),
)


# ---------------------------------------------------------------------------------------------
# 1. enclose


@st.composite
def rationals(draw):
    """Rationals everywhere in (and a little beyond) the double range, doubles themselves, and reals
    within an ulp of a double."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return _q(draw(finite))
    if kind == 1:
        f = draw(finite)
        off = draw(st.fractions(min_value=-1, max_value=1, max_denominator=2**40))
        return _q(f) + off * _ulp_q(_q(f))
    m = draw(st.integers(-(2**80), 2**80))
    d = draw(st.integers(1, 2**80))
    k = draw(st.integers(-1160, 1030))
    return Fraction(m, d) * Fraction(2) ** k


@cheap
@given(q=rationals())
@example(q=Fraction(1, 10))
@example(q=Fraction(0))
@example(q=Fraction(1, 2**1075))  # half the smallest subnormal
@example(q=Fraction(-3, 2**1076))
@example(q=Fraction(1, 2**1074) + Fraction(1, 2**1200))
@example(q=MAX_Q + Fraction(2**969))  # rounds to MAX: hi = inf
@example(q=MAX_Q + Fraction(2**970))  # the tie past MAX: overflows
@example(q=Fraction(10**400, 3))
def test_enclose_is_tight_and_contains_q(q):
    # beyond the double range (issue 13: --eta 1e400 crashed here) the enclosure is [MAX, inf] (or
    # [-inf, -MAX]): tight, and never certified by the kernels, which then escalate to Arb
    lo, hi = f64.enclose(q)
    assert isinstance(lo, float) and isinstance(hi, float)
    assert _lies_in_q(lo, hi, q), (q, lo, hi)
    is_double = math.isfinite(lo) and _q(lo) == q
    if is_double:
        assert lo == hi
    else:
        assert lo < hi and math.nextafter(lo, INF) == hi, (q, lo, hi)  # adjacent doubles
        assert (lo == -INF or _q(lo) < q) and (hi == INF or q < _q(hi))


@cheap
@given(f=doubles)
def test_enclose_of_a_double_is_that_point(f):
    lo, hi = f64.enclose(_q(f))
    assert lo == hi == f


# ---------------------------------------------------------------------------------------------
# 2. down / up


def _steps(f: float, g: float) -> int:
    """How many doubles ``g`` lies from ``f`` (``inf`` is one past ``MAX``)."""
    n, direction = 0, math.copysign(INF, g - f)
    while f != g:
        f = math.nextafter(f, direction)
        n += 1
    return n


@cheap
@given(f=doubles)
@example(f=0.0)
@example(f=-0.0)
@example(f=TINY)
@example(f=-TINY)
@example(f=MAX)
@example(f=-MAX)
@example(f=1.0)
@example(f=2.0**-1022)
@example(f=math.nextafter(2.0**-1021, 0.0))  # the TINY term adds a whole ulp here: 3 steps
@example(f=-(2.0**600))
@example(f=math.nextafter(MAX, 0.0))  # up overflows to inf: two steps past it
def test_down_up_step_outward_at_least_one_at_most_three_doubles(f):
    lo, hi = _down_up(f)
    pred, succ = math.nextafter(f, -INF), math.nextafter(f, INF)
    assert lo <= pred and hi >= succ, (f, lo, hi)  # so lo < r < hi for every real r with fl(r) = f
    assert _steps(f, lo) <= 3 and _steps(f, hi) <= 3, (f, lo, hi)  # +-inf counts as the step past +-MAX


def test_down_up_infinities():
    assert _down_up(-INF)[0] == -INF and _down_up(INF)[1] == INF
    assert math.isnan(_down_up(INF)[0]) and math.isnan(_down_up(-INF)[1])  # documented: not certified


# ---------------------------------------------------------------------------------------------
# 3. add, add_if, mul, mul_pos, div_int, logistic_weight: exact rational oracles


@cheap
@given(a=intervals(), b=intervals(), ts=st.lists(st.tuples(unit, unit), min_size=1, max_size=3))
@example(a=(0.1, 0.1), b=(0.2, 0.2), ts=[(Fraction(0), Fraction(0))])
@example(a=(MAX, MAX), b=(MAX, MAX), ts=[(Fraction(0), Fraction(0))])  # overflow: nan lower end
@example(a=(-MAX, MAX), b=(-MAX, MAX), ts=[(Fraction(0), Fraction(1))])
@example(a=(TINY, TINY), b=(-TINY, 2 * TINY), ts=[(Fraction(0), Fraction(1, 3))])
@example(a=(1.0, 1.0), b=(2.0**-53, 2.0**-53), ts=[(Fraction(0), Fraction(0))])  # a tie, rounds to even
def test_add_contains_every_sum(a, b, ts):
    lo, hi = _add(*a, *b)
    for s, t in [(Fraction(0), Fraction(0)), (Fraction(1), Fraction(1)), *ts]:
        x, y = _point(*a, s), _point(*b, t)
        assert _lies_in_q(lo, hi, x + y), (a, b, x, y, lo, hi)


@cheap
@given(on=st.booleans(), a=intervals(), b=intervals(), s=unit, t=unit)
@example(on=True, a=(0.1, 0.1), b=(0.2, 0.2), s=Fraction(0), t=Fraction(0))
@example(on=False, a=(-0.0, 0.1), b=(0.2, 0.2), s=Fraction(0), t=Fraction(0))
def test_add_if_adds_or_passes_through(on, a, b, s, t):
    lo, hi = _add_if(on, *a, *b)
    if on:
        assert [v.hex() for v in (lo, hi)] == [v.hex() for v in _add(*a, *b)]
        assert _lies_in_q(lo, hi, _point(*a, s) + _point(*b, t))
    else:  # unchanged, bit for bit (signed zeros included)
        assert (lo.hex(), hi.hex()) == (a[0].hex(), a[1].hex())


@cheap
@given(a=intervals(), b=intervals(), ts=st.lists(st.tuples(unit, unit), min_size=1, max_size=3))
@example(a=(-2.0, 1.0), b=(-3.0, 1.0), ts=[(Fraction(1, 2), Fraction(1, 2))])
@example(a=(1.0, 2.0), b=(3.0, 5.0), ts=[(Fraction(1, 2), Fraction(1, 2))])  # each corner extreme in some variant
@example(a=(TINY, TINY), b=(TINY, TINY), ts=[(Fraction(0), Fraction(0))])  # underflows to 0
@example(a=(-TINY, -TINY), b=(TINY, 0.5), ts=[(Fraction(0), Fraction(0))])
@example(a=(0.1, 0.1), b=(0.3, 0.3), ts=[(Fraction(0), Fraction(0))])
@example(a=(-1e200, 1e200), b=(1e200, 1e200), ts=[(Fraction(1, 2), Fraction(0))])  # infinite corners
@example(a=(1e200, 1e200), b=(1e200, 1e201), ts=[(Fraction(0), Fraction(0))])  # all corners overflow
@example(a=(-0.0, 0.0), b=(-MAX, MAX), ts=[(Fraction(0), Fraction(0))])
def test_mul_contains_corners_and_interior_products(a, b, ts):
    """For ``a``, ``b``, their negations and the swapped order, so each corner gets to be the extreme one
    (one-signed intervals make each of the four corners the maximum and the minimum in some variant)."""
    corners = [(s, t) for s in (Fraction(0), Fraction(1)) for t in (Fraction(0), Fraction(1))]
    for x, y in [(a, b), (b, a)]:
        for u, v in [(x, y), (_neg(x), y), (x, _neg(y)), (_neg(x), _neg(y))]:
            lo, hi = _mul(*u, *v)
            for s, t in corners + ts:
                p, q = _point(*u, s), _point(*v, t)
                assert _lies_in_q(lo, hi, p * q), (u, v, p, q, lo, hi)


@cheap
@given(a=intervals(nonneg), b=intervals(nonneg), ts=st.lists(st.tuples(unit, unit), min_size=1, max_size=3))
@example(a=(TINY, TINY), b=(0.5, 0.5), ts=[(Fraction(0), Fraction(0))])  # a tie in the subnormals
@example(a=(0.0, 0.1), b=(0.0, 3.0), ts=[(Fraction(1), Fraction(1))])
@example(a=(2.0**600, 2.0**600), b=(2.0**500, 2.0**500), ts=[(Fraction(0), Fraction(0))])
def test_mul_pos_contains_every_product(a, b, ts):
    lo, hi = _mul_pos(*a, *b)
    for s, t in [(Fraction(0), Fraction(0)), (Fraction(1), Fraction(1)), *ts]:
        x, y = _point(*a, s), _point(*b, t)
        assert _lies_in_q(lo, hi, x * y), (a, b, x, y, lo, hi)


# n up to 2^53: every such n is a double, so xl / n is one correctly rounded division.
counts = st.one_of(st.integers(1, 2**53), st.sampled_from([1, 2, 3, 7, 10, 1000, 2**53 - 1, 2**53]))


@cheap
@given(x=intervals(), n=counts, t=unit)
@example(x=(0.1, 0.1), n=3, t=Fraction(0))
@example(x=(TINY, TINY), n=2, t=Fraction(0))  # half the smallest subnormal
@example(x=(-TINY, 3 * TINY), n=7, t=Fraction(1, 2))
@example(x=(-MAX, MAX), n=3, t=Fraction(1))
@example(x=(1.0, 1.0), n=2**53 - 1, t=Fraction(0))
def test_div_int_contains_every_quotient(x, n, t):
    lo, hi = _div_int(*x, n)
    for q in (_q(x[0]) / n, _q(x[1]) / n, _point(*x, t) / n):
        assert _lies_in_q(lo, hi, q), (x, n, q, lo, hi)


@cheap
@given(e=intervals(nonneg), t=unit)
@example(e=(0.0, 0.0), t=Fraction(0))
@example(e=(0.0, MAX), t=Fraction(1, 2))
@example(e=(MAX, MAX), t=Fraction(0))
@example(e=(TINY, 1.0), t=Fraction(0))
@example(e=(2.0**53, 2.0**53), t=Fraction(0))
@example(e=(float.fromhex("0x1.67ec84c87d3ecp-20"),) * 2, t=Fraction(0))  # 1 + e rounds down: up() is needed
@example(e=(float.fromhex("0x1.54b43c16a3708p-39"),) * 2, t=Fraction(0))  # 1 + e rounds up: down() is needed
def test_logistic_weight_contains_and_is_nonnegative(e, t):
    lo, hi = _logistic_weight(*e)
    assert lo >= 0.0
    for x in (_q(e[0]), _q(e[1]), _point(*e, t)):
        assert _lies_in_q(lo, hi, x / (1 + x)), (e, x, lo, hi)


# ---------------------------------------------------------------------------------------------
# 4.-6. exp (numpy, widened), exp_span, log1p: arb oracles


@cheap
@given(x=intervals(exp_args), ts=st.lists(unit, min_size=1, max_size=3))
@example(x=(0.0, 0.0), ts=[Fraction(0)])
@example(x=(1.0, 1.0), ts=[Fraction(0)])
@example(x=(-745.2, -745.0), ts=[Fraction(1, 2)])  # exp rounds to 0 / the smallest subnormal
@example(x=(-800.0, -746.0), ts=[Fraction(1, 2)])
@example(x=(-708.4, -708.3), ts=[Fraction(1, 2)])  # normal/subnormal boundary
@example(x=(709.0, LOG_MAX), ts=[Fraction(1)])  # exp(LOG_MAX) rounds to MAX
@example(x=(709.0, 709.8), ts=[Fraction(1)])  # past overflow: hi must be inf
@example(x=(709.9, 711.0), ts=[Fraction(1, 3)])  # wholly past overflow
def test_widen_exp_of_numpy_exp_contains_exp(x, ts):
    el, eh = _lib_exp(*x)
    lo, hi = _widen_exp(el, eh)
    if x[1] > LOG_MAX:
        assert hi == INF, (x, hi)  # not certified, never a wrong finite bound
    if x[0] <= LOG_MAX:
        assert 0.0 <= lo <= hi, (x, lo, hi)
    for t in [Fraction(0), Fraction(1), *ts]:
        p = _point(*x, t)
        assert _lies_in_arb(lo, hi, _exp(p)), (x, p, el, eh, lo, hi)


@cheap
@given(x=exp_args, span=spans, ts=st.lists(unit, min_size=1, max_size=3))
@example(x=0.0, span=1.0, ts=[Fraction(1, 2)])
@example(x=-745.5, span=1.0, ts=[Fraction(1)])  # numpy.exp underflows to 0 here
@example(x=-746.0, span=0.5, ts=[Fraction(1)])
@example(x=708.5, span=1.0, ts=[Fraction(1)])  # x + span past overflow
@example(x=1.0, span=TINY, ts=[Fraction(1)])
def test_exp_span_contains_exp_of_every_point_of_the_span(x, span, ts):
    (e,) = _kernel_exp(x)
    lo, hi = _exp_span(e, span)
    if bool(_exp(_q(x) + _q(span)) > _arb(MAX_Q)):
        assert hi == INF, (x, span, hi)  # not certified, never a wrong finite bound
    for t in [Fraction(0), Fraction(1), *ts]:
        y = _q(x) + _q(span) * t
        assert _lies_in_arb(lo, hi, _exp(y)), (x, span, y, e, lo, hi)


@cheap
@given(x=exp_args, span=st.one_of(st.floats(min_value=1.0, exclude_min=True), st.just(math.nan)))
@example(x=0.0, span=math.nextafter(1.0, 2.0))
@example(x=-800.0, span=INF)
@example(x=0.0, span=math.nan)
def test_exp_span_above_one_or_nan_is_not_certified(x, span):
    (e,) = _kernel_exp(x)
    assert _exp_span(e, span)[1] == INF


@cheap
@given(x=intervals(log1p_args, floor=-1.0), ts=st.lists(unit, min_size=1, max_size=3))
@example(x=(math.nextafter(-1.0, 0.0), math.nextafter(-1.0, 0.0)), ts=[Fraction(0)])
@example(x=(-TINY, TINY), ts=[Fraction(1, 3)])
@example(x=(1e-300, 1e-300), ts=[Fraction(0)])
@example(x=(1.0, MAX), ts=[Fraction(1, 2)])
@example(x=(-0.5, 0.0), ts=[Fraction(1, 7)])
def test_log1p_contains_log1p(x, ts):
    assert -1.0 < x[0] <= x[1]
    lo, hi = _log1p(*x)
    assert lo <= hi
    for t in [Fraction(0), Fraction(1), *ts]:
        p = _point(*x, t)
        assert _lies_in_arb(lo, hi, _log1p_true(p)), (x, p, lo, hi)


# ---------------------------------------------------------------------------------------------
# 7. The library-error assumption, both as a property of the widening and measured on this machine


@st.composite
def true_values(draw):
    """Positive reals up to MAX: doubles nudged by up to an ulp, subnormals included."""
    f = draw(st.one_of(st.floats(TINY, MAX), st.floats(TINY, 1e-300), st.sampled_from(SPECIAL).filter(lambda v: v > 0)))
    off = draw(st.fractions(min_value=-1, max_value=1, max_denominator=2**30))
    t = _q(f) + off * _ulp_q(_q(f))
    return t if 0 < t <= MAX_Q else _q(f)


def _worst_library_values(t: Fraction, ulps: int) -> tuple[float, float]:
    """The doubles farthest above and below ``t`` that are still within ``ulps`` ulps of it."""
    err = ulps * _ulp_q(t)
    above = MAX if t + err >= MAX_Q else f64.enclose(t + err)[0]
    below = f64.enclose(max(t - err, Fraction(0)))[1]
    return above, below


@cheap
@given(t=true_values())
@example(t=Fraction(100) * _q(TINY))
@example(t=_q(TINY) / 3)
@example(t=_q(NORMAL_MIN))
@example(t=Fraction(1))
@example(t=Fraction(1) + Fraction(1, 2**60))
@example(t=MAX_Q)
def test_widen_exp_absorbs_libm_ulps_of_error(t):
    """If the library is within LIBM_ULPS ulps, the widened values enclose the true exp."""
    above, below = _worst_library_values(t, f64.LIBM_ULPS)
    lo, hi = _widen_exp(above, below)  # the lower end from a value too high, the upper from one too low
    assert _lies_in_q(lo, hi, t), (t, above, below, lo, hi)


@cheap
@given(t=true_values(), span=spans)
@example(t=Fraction(100) * _q(TINY), span=0.0)
@example(t=_q(TINY) / 3, span=TINY)
@example(t=_q(NORMAL_MIN), span=1.0)
@example(t=Fraction(1) + Fraction(1, 2**60), span=2.0**-52)
@example(t=MAX_Q / 3, span=1.0)  # the upper end overflows: inf, not a wrong finite bound
def test_exp_span_absorbs_libm_ulps_of_error(t, span):
    """If the library is within LIBM_ULPS ulps of ``t = exp(x)``, ``exp_span`` encloses ``exp`` on
    ``[x, x + span]``: its lower end from a value too high, its upper end from one too low."""
    above, below = _worst_library_values(t, f64.LIBM_ULPS)
    lo, hi = _exp_span(above, span)[0], _exp_span(below, span)[1]
    assert 0.0 <= lo and _q(lo) <= t, (t, above, lo)
    flint.ctx.prec = PREC
    assert _lies_in_arb(lo, hi, _arb(t) * _arb(_q(span)).exp()), (t, span, below, hi)


def _exp_probe_args() -> np.ndarray:
    rng = np.random.default_rng(20240519)
    edges = [0.0, -0.0, TINY, -TINY, 1e-300, -1e-300, 2.0**-30, -(2.0**-30), 1.0, -1.0, math.log(2), 0.5,
             LOG_MAX, -708.3964185322641, -708.4, -744.44007192138126, -745.1332191019411, -745.13321910194122,
             -745.0, -740.0, -720.0, 700.0, 709.0, 709.7, 709.78]
    near_edges = [e + rng.uniform(-1e-3, 1e-3, 40) for e in (0.0, -708.4, -744.44, -745.13, 709.78)]
    multiples_of_ln2 = np.arange(-34400, 32768, 97) * (math.log(2) / 32)  # near table/reduction boundaries
    small = rng.choice([-1, 1], 400) * 2.0 ** rng.uniform(-60, 3, 400)
    wide = rng.uniform(-745.2, LOG_MAX, 2500)
    xs = np.concatenate([edges, *near_edges, multiples_of_ln2, small, wide])
    return xs[(xs <= LOG_MAX)]


def _log1p_probe_args() -> np.ndarray:
    rng = np.random.default_rng(20240520)
    edges = [0.0, -0.0, TINY, -TINY, 1e-300, -1e-300, math.nextafter(-1.0, 0.0), -0.5, -0.25, 0.5, 1.0, MAX,
             math.e - 1, 2.0**-53, -(2.0**-54), 1e300]
    near_minus_one = -1.0 + 2.0 ** rng.uniform(-53, -1, 300)
    small = rng.choice([-1, 1], 600) * 2.0 ** rng.uniform(-1074, -1, 600)
    big = 2.0 ** rng.uniform(0, 1023, 600)
    mid = rng.uniform(-0.999, 4.0, 1500)
    xs = np.concatenate([edges, near_minus_one, small, big, mid])
    return xs[xs > -1.0]


def _max_error(values: np.ndarray, xs: np.ndarray, true) -> tuple[float, float]:
    worst, where = 0.0, math.nan
    for v, x in zip(values.tolist(), xs.tolist(), strict=True):
        err = _ulp_error(v, true(_q(x)))
        if err > worst:
            worst, where = err, x
    return worst, where


def test_numpy_exp_is_within_libm_ulps():
    """numpy.exp, on contiguous arrays and in place on a strided view (as the kernels call it)."""
    xs = _exp_probe_args()
    contiguous = np.exp(xs)
    block = np.ones((3, len(xs), 2))
    block[1, :, 0] = xs
    view = block[:, :, 0]
    np.exp(view, out=view)
    for name, values in [("contiguous", contiguous), ("strided", view[1].copy())]:
        worst, where = _max_error(values, xs, _exp)
        assert worst <= f64.LIBM_ULPS, f"numpy.exp ({name}) errs by {worst:.3f} ulp at x={where!r}"
        print(f"numpy.exp ({name}): max error {worst:.4f} ulp at x={where!r} over {len(xs)} arguments")


def test_kernel_exp_is_within_libm_ulps():
    """The batch kernels' exp (their exponential pass, :func:`verify.arith.f64.exp_array`)."""
    xs = _exp_probe_args()
    worst, where = _max_error(np.array(_kernel_exp(*xs.tolist())), xs, _exp)
    assert worst <= f64.LIBM_ULPS, f"the kernels' exp errs by {worst:.3f} ulp at x={where!r}"
    print(f"exp (the kernels' exp_array): max error {worst:.4f} ulp at x={where!r} over {len(xs)} arguments")


# ---------------------------------------------------------------------------------------------
# 7b. exp_array: the bound its docstring proves, and the steps of the proof


U = Fraction(1, 2**53)
HALF_TINY = Fraction(1, 2**1075)


def _exp_array_bound_holds(x: float, e: float) -> bool:
    """``e`` within the bound :func:`verify.arith.f64.exp_array` proves of ``exp(x)``: ``3u``
    relatively for a normal result, plus ``2^-1075`` absolutely below the normal range; ``inf`` only
    when ``exp(x) > MAX (1 - 2^-51)``; as libm's on ``nan`` and the infinities."""
    if math.isnan(x):
        return math.isnan(e)
    if abs(x) > 1000:  # exp(x) is beyond every double or below every positive one (Arb's ball is huge)
        return e == (INF if x > 0 else 0.0)
    flint.ctx.prec = PREC
    t = _exp(_q(x))
    if e == INF:
        return bool(t > _arb(MAX_Q * (1 - Fraction(1, 2**51))))
    slack = _arb(3 * U) * t + (_arb(HALF_TINY) if e < NORMAL_MIN or bool(t < _arb(_q(NORMAL_MIN))) else 0)
    return 0.0 <= e and bool(abs(_arb(_q(e)) - t) <= slack)


def _exp_steps(x: float, degree: int = 13) -> tuple[float, float, float, float]:
    """:func:`verify.arith.f64.exp_array`'s steps in Python doubles (the same IEEE operations):
    ``k``, ``x - k H``, ``r``, and the result (a Taylor polynomial of ``degree``)."""
    xc = min(max(x, f64.EXP_X_MIN), f64.EXP_X_MAX)
    k = math.floor(xc * f64.INV_LN2 + 0.5)
    hi = xc - k * f64.LN2_HI
    r = hi - k * f64.LN2_LO
    coeffs = [1.0, 1.0, *(1.0 / math.factorial(i) for i in range(2, degree + 1))]
    p = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        p = c + r * p
    k1 = math.floor(k / 2)
    return float(k), hi, r, (p * 2.0**k1) * 2.0 ** (k - k1)


exp_array_args = st.one_of(exp_args, st.floats(-2000.0, 2000.0),
                           st.sampled_from([INF, -INF, math.nan, -746.0, 710.0, -1e308, 1e308]))


@cheap
@given(x=exp_array_args)
@example(x=LOG_MAX)  # exp rounds to MAX: finite, not inf
@example(x=math.nextafter(LOG_MAX, INF))  # exp above MAX: inf
@example(x=-745.1332191019411)  # exp rounds to the smallest subnormal
@example(x=-708.3964185322641)  # the normal/subnormal boundary
@example(x=0.5 * math.log(2))  # a rounding boundary of k
def test_exp_array_is_within_its_proved_bound(x):
    (e,) = _kernel_exp(x)
    assert _exp_array_bound_holds(x, e), (x, e)
    if x == 0.0:
        assert e == 1.0


@cheap
@given(x=st.one_of(st.floats(f64.EXP_X_MIN, f64.EXP_X_MAX), st.floats(-1.0, 1.0),
                   st.sampled_from([f64.EXP_X_MIN, f64.EXP_X_MAX, 0.0, 0.5 * math.log(2), -0.5 * math.log(2)])))
def test_exp_array_reduction_steps_hold(x):
    """The proof's steps 1 and 3: ``|k| <= 1077``, ``x - k H`` exact, ``|r| <= 0.3466`` and within
    ``0.38u`` of ``x - k ln 2``; and the Python mirror of the steps gives the kernel's value bit for bit."""
    k, hi, r, value = _exp_steps(x)
    assert abs(k) <= 1077
    assert _q(hi) == _q(x) - int(k) * _q(f64.LN2_HI)
    assert abs(r) <= 0.3466
    flint.ctx.prec = PREC
    d = _arb(_q(r)) - (_arb(_q(x)) - int(k) * flint.arb.const_log2())
    assert bool(abs(d) <= _arb(Fraction(38, 100) * U))
    (e,) = _kernel_exp(x)
    assert value == e or (math.isnan(value) and math.isnan(e))


def test_exp_array_constants_are_as_the_proof_states():
    flint.ctx.prec = PREC
    assert (_q(f64.LN2_HI) * 2**32).denominator == 1 and f64.LN2_HI < 1
    assert bool(abs(flint.arb.const_log2() - _arb(_q(f64.LN2_HI)) - _arb(_q(f64.LN2_LO))) < _arb(Fraction(1, 2**86)))
    assert f64.INV_LN2 == 1 / math.log(2) and f64.EXP_C13 == 1.0 / math.factorial(13)
    assert bool(abs(_arb(_q(f64.INV_LN2)) - 1 / flint.arb.const_log2()) < _arb(Fraction(1, 2**55)))
    assert f64.EXP_CAP <= MAX * (1 - 2.0**-51)


def test_exp_array_over_the_probe_arguments():
    """The relative error over thousands of arguments (edges, near multiples of ln 2, the whole
    range) stays within the proved ``3u``; it is printed, in units of ``u``."""
    xs = _exp_probe_args()
    values = _kernel_exp(*xs.tolist())
    worst = 0.0
    for x, e in zip(xs.tolist(), values, strict=True):
        assert _exp_array_bound_holds(x, e), (x, e)
        t = _exp(_q(x))
        if e >= NORMAL_MIN:
            worst = max(worst, float((abs(_arb(_q(e)) - t) / t).mid()) / 2.0**-53)
    print(f"exp_array: max relative error {worst:.3f} u over {len(xs)} arguments (proved: 3 u)")


def test_the_exp_array_bound_check_catches_a_short_polynomial():
    """The bound is tight enough to fail: a degree-9 polynomial (error about 2^-37) breaks it, the
    degree-13 one of the kernels does not."""
    xs = [0.34, -0.34, 0.5 * math.log(2) - 1e-9, 100.0 + 0.34]
    assert all(_exp_array_bound_holds(x, _exp_steps(x)[3]) for x in xs)
    assert not all(_exp_array_bound_holds(x, _exp_steps(x, degree=9)[3]) for x in xs)


def test_libm_log1p_is_within_libm_ulps():
    xs = _log1p_probe_args()
    worst, where = _max_error(_libm_log1p(xs), xs, _log1p_true)
    assert worst <= f64.LIBM_ULPS, f"math.log1p errs by {worst:.3f} ulp at x={where!r}"
    print(f"math.log1p (numba/libm): max error {worst:.4f} ulp at x={where!r} over {len(xs)} arguments")


# ---------------------------------------------------------------------------------------------
# 8. The checks above can fail: unsound variants are caught


def test_unsound_variants_fail_the_containment_checks():
    cases = [(0.1, 0.1, 0.2, 0.2), (1.0, 1.0, 2.0**-60, 2.0**-60), (-0.1, 0.3, 0.7, 0.7)]

    def add_ok(fn, case):
        lo, hi = fn(*case)
        return _lies_in_q(lo, hi, _q(case[0]) + _q(case[2])) and _lies_in_q(lo, hi, _q(case[1]) + _q(case[3]))

    assert all(add_ok(_add, c) for c in cases)
    assert not all(add_ok(_add_nearest, c) for c in cases)

    def mul_ok(fn, case):
        lo, hi = fn(*case)
        return all(_lies_in_q(lo, hi, _q(x) * _q(y)) for x in case[:2] for y in case[2:])

    cases = [(TINY, TINY, TINY, TINY), (-TINY, -TINY, 0.25, 0.25), (0.1, 0.1, 0.3, 0.3)]
    assert all(mul_ok(_mul, c) for c in cases)
    assert not all(mul_ok(_mul_no_tiny, c) for c in cases)  # underflow to 0 is a rounding too
    cases = [(-2.0, 1.0, -3.0, 1.0), (1.0, 2.0, 3.0, 4.0)]
    assert all(mul_ok(_mul, c) for c in cases)
    assert not all(mul_ok(_mul_two_corners, c) for c in cases)  # mixed signs need all four corners

    def exp_ok(fn, x):
        el, eh = _lib_exp(x, x)
        lo, hi = fn(el, eh)
        return _lies_in_arb(lo, hi, _exp(_q(x)))

    xs = [1.0, -0.5, 3.25]
    assert all(exp_ok(_widen_exp, x) for x in xs)
    assert not all(exp_ok(_exp_unwidened, x) for x in xs)

    def span_ok(fn, x, span):
        (e,) = _kernel_exp(x)
        lo, hi = fn(e, span)
        return _lies_in_arb(lo, hi, _exp(_q(x) + _q(span)))

    pairs = [(0.0, 1.0), (-3.0, 0.5), (2.0, 0.25)]
    assert all(span_ok(_exp_span, *p) for p in pairs)
    assert not all(span_ok(_exp_span_linear, *p) for p in pairs)

    def library_ok(fn, t):  # a library off by LIBM_ULPS ulps, as in test_widen_exp_absorbs_libm_ulps_of_error
        above, below = _worst_library_values(t, f64.LIBM_ULPS)
        lo, hi = fn(above, below)
        return _lies_in_q(lo, hi, t)

    ts = [Fraction(100) * _q(TINY), Fraction(7) * _q(TINY), _q(1e-310)]
    assert all(library_ok(_widen_exp, t) for t in ts)
    assert not all(library_ok(_exp_relative_only, t) for t in ts)  # subnormal results need LIBM_ABS
    ts = [Fraction(1, 3), Fraction(10**20, 7)]
    assert all(library_ok(_widen_exp, t) for t in ts)
    assert not all(library_ok(_exp_unwidened, t) for t in ts)

    def span_library_ok(fn, t):
        above, below = _worst_library_values(t, f64.LIBM_ULPS)
        return _lies_in_q(fn(above, 0.0)[0], fn(below, 0.0)[1], t)

    assert all(span_library_ok(_exp_span, t) for t in ts)
    assert not all(span_library_ok(_exp_span_trusting, t) for t in ts)
