"""Theorem 2.1 quantities: sound bounds (against exact Fraction evaluation at an exact iterate),
the monotone verdict's three values, and the KKT bound on a run."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from proofs.paper_b import bias, train
from proofs.paper_b.data import ClusterModel
from proofs.paper_b.forward import forward
from verify.arith.arrays import get_arithmetic
from verify.dynamics.records import PackedParams
from verify.dynamics.trajectory import StepRecord


def _problem(width=3):
    model = ClusterModel(d=8, k=2, sigma=Fraction(1, 4), kind="orthogonal", seed=1)
    data = train.dataset_of(model.sample(6, 1))
    return train.training_problem(data, width, Fraction(4), "exponential")


@given(st.integers(0, 200))
@settings(max_examples=8, deadline=None)
def test_step_bias_encloses_the_exact_values(index):
    problem = _problem()
    net, data = problem.network, problem.data
    theta = train.small_init(net, Fraction(1), 0, index)
    m, k = net.width, net.dim + 1
    Theta = np.array([float(q) for q in theta[: m * k]]).reshape(1, m, k)
    A = np.array([float(q) for q in theta[m * k:]]).reshape(1, m)
    ar = get_arithmetic("f64")
    rec = StepRecord(0, PackedParams(ar, ar.take(ar.exact(Theta), 0), ar.take(ar.exact(A), 0)), None, "")
    W = [theta[j * k: j * k + net.dim] for j in range(m)]
    b = [theta[j * k + net.dim] for j in range(m)]
    v = list(theta[m * k:])
    q = [y * forward(W, b, v, x) for x, y in zip(data.X, data.y, strict=True)]
    norm2 = sum(t * t for t in theta)
    try:
        sb = bias.step_bias(problem, rec, Fraction(1), Fraction(1, 2), kkt=False)
    except bias.UndecidableError:
        assume(False)  # a pre-activation within rounding of 0 (never seen on these draws)
    assert sb.norm2_lo <= norm2 <= sb.norm2_hi
    assert sb.qmin_lo <= min(q) <= sb.qmin_hi
    assert sb.margin_lo <= min(q) / norm2 <= sb.margin_hi
    c = [v[j] ** 2 - sum(w * w for w in W[j]) - b[j] ** 2 for j in range(m)]
    assert sb.balance_lo <= max(abs(x) for x in c) / norm2 <= sb.balance_hi


def test_monotone_verdict_three_values():
    up = [(0, Fraction(1), Fraction(2)), (1, Fraction(2), Fraction(3))]
    assert bias.monotone_verdict(up)[0] == "certified"
    assert bias.monotone_verdict(up, increasing=False)[0] == "inconclusive"  # touching ends decide nothing
    up = [(0, Fraction(1), Fraction(2)), (1, Fraction(5, 2), Fraction(3))]
    assert bias.monotone_verdict(up, increasing=False)[0] == "refuted"
    overlap = [(0, Fraction(1), Fraction(2)), (1, Fraction(3, 2), Fraction(3))]
    assert bias.monotone_verdict(overlap)[0] == "inconclusive"


def test_sqrt_up_is_an_upper_bound():
    for q in (Fraction(2), Fraction(1, 3), Fraction(10**20 + 1, 7)):
        r = bias.sqrt_up(q)
        assert r * r >= q


@pytest.fixture(scope="module")
def trained():
    model = ClusterModel(d=16, k=4, sigma=Fraction(1, 4), kind="orthogonal", seed=0)
    data = train.dataset_of(model.sample(12, 0))
    runs = train.run_width(data, 8, Fraction(4), "exponential", Fraction(1, 10), 0, 2, 300, per_decade=20)
    run = next(r for r in runs if r.reached is not None)
    return run, bias.trajectory_bias(run.trajectory, run.reached)


def test_kkt_bound_and_margin_on_a_run(trained):
    run, bs = trained
    assert len(bs) >= 2
    assert bias.monotone_verdict([(b.t, b.margin_lo, b.margin_hi) for b in bs])[0] == "certified"
    kkt = [b for b in bs if b.eps_hi is not None]
    assert len(kkt) >= 2 and all(b.eps_lo is not None and 0 <= b.eps_lo <= b.eps_hi for b in kkt)


def _exact_residual2(problem, theta, lam):
    """||theta - sum_i lam_i grad q_i(theta)||^2 and min_i q_i(theta), exactly (relu'(0) never needed:
    the dual bound is only computed when every pre-activation is certified nonzero)."""
    net, data = problem.network, problem.data
    m, d = net.width, net.dim
    rows = [theta[j * (d + 1): (j + 1) * (d + 1)] for j in range(m)]
    v = theta[m * (d + 1):]
    res_rows = [list(r) for r in rows]
    res_v = list(v)
    q = []
    for x, y, li in zip(data.X, data.y, lam, strict=True):
        x1 = [*x, Fraction(1)]
        pre = [sum((a * b for a, b in zip(r, x1, strict=True)), Fraction(0)) for r in rows]
        assert all(p != 0 for p in pre)
        q.append(y * sum((vj * p for vj, p in zip(v, pre, strict=True) if p > 0), Fraction(0)))
        for j in range(m):
            if pre[j] > 0:
                res_v[j] -= li * y * pre[j]
                res_rows[j] = [r - li * y * v[j] * a for r, a in zip(res_rows[j], x1, strict=True)]
    return sum(r * r for row in res_rows for r in row) + sum(r * r for r in res_v), min(q)


@given(st.data())
@settings(max_examples=6, deadline=None)
def test_dual_bound_is_below_the_residual_of_every_multiplier(trained, data):
    """eps_lo <= ||theta~ - sum_i lambda_i grad q_i(theta~)|| for lambda >= 0 (the nnls multipliers, the
    tightest we know, and random ones), at an exact iterate inside the enclosure."""
    run, bs = trained
    traj = run.trajectory
    b = data.draw(st.sampled_from([b for b in bs if b.eps_lo is not None]))
    rec = next(r for r in traj.records if r.t == b.t)
    lo, _ = rec.params.bounds()
    theta = [Fraction(float(t)) for t in lo]  # an exact member of the enclosure
    problem = traj.problem
    ar = rec.params.ar
    Theta, A = rec.params.arrays()
    X1m = bias._mids(ar, bias.data_matrix(ar, problem.data))
    act = (X1m @ bias._mids(ar, Theta).T) > 0
    y = np.asarray(problem.data.labels, dtype=np.float64)
    nnls = bias.nnls_multipliers(X1m, bias._mids(ar, Theta), bias._mids(ar, A), act, y)
    scale = data.draw(st.floats(0, 2))
    noise = data.draw(st.lists(st.floats(0, 1), min_size=len(y), max_size=len(y)))
    for lam in (nnls, np.maximum(nnls * scale + np.asarray(noise) * float(np.max(nnls)) / 10, 0.0)):
        r2, qmin = _exact_residual2(problem, theta, [Fraction(float(v)) for v in lam])
        assert qmin > 0 and r2 >= b.eps_lo ** 2 * qmin  # ||theta~ - ...||^2 = r2 / qmin


@given(st.fractions(Fraction(1, 1000), Fraction(1, 2)), st.booleans())
@settings(max_examples=20, deadline=None)
def test_log_bounds_enclose_the_smoothed_numerator(x, logistic):
    import mpmath

    lo, hi = bias._log_bounds(x, x + Fraction(1, 10**6), logistic)
    with mpmath.workdps(50):
        f = (lambda a: -mpmath.log(mpmath.expm1(a))) if logistic else (lambda a: -mpmath.log(a))
        v1 = f(mpmath.mpf(x.numerator) / x.denominator)
        v2 = f(mpmath.mpf((x + Fraction(1, 10**6)).numerator) / (x + Fraction(1, 10**6)).denominator)
    assert lo <= Fraction(str(mpmath.nstr(v2, 40))) + Fraction(1, 10**30)
    assert Fraction(str(mpmath.nstr(v1, 40))) - Fraction(1, 10**30) <= hi
