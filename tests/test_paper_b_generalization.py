"""Generalization and flips on trained (enclosed) networks: certified test-error counts agree with
an exact evaluation in Fractions at the exact init; a flip certified on an enclosure is re-checked in
exact arithmetic at an exact network inside it; a sound radius lower bound is never beaten by an
attack; the slope fit recovers a known power law."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.paper_b import generalization as gen
from proofs.paper_b import law, train
from proofs.paper_b.boxnet import IntervalFlips
from proofs.paper_b.data import ClusterModel
from proofs.paper_b.forward import forward
from proofs.paper_b.universal import u_norm_bracket


@pytest.fixture(scope="module")
def trained():
    model = ClusterModel(d=32, k=4, sigma=Fraction(1, 4), kind="orthogonal", seed=0)
    sample, test = model.train_test(16, 40, 0)
    runs = train.run_width(train.dataset_of(sample), 16, Fraction(4), "exponential", Fraction(1, 10), 0, 2, 300)
    run = next(r for r in runs if r.reached is not None)
    return model, test, run


def _exact_params(run):
    """One exact network inside the final enclosure (the midpoints of the outward bounds; every
    certified statement about the enclosure holds for it)."""
    lo, hi = run.trajectory.final.params.bounds()
    mid = [(Fraction(a) + Fraction(b)) / 2 for a, b in zip(lo, hi, strict=True)]
    assert all(Fraction(a) <= q <= Fraction(b) for a, b, q in zip(lo, hi, mid, strict=True))
    net = run.trajectory.problem.network
    m, k = net.width, net.dim + 1
    return [mid[j * k: j * k + net.dim] for j in range(m)], [mid[j * k + net.dim] for j in range(m)], mid[m * k:]


def test_init_error_count_is_exact(trained):
    model, test, run = trained
    err = gen.initial_test_error(run, test)
    net = run.trajectory.problem.network
    th = run.trajectory.theta0
    m, k = net.width, net.dim + 1
    W, b, v = [th[j * k: j * k + net.dim] for j in range(m)], [th[j * k + net.dim] for j in range(m)], th[m * k:]
    wrong = sum(1 for i in range(test.n) if test.y[i] * forward(W, b, v, test.row(i)) <= 0)
    assert err.exact and err.errors_lo == err.errors_hi == wrong
    assert err.cp_upper >= Fraction(wrong, test.n)


def test_trained_error_bounds_contain_the_exact_count(trained):
    model, test, run = trained
    err = gen.run_test_error(run, test)
    W, b, v = _exact_params(run)
    wrong = sum(1 for i in range(test.n) if test.y[i] * forward(W, b, v, test.row(i)) < 0)
    assert err.errors_lo <= wrong <= err.errors_hi


@given(st.floats(0.2, 3.0))
@settings(max_examples=6, deadline=None)
def test_certified_flips_hold_in_exact_arithmetic(trained, c):
    model, test, run = trained
    oracle = IntervalFlips(run.trajectory.final.params, model.u, test)
    un = u_norm_bracket(model)
    q = Fraction(max(1, int(c * math.sqrt(model.d / model.k) / float(un[0]) * 2**law.Q_BITS)), 2**law.Q_BITS)
    lo, hi = oracle.margins(q)
    W, b, v = _exact_params(run)
    for i in range(0, test.n, 3):  # a sample of the points, re-checked exactly
        x = [a - test.y[i] * q * int(u) for a, u in zip(test.row(i), model.u, strict=True)]
        exact = test.y[i] * forward(W, b, v, x)
        assert Fraction(lo[i]) <= exact <= Fraction(hi[i])


def test_radius_lower_bound_never_beaten_by_the_attack(trained):
    model, test, run = trained
    oracle = IntervalFlips(run.trajectory.final.params, model.u, test)
    r = law.trained_radius(oracle, u_norm_bracket(model), math.sqrt(model.d / model.k))
    assert r["attacked"] > 0 and r["sound"]


def test_eta90_bracket_is_certified(trained):
    model, test, run = trained
    oracle = IntervalFlips(run.trajectory.final.params, model.u, test)
    e = law.eta90(oracle, u_norm_bracket(model), Fraction(9, 10), start=math.sqrt(model.d / model.k))
    assert e.found and e.eta_lo <= e.eta_hi
    assert oracle.counts(e.q_hi)[0] >= e.need


def test_fit_recovers_a_power_law():
    rows = [{"k": k, "d": d, "v": 3.0 * k ** -0.5 * d ** 0.5 * (1 + 0.01 * ((k * d) % 3))}
            for k in (4, 8, 16) for d in (64, 128, 256)]
    fit = law.fit_slopes(rows, "v")
    assert abs(fit["beta_k"] + 0.5) < 0.05 and abs(fit["beta_d"] - 0.5) < 0.05
    assert law.miss(fit, "beta_k", -0.5) == 0.0
    assert law.miss({"beta_k_ci": [0.0, 0.1]}, "beta_k", -0.5) == pytest.approx(0.5)
    assert np.isfinite(fit["intercept"])
