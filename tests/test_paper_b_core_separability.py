"""Lemma 2.1: the LP candidate rounded to rationals is certified exactly (and re-checked in pure
Fractions); the witness u = sum_j y_j mu_j is certified, and its mutation -u is refuted exactly."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from proofs.paper_b.data import ClusterModel, ClusterSample
from proofs.paper_b.separability import certify_separable, check_witness, recheck_separator, witness_margins


@st.composite
def easy(draw):
    k = draw(st.integers(2, 6))
    d = draw(st.sampled_from([8, 16, 32]))
    m = ClusterModel(d=d, k=k, sigma=Fraction(draw(st.integers(1, 8)), 16), kind="orthogonal",
                     seed=draw(st.integers(0, 500)))
    return m, m.sample(draw(st.integers(2, 30)), draw(st.integers(0, 100)))


@given(easy())
def test_lp_separator_certified_and_rechecked_in_fractions(case):
    _, s = case
    sep = certify_separable(s)
    assert sep.status == "certified"
    assert recheck_separator(s, sep) == 1  # min margin exactly 1, recomputed independently


def test_primal_lp_when_n_exceeds_d():
    m = ClusterModel(d=4, k=2, sigma=Fraction(1, 8), kind="orthogonal", seed=2)
    s = m.sample(40, 1)
    sep = certify_separable(s)
    assert sep.status == "certified" and recheck_separator(s, sep) == 1


def test_non_separable_data_is_never_certified():
    # the same point with both labels: no separator exists; the LP must not certify
    xint = np.array([[3, 1], [3, 1], [0, 2]], dtype=np.int64)
    s = ClusterSample(xint, 0, (1, -1, 1), (0, 1, 0))
    assert certify_separable(s).status == "inconclusive"


@given(easy())
def test_witness_u_certified_and_minus_u_refuted(case):
    m, s = case
    good = check_witness(m, s)
    assert good.status == "certified" and good.min_margin > 0
    assert good.min_margin == min(witness_margins(m, s))
    bad = check_witness(m, s, direction=-m.u)  # the mutation: the opposite direction
    assert bad.status == "refuted"
    i = bad.counterexample
    x = s.row(i)
    assert s.y[i] * sum((Fraction(int(-a)) * c for a, c in zip(m.u, x, strict=True)), Fraction(0)) <= 0


def test_witness_margin_is_about_d_for_orthogonal_low_noise():
    m = ClusterModel(d=256, k=8, sigma=Fraction(1, 16), kind="orthogonal", seed=4)
    w = check_witness(m, m.sample(50, 0), threshold=Fraction(256 * 9, 10))
    assert w.status == "certified" and Fraction(9, 10) < w.over_d < Fraction(11, 10)
