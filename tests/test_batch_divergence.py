"""The float64 batch lanes honour the divergence bound (issue 14): a lane whose loss or a parameter
crosses it, without overflowing float64, stops ``diverged`` at the step ``run_gd`` on Arb gives, and
reads as a certified trajectory with that status; lanes that never cross it are untouched."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.reference import reference_gd
from tests.test_divergence import DATA, ETA_2, EXP, ISSUE_14
from verify.dynamics.batch import run_batch
from verify.dynamics.engines import certified_gd
from verify.dynamics.gd import run_gd
from verify.model.network import Network, Problem

LOGISTIC = Network(width=2, dim=2, output_weights=None, loss="logistic")


def _agree(problem, theta0, steps, bound):
    """Batch lane 0 and run_gd on Arb: same status, step and reason (the words before " at step")."""
    batch = run_batch(problem, [theta0], steps, divergence_bound=bound)
    arb = run_gd(problem, theta0, steps, divergence_bound=bound)
    return batch, arb


@pytest.mark.parametrize("problem, theta0, bound, text", [pytest.param(*ISSUE_14[:2], 10, "10", id="issue-14"),
                                                         pytest.param(*ETA_2[:2], 2**40, "2**40", id="eta-2")])
def test_loss_beyond_a_small_bound_is_diverged_at_the_arb_step(problem, theta0, bound, text):
    batch, arb = _agree(problem, theta0, 40, bound)
    assert arb.status == "diverged" and f"the loss is certified > {text}" in arb.reason
    assert batch.diverged(0) and not batch.completed(0) and int(batch.fail_step[0]) == arb.failed_step
    traj = batch.trajectory(0)
    assert (traj.status, traj.failed_step, traj.final.t) == ("diverged", arb.failed_step, arb.final.t)
    assert traj.engine == "batch-f64"
    assert traj.reason.startswith(f"the loss is certified > {text} (GD diverges) at step")
    assert (traj.loss(traj.final) > bound).certainly()
    assert traj.phases == arb.phases
    reference = reference_gd(problem, theta0, traj.final.t)  # the exact iterate lies in the last record
    assert all(traj.backend.contains(v, r) for v, r in zip(traj.final.theta, reference, strict=True))
    assert batch.escalation_reason(0).endswith(f"at step {arb.failed_step}")


def test_parameter_beyond_the_bound_is_diverged_at_the_arb_step():
    """The logistic loss at eta = 2 stays below 1 while w2_2 runs away (the case of
    tests/test_divergence.py): the lane stops at the step run_gd names, with the same reason. Its
    last record is that step itself (its forward pass was certified), where run_gd keeps the one before."""
    problem, theta0 = Problem(LOGISTIC, DATA, Fraction(2)), ETA_2[1]
    batch, arb = _agree(problem, theta0, 200, 2)
    assert (arb.status, arb.failed_step) == ("diverged", 21)
    assert batch.diverged(0) and int(batch.fail_step[0]) == 21
    traj = batch.trajectory(0)
    assert (traj.status, traj.failed_step, traj.final.t) == ("diverged", 21, 21)
    assert traj.reason.split(" at step ")[0] == arb.reason.split(" at step ")[0]
    assert "w2_2 moved farther than 2**1" in traj.reason
    assert abs(reference_gd(problem, theta0, 21)[4] - theta0[4]) > 2
    assert traj.records[-2].t <= 20 and traj.loss(traj.final).upper < 1


def test_lanes_below_the_bound_complete_beside_a_divergent_one():
    problem, theta0, _ = ETA_2
    calm = tuple(Fraction(v, 10) for v in (1, 3, -2, 0, 4, -1, 2, -3))
    batch = run_batch(Problem(EXP, DATA, Fraction(1, 100)), [calm, calm], 50, divergence_bound=10)
    assert all(batch.completed(k) and not batch.diverged(k) for k in range(2))
    batch = run_batch(problem, [calm, theta0, calm], 30, divergence_bound=10)
    assert batch.diverged(1) and int(batch.fail_step[1]) == 1
    for k in (0, 2):  # the others are what they are without the divergent lane beside them
        alone = run_batch(problem, [calm], 30, divergence_bound=10)
        assert int(batch.status[k]) == int(alone.status[0]) and int(batch.fail_step[k]) == int(alone.fail_step[0])


def test_no_bound_no_check():
    problem, theta0, _ = ETA_2
    batch = run_batch(problem, [theta0], 1, divergence_bound=None)
    assert batch.completed(0) and batch.trajectory(0).status == "complete"


def test_certified_gd_keeps_a_divergent_batch_lane():
    problem, theta0, step = ETA_2
    traj = certified_gd(problem, theta0, 30, engine="batch", divergence_bound=10)
    assert (traj.engine, traj.status, traj.failed_step, traj.escalated) == ("batch-f64", "diverged", 1, None)


@settings(max_examples=15, deadline=None)
@given(theta0=st.tuples(*[st.fractions(-2, 2, max_denominator=20)] * 8),
       bound=st.sampled_from([3, 10, 100]), eta=st.sampled_from([1, 2]))
def test_divergent_lanes_agree_with_arb(theta0, bound, eta):
    """Wherever a batch lane is certified divergent, run_gd on Arb is divergent at the same step
    with the same reason, and the exact iterate lies in the lane's last record."""
    problem = Problem(EXP, DATA, Fraction(eta))
    batch = run_batch(problem, [theta0], 20, divergence_bound=bound)
    assume(batch.diverged(0))
    arb = run_gd(problem, theta0, 20, divergence_bound=bound)
    assert (arb.status, arb.failed_step) == ("diverged", int(batch.fail_step[0]))
    traj = batch.trajectory(0)
    assert traj.reason.split(" at step ")[0] == arb.reason.split(" at step ")[0]
    reference = reference_gd(problem, theta0, traj.final.t)
    assert all(traj.backend.contains(v, r) for v, r in zip(traj.final.theta, reference, strict=True))


def test_an_init_beyond_the_bound_is_not_divergence():
    """A parameter starting at 5 with the bound 2: far from 0 but not from its init, as run_gd says."""
    problem = Problem(EXP, DATA, Fraction(1, 100))
    theta0 = (Fraction(5), Fraction(3, 10), Fraction(-1, 5), Fraction(0), Fraction(2, 5), Fraction(-1, 10),
              Fraction(1, 5), Fraction(-3, 10))
    batch = run_batch(problem, [theta0], 30, divergence_bound=2)
    assert run_gd(problem, theta0, 30, divergence_bound=2).certified
    assert batch.completed(0) and not batch.diverged(0)
