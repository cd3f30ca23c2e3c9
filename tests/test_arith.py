"""Backends: every result contains the exact value; comparisons never guess."""

from __future__ import annotations

from fractions import Fraction

import flint
import mpmath
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from mpmath.libmp import to_rational

from verify.arith import Enclosure, Tri, get_backend
from verify.errors import InvalidArgument, UndecidableError

BACKENDS = ["arb", "mpmath"]
rationals = st.fractions(min_value=-50, max_value=50, max_denominator=10**12)
precs = st.sampled_from([53, 64, 128, 300])


def _true_ball(fn: str, q: Fraction, prec: int) -> flint.arb:
    """Reference value with 400 extra bits (python-flint, used only as an oracle)."""
    flint.ctx.prec = prec + 400
    return getattr(flint.arb(flint.fmpq(q.numerator, q.denominator)), fn)()


def _inside(be, x, ref: flint.arb) -> bool:
    lo, hi = be.lower(x), be.upper(x)
    return bool(ref >= flint.arb(flint.fmpq(lo.numerator, lo.denominator))) and \
        bool(ref <= flint.arb(flint.fmpq(hi.numerator, hi.denominator)))


@pytest.mark.parametrize("name", BACKENDS)
@given(p=rationals, q=rationals, prec=precs)
def test_field_operations_contain_exact_result(name, p, q, prec):
    be = get_backend(name, prec)
    x, y = Enclosure.of(be, p), Enclosure.of(be, q)
    assert x.contains(p) and y.contains(q)
    assert (x + y).contains(p + q)
    assert (x - y).contains(p - q)
    assert (x * y).contains(p * q)
    if q != 0:
        assert (x / y).contains(p / q)
    assert x.relu().contains(max(p, 0))


@pytest.mark.parametrize("name", BACKENDS)
@given(q=st.fractions(min_value=-200, max_value=200, max_denominator=2**20), prec=precs)
@example(q=Fraction(-1695, 262144), prec=53)  # mpmath issue #1181 input
def test_transcendentals_contain_true_value(name, q, prec):
    be = get_backend(name, prec)
    x = Enclosure.of(be, q)
    assert _inside(be, x.exp().value, _true_ball("exp", q, prec))
    if q > 0:
        assert _inside(be, x.log().value, _true_ball("log", q, prec))
    if q > -1:
        assert _inside(be, x.log1p().value, _true_ball("log1p", q, prec))


def test_raw_mpmath_exp_misses_true_value_and_backend_widens():
    """mpmath #1181: iv.exp's upper endpoint falls below exp(q); our backend covers it."""
    q = Fraction(-1695, 262144)
    ctx = mpmath.iv.__class__()
    ctx.prec = 53
    raw = ctx.exp(ctx.mpf(q.numerator) / q.denominator)
    raw_hi = Fraction(*to_rational(raw._mpi_[1]))
    true = _true_ball("exp", q, 53)
    assert bool(true > flint.arb(flint.fmpq(raw_hi.numerator, raw_hi.denominator))), "library bug no longer present"
    be = get_backend("mpmath", 53)
    assert _inside(be, be.exp(be.exact(q)), true)


@pytest.mark.parametrize("name", BACKENDS)
def test_comparisons_are_three_valued(name):
    be = get_backend(name, 64)
    third = Enclosure.of(be, "1/3")
    assert (third < Enclosure.of(be, "1/2")) is Tri.TRUE
    assert (third > Enclosure.of(be, "1/2")) is Tri.FALSE
    straddle = third * 3 - 1  # contains 0, not exactly 0
    assert (straddle < 0) is Tri.UNKNOWN and (straddle > 0) is Tri.UNKNOWN
    assert straddle.sign() is None
    with pytest.raises(UndecidableError, match="certainly"):
        bool(straddle < 0)
    assert Enclosure.of(be, 0).sign() == 0


@pytest.mark.parametrize("name", BACKENDS)
def test_relu_of_straddling_enclosure_is_nonnegative_and_covers(name):
    be = get_backend(name, 64)
    x = Enclosure.of(be, "1/3") * 3 - 1
    r = x.relu()
    assert r.lower >= 0 and r.contains(0)


@pytest.mark.parametrize("bad", [0, -5, 7, 10**6, "64", 64.0, True])
def test_bad_precision_names_the_field(bad):
    with pytest.raises(InvalidArgument, match="prec="):
        get_backend("arb", bad)


def test_unknown_backend_names_the_field():
    with pytest.raises(InvalidArgument, match="backend='gpu'"):
        get_backend("gpu", 64)


def test_precision_scope_is_restored():
    flint.ctx.prec = 53
    be = get_backend("arb", 200)
    with be.working_precision():
        assert flint.ctx.prec == 200
    assert flint.ctx.prec == 53
