"""Interval arrays: every operation of every arithmetic contains the exact result.

What this file pins down, against exact oracles (``Fraction`` for field operations and products,
python-flint ``arb`` at 300 bits for ``exp``/``log1p``):

* float64 midpoint-radius (:mod:`verify.arith.midrad`): ``add``, ``sub``, ``mul`` (broadcast),
  ``sum`` over an axis, ``matmul`` (point and interval operands on either side), ``exp``, ``log1p``,
  ``logistic`` and ``relu`` contain the exact result at the corners, centres and random interior
  points of their operands, over the whole range (subnormals, results that underflow, large inner
  dimensions where ``gamma_k`` matters); ``positive``/``nonpositive`` are exact comparisons;
  ``bounds`` and ``natives`` contain the entries;
* the a-priori bounds are needed: the same products without the ``gamma_k`` term, or without the
  underflow term ``k eta``, miss the exact product (mutations caught here);
* Arb arrays (``arb_mat`` products) and the object-array arithmetics (mpmath; exact rationals, which
  give the exact products and refuse ``exp``) contain the same exact results.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from fractions import Fraction

import flint
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify.arith import midrad
from verify.arith.arrays import get_arithmetic
from verify.arith.midrad import MidRad, MidRadArithmetic

F64 = MidRadArithmetic()
TINY = 5e-324

magnitudes = st.sampled_from([1.0, 1e-3, 1e3, 1e-150, 1e150, 2.0**-1000, 2.0**-1070, 1e300])


@st.composite
def midrad_arrays(draw, shape, point=None):
    """MidRad arrays whose entries mix scales (subnormal to huge) and radii (0 to relative 1e-3)."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = draw(magnitudes)
    mid = rng.normal(size=shape) * scale
    mid[rng.random(shape) < 0.1] = 0.0
    is_point = draw(st.booleans()) if point is None else point
    if is_point:
        return MidRad(mid, np.zeros(shape), point=True)
    rel = draw(st.sampled_from([0.0, 1e-16, 1e-10, 1e-3]))
    rad = np.abs(mid) * rel * rng.random(shape) + (TINY if draw(st.booleans()) else 0.0)
    return MidRad(mid, rad)


def points(a: MidRad, rng: np.random.Generator, count: int = 3) -> list[np.ndarray]:
    """Exact points of ``a`` (object arrays of Fractions): the centre, two corners, random interior."""
    m = np.vectorize(Fraction, otypes=[object])(a.mid)
    r = np.vectorize(Fraction, otypes=[object])(a.rad)
    out = [m, m - r, m + r]
    for _ in range(count):
        s = np.vectorize(lambda v: Fraction(int(v), 1000), otypes=[object])(rng.integers(-1000, 1001, a.shape))
        out.append(m + s * r)
    return out


HUGE = Fraction(1e307)


def assert_contains(c: MidRad, exact: np.ndarray, what: str) -> None:
    """Every exact value inside its entry; an entry may be non-finite (no information) only when
    the exact value is near or beyond the double range."""
    for idx in np.ndindex(exact.shape):
        m, r = c.mid[idx], c.rad[idx]
        if not (math.isfinite(m) and math.isfinite(r)):
            assert abs(exact[idx]) > HUGE, f"{what}{idx}: not finite for {float(exact[idx])!r}"
            continue
        assert abs(exact[idx] - Fraction(m)) <= Fraction(r), \
            f"{what}{idx}: {float(exact[idx])!r} not in {m!r} +/- {r!r}"


@given(a=midrad_arrays((3, 4)), b=midrad_arrays((3, 4)), seed=st.integers(0, 2**16))
def test_add_sub_mul_contain_exact(a, b, seed):
    rng = np.random.default_rng(seed)
    for op, exact_op in ((F64.add, np.add), (F64.sub, np.subtract), (F64.mul, np.multiply)):
        c = op(a, b)
        for pa, pb in zip(points(a, rng), points(b, rng), strict=True):
            assert_contains(c, exact_op(pa, pb), op.__name__)


