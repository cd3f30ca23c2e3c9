"""Certified divergence (issue 14): a run whose loss explodes ends ``diverged`` at the step where the
loss is certified beyond the bound, on every engine, instead of exhausting memory; astronomically
large endpoints are refused rather than expanded."""

from __future__ import annotations

from fractions import Fraction

import flint
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from proofs.paper_a.problem import paper_a_problem
from tests.reference import ReferenceOverflow, reference_gd
from verify.arith import get_backend
from verify.dynamics.divergence import DEFAULT_DIVERGENCE_BOUND
from verify.dynamics.engines import certified_gd
from verify.dynamics.gd import run_gd
from verify.dynamics.sweep import SweepSpec, certified_run, sweep
from verify.errors import HugeValue, InvalidArgument
from verify.model.network import Dataset, Network, Problem

DATA = Dataset.of([[1, 0], [0, 1], ["-1/2", "1/3"]], [1, -1, 1])
EXP = Network(width=2, dim=2, output_weights=None, loss="exponential")
# the init of issue 14 (found by the dev profile): GD explodes at eta = 1/5
ISSUE_14 = (Problem(EXP, DATA, Fraction(1, 5)),
            tuple(map(Fraction, ["-157/72", "-686/555", "94/145", "-308/129", "249/95", "125/59", "0", "94/145"])), 2)
# a second divergent case: eta = 2, the loss beyond 2**100 after one step
ETA_2 = (Problem(EXP, DATA, Fraction(2)),
         tuple(map(Fraction, ["1/10", "9/5", "-1/5", "0", "11/10", "-3/5", "2", "-17/10"])), 1)
CASES = [pytest.param(*ISSUE_14, id="issue-14"), pytest.param(*ETA_2, id="eta-2")]
ENGINES = ["arb", "mpmath", "batch", "matrix", "auto"]


def _loss_beyond_bound(traj, bound=DEFAULT_DIVERGENCE_BOUND) -> bool:
    """The recorded loss at the divergent step is certainly > bound (decided on the enclosure)."""
    be = traj.backend
    with be.working_precision():
        return be.sign(traj.final.loss - be.exact(Fraction(bound))) == 1


@pytest.mark.parametrize("problem, theta0, step", CASES)
@pytest.mark.parametrize("engine", ENGINES)
def test_divergent_init_is_diverged_at_a_certified_step(problem, theta0, step, engine):
    traj = certified_gd(problem, theta0, 62, engine=engine)
    assert traj.status == "diverged" and traj.diverged and not traj.certified
    assert traj.failed_step == step and traj.steps_done == step
    assert traj.final.t == step and _loss_beyond_bound(traj)
    assert "certified > 2**100" in traj.reason and f"at step {step}" in traj.reason
    # the float64 engines certify it themselves while their enclosures are tight enough (eta = 2);
    # else (issue 14: the intervals blow up first) they hand the run to Arb, saying why
    assert traj.engine in ("arb", "mpmath", "matrix-f64", "batch-f64")
    if engine in ("batch", "auto"):
        assert (traj.engine, traj.escalated is None) in (("arb", False), ("batch-f64", True))
    # the steps before are certified records, and the reference agrees with the divergent step
    reference = reference_gd(problem, theta0, step)
    assert all(traj.backend.contains(v, r) for v, r in zip(traj.final.theta, reference, strict=True))


@pytest.mark.parametrize("problem, theta0, step", CASES)
@pytest.mark.parametrize("engine", ["batch", "matrix", "arb", "mpmath"])
def test_sweep_counts_divergent_lanes_the_same_on_every_engine(problem, theta0, step, engine):
    spec = SweepSpec(problem, 40, engine=engine)
    lane, traj = certified_run(spec, theta0)
    assert (traj.status, traj.failed_step) == ("diverged", step)
    result = sweep(spec, [theta0, theta0], lambda i, t, lane: (t.status, t.failed_step), workers=1)
    assert result.values == [("diverged", step)] * 2


@pytest.mark.parametrize("backend", ["arb", "mpmath"])
def test_matrix_step_diverges_at_the_same_step(backend):
    problem, theta0, step = ISSUE_14
    traj = run_gd(problem, theta0, 62, backend=backend, kernel="matrix")
    assert (traj.status, traj.failed_step, traj.final.t) == ("diverged", step, step)
    assert _loss_beyond_bound(traj)


@pytest.mark.parametrize("kernel", ["compiled", "matrix"])
def test_parameter_beyond_the_bound_is_divergence_too(kernel):
    """A parameter certified to move farther than the bound from its init stops the run as well (here
    a small bound, 2, with the logistic loss at eta = 2, whose loss stays below 1)."""
    problem = Problem(Network(width=2, dim=2, output_weights=None, loss="logistic"), DATA, Fraction(2))
    theta0 = ETA_2[1]
    traj = run_gd(problem, theta0, 200, divergence_bound=2, kernel=kernel)
    assert (traj.status, traj.failed_step) == ("diverged", 21)
    assert "w2_2 moved farther than 2**1 from its init, certified (GD diverges) at step 21" in traj.reason
    assert traj.final.t == traj.steps_done == 20  # the last step whose pattern is certified is kept
    assert abs(reference_gd(problem, theta0, 21)[4] - theta0[4]) > 2  # w2_2: the independent reference agrees
    assert abs(reference_gd(problem, theta0, 20)[4] - theta0[4]) <= 2
    assert traj.loss(traj.final).upper < 1
    assert run_gd(problem, theta0, 20, divergence_bound=2, kernel=kernel).certified


