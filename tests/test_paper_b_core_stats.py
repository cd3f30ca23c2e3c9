"""The rigorous Clopper-Pearson bound: exact tail checks against an independent Fraction sum, agreement
with scipy, the closed form at zero errors, the mutation (the MLE e/n as an upper bound) refuted, bad input."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import beta

from proofs.paper_b.stats import binom_cdf_scaled, cdf_at_most, clopper_pearson_upper
from verify.errors import InvalidArgument


def cdf_fraction(e: int, n: int, p: Fraction) -> Fraction:
    return sum((math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(e + 1)), Fraction(0))


@st.composite
def counts(draw):
    n = draw(st.integers(1, 300))
    return draw(st.integers(0, n)), n


alphas = st.sampled_from([Fraction(1, 20), Fraction(1, 100), Fraction(1, 3)])


@given(counts(), alphas)
def test_bound_is_certified_and_tight(case, alpha):
    e, n = case
    b = clopper_pearson_upper(e, n, alpha)
    if e < n:
        assert cdf_fraction(e, n, b.upper) <= alpha < cdf_fraction(e, n, b.tight_below)
        assert float(b.tight_below) <= beta.ppf(1 - float(alpha), e + 1, n - e) * (1 + 1e-9) + 1e-12
        assert beta.ppf(1 - float(alpha), e + 1, n - e) <= float(b.upper) + 1e-12
    else:
        assert b.upper == 1


@given(st.integers(1, 60), st.integers(0, 2**10), st.data())
def test_scaled_cdf_matches_fraction_sum(n, pnum, data):
    e = data.draw(st.integers(0, n))
    assert Fraction(binom_cdf_scaled(e, n, pnum, 10), 2 ** (10 * n)) == cdf_fraction(e, n, Fraction(pnum, 2**10))


def test_zero_errors_closed_form():
    b = clopper_pearson_upper(0, 1000, Fraction(1, 20))
    assert abs(float(b.upper) - (1 - 0.05 ** (1 / 1000))) < 1e-9


def test_mutation_mle_as_upper_bound_is_refuted():
    # "e/n is a 95% upper bound" is false: the exact tail at e/n exceeds alpha
    e, n = 7, 200
    p = Fraction(e, n)
    p_dyadic = Fraction(math.ceil(p * 2**32), 2**32)
    assert not cdf_at_most(e, n, p_dyadic, Fraction(1, 20))


@pytest.mark.parametrize("args, name", [((0, 0), "n"), ((5, 4), "errors"), ((-1, 4), "errors"),
                                         ((1, 4, 0), "alpha"), ((1, 4, 1), "alpha")])
def test_bad_input_names_the_field(args, name):
    with pytest.raises(InvalidArgument) as err:
        clopper_pearson_upper(*args)
    assert err.value.field == name
