"""The Arb/mpmath engine skips its per-step divergence checks while a running bound on how far the
exact iterates can have moved (verify.dynamics.divergence.MoveBudget) stays within the divergence
bound: the outcome (status, step, reason, records) is the one of checking every step."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.paper_a.problem import paper_a_problem
from tests.reference import reference_gd
from verify.arith import get_backend
from verify.dynamics import divergence
from verify.dynamics.divergence import MoveBudget
from verify.dynamics.gd import run_gd
from verify.model.network import Dataset, Network, Problem

FIXED = Network(width=2, dim=2, output_weights=(Fraction(3, 2), Fraction(-1)), loss="exponential")
DATA = Dataset.of([[1, 0], [0, 1], ["-1/2", "1/3"]], [1, -1, 1])
PARAMS = st.fractions(-2, 2, max_denominator=20)


def _outcome(traj):
    return traj.status, traj.failed_step, traj.reason, [(r.t, r.pattern) for r in traj.records], traj.phases


def _checked_every_step(problem, theta0, steps, bound, backend="arb"):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(MoveBudget, "advance", lambda self, expo: False)  # the budget spent from the start
        return run_gd(problem, theta0, steps, divergence_bound=bound, backend=backend)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), eta=st.sampled_from(["1/10", "1", "5", "40"]),
       bound=st.sampled_from(["1/2", 1, 2, 10, 1000, 2**100]), loss=st.sampled_from(["exponential", "logistic"]),
       wide=st.booleans())
def test_budget_never_changes_the_outcome(data, eta, bound, loss, wide):
    if wide:
        problem = Problem(Network(FIXED.width, FIXED.dim, FIXED.output_weights, loss), DATA, Fraction(eta))
    else:
        problem = paper_a_problem(eta=Fraction(eta), loss=loss)
    theta0 = data.draw(st.tuples(*[PARAMS] * problem.network.n_params))
    bound = Fraction(bound)
    fast = run_gd(problem, theta0, 60, divergence_bound=bound)
    assert _outcome(fast) == _outcome(_checked_every_step(problem, theta0, 60, bound))


HALF = (Fraction(1, 2), Fraction(0), Fraction(-1), Fraction(0))
THIRD = (Fraction(-1, 2), Fraction(1), Fraction(1), Fraction(1, 3))
WIDE0 = (Fraction(1, 3), Fraction(-1, 2), Fraction(1, 5), Fraction(2, 3), Fraction(-1, 4), Fraction(1, 7))
DIVERGENT = [  # (problem, theta0, bound, step, reason)
    pytest.param(paper_a_problem(eta=5), HALF, 2, 12, "w1 moved farther than 2**1", id="paper-a-param-12"),
    pytest.param(paper_a_problem(eta=5), THIRD, 2, 0, "the loss is certified > 2**1", id="paper-a-loss-0"),
    pytest.param(paper_a_problem(eta=5), THIRD, 10, 1, "w1 moved farther than 10", id="paper-a-param-1"),
    pytest.param(Problem(FIXED, DATA, Fraction(5)), WIDE0, 10, 2, "w1_2 moved farther than 10", id="wide-param-2"),
]


@pytest.mark.parametrize("backend", ["arb", "mpmath"])
@pytest.mark.parametrize("problem, theta0, bound, step, reason", DIVERGENT)
def test_budget_and_every_step_agree_on_divergent_runs(backend, problem, theta0, bound, step, reason):
    fast = run_gd(problem, theta0, 60, divergence_bound=bound, backend=backend)
    assert (fast.status, fast.failed_step) == ("diverged", step) and reason in fast.reason
    assert _outcome(fast) == _outcome(_checked_every_step(problem, theta0, 60, bound, backend))


def test_the_budget_bounds_the_exact_distance_travelled():
    """``D_t >= max_k |theta_t[k] - theta_0[k]|`` on the exact iterates of the independent reference."""
    problem = Problem(FIXED, DATA, Fraction(1, 2))
    theta0 = WIDE0
    be = get_backend("arb", 128)
    budget = MoveBudget(problem, be, Fraction(2**100))
    from verify.dynamics.compile import compile_step
    from verify.dynamics.gd import exact_preactivations

    step = compile_step(problem, be)
    signs = [[(z > 0) - (z < 0) for z in row] for row in exact_preactivations(problem, theta0)]
    with be.working_precision():
        P, frozen = [be.exact(q) for q in theta0], [True, True]
        for t in range(12):
            P, _, _, expo = step(P, frozen, signs, t)
            assert budget.advance(expo)
            exact = reference_gd(problem, theta0, t + 1)
            assert max(abs(a - b) for a, b in zip(exact, theta0, strict=True)) <= Fraction(budget.D)
            assert all(be.contains(v, q) for v, q in zip(P, exact, strict=True))


def test_a_trained_output_layer_has_no_budget():
    problem = Problem(Network(2, 2, None, "exponential"), DATA, Fraction(1))
    budget = MoveBudget(problem, get_backend("arb", 128), Fraction(2**100))
    assert not budget.live and not budget.advance([])
    assert divergence.DEFAULT_DIVERGENCE_BOUND == 2**100