@pytest.mark.parametrize("engine", ENGINES)
def test_a_huge_init_is_not_divergence(engine):
    """Paper A from w1 = 1e400 (issue 13): far beyond the bound, but w1 hardly moves (its gradient is
    about exp(-1e400)). Float64 cannot hold it (escalated); Arb and mpmath complete the run, and the
    astronomically fine enclosures are refused (HugeValue) rather than expanded."""
    problem = paper_a_problem()
    theta0 = (Fraction(10**400), Fraction(0), Fraction(-2, 5), Fraction(0))
    traj = certified_gd(problem, theta0, 30, engine=engine)
    assert traj.certified and traj.engine in ("arb", "mpmath")
    assert traj.enclosures(traj.final)["w2"].contains(Fraction(-2, 5)) is False  # w2 moved
    w1 = traj.enclosures(traj.final)["w1"]
    assert abs(w1.lower - 10**400) + abs(w1.upper - 10**400) < Fraction(10**400, 2**100)


def test_without_a_bound_the_run_completes_and_huge_endpoints_are_refused():
    problem, theta0, step = ISSUE_14
    for backend in ("arb", "mpmath"):  # mpmath's exp is clamped: it neither hangs nor exhausts memory
        traj = run_gd(problem, theta0, 8, backend=backend, divergence_bound=None)
        assert traj.certified
        huge = traj.loss(traj.records[step])  # about 3.4e+111893886684
        assert (huge > 2**100).certainly()
        if backend == "arb":  # a lower bound of bounded size exists; Arb gives it (outward)
            assert huge.lower == 2**4096
        with pytest.raises(HugeValue) as err:  # an upper bound of bounded size does not: refused
            huge.upper  # noqa: B018
        assert "too large to expand" in str(err.value) and err.value.exponent > 10**11 // 4
        assert isinstance(err.value, ArithmeticError)
        assert traj.loss(traj.records[1]).lower > 10**7  # ordinary values still convert
    with pytest.raises(ReferenceOverflow):  # the reference says so too, instead of a MemoryError
        reference_gd(problem, theta0, 5)


@given(st.integers(-(2**17), 2**17))
def test_moderate_endpoints_still_convert_exactly(e):
    be = get_backend("arb", 64)
    x = be.exact(Fraction(3, 1) * Fraction(2) ** e)
    assert be.lower(x) == be.upper(x) == 3 * Fraction(2) ** e


@pytest.mark.parametrize("bad", [0, -1, "-2", "abc", float("nan")])
def test_bad_bound_names_its_field(bad):
    problem, theta0, _ = ETA_2
    with pytest.raises(InvalidArgument, match="divergence_bound"):
        run_gd(problem, theta0, 3, divergence_bound=bad)


@given(theta0=st.tuples(*[st.fractions(-3, 3, max_denominator=100)] * 8), eta=st.sampled_from([1, 2, 5]))
def test_diverged_runs_agree_with_the_reference(theta0, eta):
    """Wherever a run is certified divergent, the independent reference is inside its last record
    (or overflows as well); wherever it completes, the reference does not overflow."""
    problem = Problem(EXP, DATA, Fraction(eta))
    traj = run_gd(problem, theta0, 30)
    assume(traj.status != "inconclusive")
    try:
        reference = reference_gd(problem, theta0, traj.final.t)
    except ReferenceOverflow:
        assert traj.diverged
    else:
        assert all(traj.backend.contains(v, r) for v, r in zip(traj.final.theta, reference, strict=True))
    assert flint.ctx.prec == 53  # the engine restored flint's global precision


def test_claim_results_count_divergent_runs():
    """Paper A at eta = 1e400: every run is certified divergent at step 1; the claim results say so
    (inconclusive outcomes with their reason, and the ``diverged`` count in results.json)."""
    from verify.claims.runner import check_claims
    from verify.papers import find_claim
    from verify.settings import CheckSettings

    settings = CheckSettings(paper="a", eta=Fraction(10**400), steps=20, inits=3)
    claim = find_claim("a", "phase-ordering")
    inits = [(Fraction(1, 2), Fraction(0), Fraction(-1), Fraction(0)), (Fraction(7, 10), Fraction(1, 10),
                                                                         Fraction(-2, 5), Fraction(0))]
    [result] = check_claims([claim], settings, inits, workers=1)
    assert result.diverged == 2 and result.to_dict()["diverged"] == 2
    for o in result.outcomes:
        assert o.outcome.data["gd"] == "diverged" and o.outcome.data["diverged_at"] == 1
        assert "GD diverges" in o.outcome.detail
    assert type(result).from_dict(result.to_dict()).diverged == 2