@given(a=midrad_arrays((4, 3)), b=midrad_arrays((1, 3)), seed=st.integers(0, 2**16))
def test_mul_broadcasts(a, b, seed):
    rng = np.random.default_rng(seed)
    c = F64.mul(a, b)
    assert c.shape == (4, 3)
    for pa, pb in zip(points(a, rng), points(b, rng), strict=True):
        assert_contains(c, pa * pb, "mul")


@given(a=midrad_arrays((5, 6)), axis=st.sampled_from([0, 1]), seed=st.integers(0, 2**16))
def test_sum_contains_exact(a, axis, seed):
    rng = np.random.default_rng(seed)
    c = F64.sum(a, axis)
    for pa in points(a, rng):
        assert_contains(c, pa.sum(axis=axis), "sum")


@contextmanager
def radius_in(single: bool):
    """Products with their radius products in float32 (as large products have) or in float64."""
    saved = midrad.SINGLE_MIN_WORK
    midrad.SINGLE_MIN_WORK = 0 if single else 1 << 62
    try:
        yield
    finally:
        midrad.SINGLE_MIN_WORK = saved


@pytest.mark.parametrize("single", [False, True])
@given(a=midrad_arrays((4, 7)), b=midrad_arrays((7, 3)), seed=st.integers(0, 2**16))
def test_matmul_contains_exact(single, a, b, seed):
    rng = np.random.default_rng(seed)
    with radius_in(single):
        c = F64.matmul(a, b)
    for pa, pb in zip(points(a, rng), points(b, rng), strict=True):
        assert_contains(c, pa.dot(pb), "matmul")


