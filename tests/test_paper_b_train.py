"""Paper B's training runs: exact small inits, enclosures containing the exact GD iterate (against a
600-bit reference), the loss threshold, and runs that stop say where."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.paper_b import train
from proofs.paper_b.data import ClusterModel
from tests.reference import reference_gd


def _data(d=16, k=4, n=12, seed=0):
    model = ClusterModel(d=d, k=k, sigma=Fraction(1, 4), kind="orthogonal", seed=seed)
    return model, train.dataset_of(model.sample(n, seed))


@given(st.integers(1, 6), st.integers(0, 50))
@settings(max_examples=10, deadline=None)
def test_small_init_is_exact_dyadic_and_seeded(width, index):
    _, data = _data()
    net = train.training_problem(data, width, Fraction(4), "exponential").network
    theta = train.small_init(net, Fraction(1, 10), 3, index)
    assert len(theta) == net.n_params and all(type(q) is Fraction for q in theta)
    assert all((q * 2**train.INIT_BITS).denominator == 1 for q in theta)
    assert theta == train.small_init(net, Fraction(1, 10), 3, index)


def test_enclosures_contain_the_exact_iterate():
    _, data = _data(d=8, k=2, n=6)
    runs = train.run_width(data, 3, Fraction(4), "exponential", Fraction(1, 2), 0, 2, 12, per_decade=10)
    for run in runs:
        traj = run.trajectory
        exact = reference_gd(traj.problem, traj.theta0, traj.final.t)
        lo, hi = traj.final.params.bounds()
        assert all(Fraction(a) <= q <= Fraction(b) for a, b, q in zip(lo, hi, exact, strict=True))


def test_threshold_is_conservative():
    assert train.threshold("exponential", 10) == Fraction(1, 10)
    assert train.threshold("logistic", 10) < Fraction(6931471806, 10**11)


def test_runs_reach_the_threshold_and_report_where_they_stop():
    _, data = _data(d=32, k=4, n=16)
    runs = train.run_width(data, 16, Fraction(4), "exponential", Fraction(1, 10), 0, 2, 300, per_decade=20)
    assert any(r.reached is not None for r in runs)
    for r in runs:
        if r.reached is not None:
            rec = next(x for x in r.trajectory.records if x.t == r.reached)
            assert train.loss_upper(r.trajectory, rec) < Fraction(1, 16)
        if r.summary.status != "complete":
            assert r.summary.failed_step is not None and f"at step {r.summary.failed_step}" in r.summary.reason
        assert r.summary.to_dict()["width"] == 16
        assert np.isfinite(float(Fraction(r.summary.final_loss_upper)))