def _cancelling(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose dot products with the columns cancel: large terms, small sums (rounding shows)."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, k)) * 2.0 ** rng.integers(-20, 20, size=(n, k))
    B = rng.normal(size=(k, 2))
    B[:, 1] = -B[:, 0] * (1 + 2.0**-30 * rng.normal(size=k))
    return A, B


def _exact_dot(a_row: np.ndarray, b_col: np.ndarray) -> Fraction:
    return sum((Fraction(x) * Fraction(y) for x, y in zip(a_row.tolist(), b_col.tolist(), strict=True)), Fraction(0))


def _misses(c: MidRad, A: np.ndarray, B: np.ndarray, entries) -> int:
    return sum(abs(_exact_dot(A[i], B[:, j]) - Fraction(c.mid[i, j])) > Fraction(c.rad[i, j]) for i, j in entries)


@pytest.mark.parametrize("single", [False, True])
@pytest.mark.parametrize("k", [1000, 4000])
def test_large_inner_dimension_products_contain_exact(single, k):
    """Point times point, point times interval and interval times point, with cancellation."""
    with radius_in(single):
        _check_large(k)


def _check_large(k: int) -> None:
    A, B = _cancelling(8, k, k)
    entries = [(i, j) for i in range(8) for j in range(2)]
    pa, pb = F64.exact(A), F64.exact(B)
    assert _misses(F64.matmul(pa, pb), A, B, entries) == 0
    wide = MidRad(B, np.abs(B) * 1e-12)
    c = F64.matmul(pa, wide)
    assert all(abs(_exact_dot(A[i], B[:, j]) - Fraction(c.mid[i, j])) <= Fraction(c.rad[i, j]) for i, j in entries)
    c = F64.matmul(MidRad(A, np.abs(A) * 1e-12), pb)
    assert all(abs(_exact_dot(A[i], B[:, j]) - Fraction(c.mid[i, j])) <= Fraction(c.rad[i, j]) for i, j in entries)
    c = F64.matmul(MidRad(A, np.abs(A) * 1e-12), wide)
    assert all(abs(_exact_dot(A[i], B[:, j]) - Fraction(c.mid[i, j])) <= Fraction(c.rad[i, j]) for i, j in entries)


def test_mutation_without_gamma_term_is_caught(monkeypatch):
    """The same product with gamma_k = 0: only the underflow term is left, and cancelling dot
    products of 4000 terms miss their exact value."""
    A, B = _cancelling(8, 4000, 1)
    entries = [(i, j) for i in range(8) for j in range(2)]
    assert _misses(F64.matmul(F64.exact(A), F64.exact(B)), A, B, entries) == 0
    monkeypatch.setattr(midrad, "gamma", lambda k: 0.0)
    assert _misses(F64.matmul(F64.exact(A), F64.exact(B)), A, B, entries) > 0


def test_float32_radius_is_an_upper_bound_and_tight(monkeypatch):
    """The float32 radius products (used for large products) bound the float64 ones from above,
    within a factor 1 + 1e-4 while the radii are in float32's normal range, and stay upper bounds
    (floored at float32's least subnormal) far below it."""
    rng = np.random.default_rng(7)
    A = rng.normal(size=(64, 300))
    assert 64 * 300 * 64 >= midrad.SINGLE_MIN_WORK
    for scale in (1.0, 1e-15, 1e-300):
        mid = rng.normal(size=(300, 64)) * scale
        B = MidRad(mid, np.abs(mid) * 1e-10)
        c32 = F64.matmul(F64.exact(A), B)
        with monkeypatch.context() as mp:
            mp.setattr(midrad, "SINGLE_MIN_WORK", 1 << 62)
            c64 = F64.matmul(F64.exact(A), B)
        assert (c32.mid == c64.mid).all() and (c32.rad >= c64.rad).all()
        if scale >= 1e-15:
            assert (c32.rad <= c64.rad * (1 + 1e-4)).all()


def test_underflow_term_is_needed(monkeypatch):
    """Products in the subnormal range round with an absolute error that gamma_k does not cover."""
    rng = np.random.default_rng(3)
    A = (0.6 + 0.1 * rng.random(size=(6, 1000))) * 2.0**-537
    B = (0.6 + 0.1 * rng.random(size=(1000, 3))) * 2.0**-537  # each product < 2^-1075: rounds to 0
    entries = [(i, j) for i in range(6) for j in range(3)]
    assert _misses(F64.matmul(F64.exact(A), F64.exact(B)), A, B, entries) == 0
    monkeypatch.setattr(midrad, "ETA", 0.0)
    assert _misses(F64.matmul(F64.exact(A), F64.exact(B)), A, B, entries) > 0


def _arb_fn(name: str, q: Fraction) -> flint.arb:
    flint.ctx.prec = 300
    x = flint.arb(flint.fmpq(q.numerator, q.denominator))
    return {"exp": x.exp, "log1p": x.log1p, "logistic": lambda: x / (1 + x)}[name]()


def _arb_exact(q: Fraction) -> flint.arb:
    # m +- r of two doubles spans up to 2**1024 .. 2**-1074: exact at 2,200 bits (300 bits, as this helper
    # had, rounds m +- 5e-324 to a ball that no tight enclosure contains: a false failure under dev)
    flint.ctx.prec = 2200
    x = flint.arb(flint.fmpq(q.numerator, q.denominator))
    assert x.rad() == 0, "the helper's point is not exact"
    return x


def _arb_inside(value: flint.arb, m: float, r: float) -> bool:
    flint.ctx.prec = 300
    lo, hi = _arb_exact(Fraction(m) - Fraction(r)), _arb_exact(Fraction(m) + Fraction(r))
    return bool(value >= lo) and bool(value <= hi)


arguments = st.one_of(st.floats(-745, 709.7), st.floats(-1e-8, 1e-8), st.sampled_from([-744.0, 709.0, 0.0, 1.0]))


@given(m=arguments, rel=st.sampled_from([0.0, 1e-16, 1e-8]))
@pytest.mark.parametrize("name", ["exp", "log1p", "logistic"])
def test_transcendentals_contain_true_values(name, m, rel):
    if name == "log1p":
        m = max(m, -0.5) if abs(m) < 1e6 else m
    if name == "logistic":
        m = abs(m)
    a = MidRad(np.array([m]), np.array([abs(m) * rel]))
    c = getattr(F64, name)(a)
    assert F64.finite(c).all() or name == "exp" and m > 700
    if not F64.finite(c).all():
        return
    for corner in (Fraction(m) - Fraction(abs(m) * rel), Fraction(m), Fraction(m) + Fraction(abs(m) * rel)):
        assert _arb_inside(_arb_fn(name, corner), c.mid[0], c.rad[0]), f"{name}({float(corner)!r})"


def test_exp_overflow_is_not_finite():
    c = F64.exp(MidRad(np.array([710.0, 1.0]), np.array([0.0, 0.0])))
    assert F64.finite(c).tolist() == [False, True]
    assert not F64.positive(c)[0]


@given(a=midrad_arrays((6,)), seed=st.integers(0, 2**16))
def test_relu_decisions_bounds_natives(a, seed):
    rng = np.random.default_rng(seed)
    c = F64.relu(a)
    for pa in points(a, rng):
        assert_contains(c, np.array([max(v, Fraction(0)) for v in pa], dtype=object), "relu")
    m = np.vectorize(Fraction, otypes=[object])(a.mid)
    r = np.vectorize(Fraction, otypes=[object])(a.rad)
    assert (F64.positive(a) == np.array([v - w > 0 for v, w in zip(m, r, strict=True)])).all()
    assert (F64.nonpositive(a) == np.array([v + w <= 0 for v, w in zip(m, r, strict=True)])).all()
    lo, hi = F64.bounds(a)
    assert all(Fraction(lo[i]) <= m[i] - r[i] and m[i] + r[i] <= Fraction(hi[i]) for i in range(6))
    nat = F64.natives(a)
    assert all(nat[i].contains(_arb_exact(m[i] - r[i])) and nat[i].contains(_arb_exact(m[i] + r[i])) for i in range(6))


def test_exact_entry_of_rationals_contains_them():
    q = np.array([[Fraction(1, 3), Fraction(-2, 7)], [Fraction(5), Fraction(10**400, 3**700)]], dtype=object)
    a = F64.exact(q)
    assert not a.point
    assert_contains(a, q, "exact")
    assert F64.exact(np.array([0.5, -3.0])).point


# --- the other arithmetics ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["arb", "mpmath"])
def test_ball_arithmetics_contain_exact_products_and_functions(name):
    ar = get_arithmetic(name, 96)
    rng = np.random.default_rng(5)
    A = rng.normal(size=(5, 9))
    B = np.vectorize(lambda v: Fraction(int(v), 7), otypes=[object])(rng.integers(-50, 50, (9, 4)))
    exact = np.vectorize(Fraction, otypes=[object])(A).dot(B)
    with ar.working_precision():
        C = ar.matmul(ar.operand(ar.exact(A)), ar.exact(B))
        lo, hi = ar.bounds(C)
        E = ar.exp(ar.exact(np.array([0.5, -2.0])))
        S = ar.sum(ar.exact(B), 0)
    assert all(Fraction(lo[i, j]) <= exact[i, j] <= Fraction(hi[i, j]) for i in range(5) for j in range(4))
    elo, ehi = ar.bounds(E)
    assert elo[0] <= math.exp(0.5) <= ehi[0] and ehi[0] - elo[0] < 1e-15
    slo, shi = ar.bounds(S)
    assert all(Fraction(slo[j]) <= B[:, j].sum() <= Fraction(shi[j]) for j in range(4))


def test_exact_arithmetic_is_exact_and_refuses_exp():
    ar = get_arithmetic("exact")
    A = np.array([[Fraction(1, 3), 2], [0, Fraction(-1, 5)]], dtype=object)
    C = ar.matmul(ar.exact(A), ar.exact(A))
    assert C[0, 0] == Fraction(1, 9) and C[1, 1] == Fraction(1, 25)
    assert C[0, 1] == Fraction(4, 15) and ar.positive(C).tolist() == [[True, True], [False, True]]
    assert ar.nonpositive(ar.exact(np.array([0, -1, 1], dtype=object))).tolist() == [True, True, False]
    with pytest.raises(ArithmeticError, match="not rational"):
        ar.exp(C)
