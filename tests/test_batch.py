"""The float64 batch backend: every lane it certifies contains the exact iterate (the Arb engine's
enclosure and an independent 600-bit computation), its patterns and records are the engine's,
lanes it cannot certify (near kinks, overflow, too wide, too many phases) stop and escalate
instead of guessing, sweeps do not depend on the number of workers, and a kernel compiled
against unsound arithmetic is caught by the same containment checks."""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import verify.dynamics.batch as batch_mod
from proofs.paper_a.problem import paper_a_problem
from tests.reference import reference_gd
from verify.dynamics import batch_codegen, batch_layout
from verify.dynamics.batch import ENGINE, run_batch
from verify.dynamics.gd import run_gd
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.sweep import SweepSpec, certified_run, sweep
from verify.errors import InvalidArgument
from verify.init.schemes import SCHEMES, sample_array, sample_init, sample_inits
from verify.model.network import Dataset, Network, Problem

PAPER_A = paper_a_problem()
KERNELS = ["unrolled", "loops"]  # every shape works with both; "auto" picks by size
NET = PAPER_A.network
coord = st.fractions(min_value=-3, max_value=3, max_denominator=1000)
scheme_inits = st.builds(lambda s, seed, i: sample_init(NET, s, seed, i),
                         st.sampled_from(SCHEMES), st.integers(0, 2**16), st.integers(0, 1000))
tiny = st.integers(1, 2**12).map(lambda k: Fraction(k, 2**60))
# neuron 1 sits just below its kink at x2: z12 = b1 - w1 = -eps stays exactly -eps while it is
# inactive there; neuron 2 (zero bias, w2 < 0) is far from its kinks
near_kink = st.builds(lambda w1, eps, w2: (w1, w1 - eps, w2, Fraction(0)),
                      st.fractions(1, 3, max_denominator=64), tiny, st.fractions(-3, "-1/64", max_denominator=64))
inits = st.one_of(scheme_inits, st.tuples(coord, coord, coord, coord), near_kink)


def _contains(be, enclosure, exact: Fraction) -> bool:
    return be.lower(enclosure) <= exact <= be.upper(enclosure)


def assert_lane_matches_engine(problem, batch, k, steps):
    """Lane ``k`` certified: same phases and recorded steps as Arb, and every record overlaps
    Arb's and contains its centre."""
    traj = batch.trajectory(k)
    ref = run_gd(problem, batch.init(k), steps, prec=128, max_prec=1024)
    assert ref.certified, f"the batch certified a lane Arb cannot: {ref.reason}"
    assert traj.phases == ref.phases
    assert [r.t for r in traj.records] == [r.t for r in ref.records]
    assert [r.pattern for r in traj.records] == [r.pattern for r in ref.records]
    be, rb = traj.backend, ref.backend
    for mine, theirs in zip(traj.records, ref.records, strict=True):
        for x, y in [*zip(mine.theta, theirs.theta, strict=True), (mine.loss, theirs.loss)]:
            assert _contains(be, x, rb.mid(y)), f"t={mine.t}: {x} misses {rb.mid(y)}"
            assert be.lower(x) <= rb.upper(y) and rb.lower(y) <= be.upper(x)


@given(theta0=inits, steps=st.integers(0, 1500))
@example(theta0=(Fraction(0), Fraction(0), Fraction(-2, 5), Fraction(0)), steps=50)  # exact zero: frozen neuron
@example(theta0=(Fraction(1, 3), Fraction(-1, 3), Fraction(-2, 5), Fraction(0)), steps=50)  # not a double
@pytest.mark.parametrize("kernel", KERNELS)
def test_certified_lanes_contain_the_arb_enclosures(kernel, theta0, steps):
    batch = run_batch(PAPER_A, [theta0], steps, kernel=kernel)
    if batch.completed(0):
        assert_lane_matches_engine(PAPER_A, batch, 0, steps)
    else:  # it stopped: the steps before its failure step were certified and recorded
        assert 0 <= batch.fail_step[0] <= steps and batch.escalation_reason(0)


@pytest.mark.parametrize("kernel", KERNELS)
def test_many_lanes_at_once_contain_reference(kernel):
    """One batch of 64 lanes (two schemes, across block boundaries) against the 600-bit reference."""
    thetas = sample_inits(NET, "he", 3, 40) + sample_inits(NET, "pytorch", 3, 24)
    batch = run_batch(PAPER_A, thetas, 700, schedule=RecordSchedule(per_decade=0), kernel=kernel)
    for k in range(0, len(thetas), 7):
        assert batch.completed(k)
        traj, ref = batch.trajectory(k), reference_gd(PAPER_A, thetas[k], 700)
        assert all(_contains(traj.backend, v, r) for v, r in zip(traj.final.theta, ref, strict=True))


@pytest.mark.parametrize(("width", "dim", "loss"), [(1, 1, "exponential"), (3, 2, "logistic"), (2, 3, "exponential")])
@given(seed=st.integers(0, 2**16))
@pytest.mark.parametrize("kernel", KERNELS)
def test_general_shapes_trained_output_contain_reference(kernel, width, dim, loss, seed):
    """Paper B's kind of network: d inputs, any width, both layers trained, clustered data."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(2, dim))
    X = [means[c] + 0.1 * rng.normal(size=dim) for c in (0, 1, 0)]
    problem = Problem(Network(width=width, dim=dim, output_weights=None, loss=loss), Dataset.of(X, [1, -1, 1]), "1/4")
    thetas = sample_inits(problem.network, "normal", seed, 6)
    batch = run_batch(problem, thetas, 120, kernel=kernel)
    done = [k for k in range(len(thetas)) if batch.completed(k)]
    for k in done:
        assert_lane_matches_engine(problem, batch, k, 120)
    if done:  # and one lane against the independent 600-bit computation
        traj, ref = batch.trajectory(done[0]), reference_gd(problem, thetas[done[0]], 120)
        assert all(_contains(traj.backend, v, r) for v, r in zip(traj.final.theta, ref, strict=True))


@pytest.mark.parametrize("kernel", KERNELS)
def test_rational_data_and_output_weights_enter_as_intervals(kernel):
    """Non-double constants (x = 1/3, a = 2/3, eta = 1/10) are enclosed, never rounded; these
    lanes change pattern over a hundred times (the change log grows)."""
    problem = Problem(Network(width=2, dim=2, output_weights=(Fraction(2, 3), Fraction(-1))),
                      Dataset.of([[1, "1/3"], ["-1/3", 1]], [1, -1]), "1/10")
    thetas = sample_inits(problem.network, "pytorch", 5, 8)
    batch = run_batch(problem, thetas, 300, kernel=kernel)
    assert all(batch.completed(k) for k in range(8))
    assert max(len(batch.phases(k)) for k in range(8)) > 100
    for k in range(8):
        assert_lane_matches_engine(problem, batch, k, 300)


# --- lanes the batch cannot certify ----------------------------------------------------------
@given(theta0=near_kink)
@pytest.mark.parametrize("kernel", KERNELS)
def test_near_kink_lanes_escalate_and_arb_certifies_them(kernel, theta0):
    """z12 = -eps (eps <= 2^-48) is constant while neuron 1 is inactive at x2: float64 loses its
    sign within a few steps and must stop there; Arb at 128 bits keeps it."""
    steps = 60
    batch = run_batch(PAPER_A, [theta0], steps, kernel=kernel)
    ref = run_gd(PAPER_A, theta0, steps)
    # neuron 1 active at x2 at some step: no longer on the kink (assume: most examples must stay on it)
    assume(not any(p[1] == "1" for _, p in ref.phases))
    assert not batch.completed(0)
    assert batch.status[0] == batch_layout.AMBIGUOUS
    assert "undecided" in batch.escalation_reason(0) and "neuron 1 at x_2" in batch.escalation_reason(0)
    lane, traj = certified_run(SweepSpec(PAPER_A, steps), theta0)
    assert lane.engine == "arb" and "undecided" in lane.escalated
    assert traj.certified and traj.phases == ref.phases


def test_exactly_on_the_kink_is_inconclusive_everywhere():
    """theta*: unfrozen pre-activations exactly 0 forever; neither engine can certify step 1."""
    lane, traj = certified_run(SweepSpec(PAPER_A, 5, max_prec=256), ("0.5", "0.5", "-0.5", "0.5"))
    assert lane.engine == "arb" and "at step 1" in lane.escalated
    assert not traj.certified and traj.failed_step == 1


@pytest.mark.parametrize("kernel", KERNELS)
def test_overflow_stops_the_lane(kernel):
    batch = run_batch(PAPER_A, [("-800", "0", "3", "0")], 5, kernel=kernel)
    assert batch.status[0] == batch_layout.NONFINITE and batch.fail_step[0] == 0
    assert "overflowed" in batch.escalation_reason(0)


def test_width_limit_stops_lanes_and_sweep_escalates():
    thetas = sample_inits(NET, "pytorch", 0, 12)
    narrow = run_batch(PAPER_A, thetas, 50, width_limit=1e-300)
    moving = [k for k in range(12) if run_gd(PAPER_A, thetas[k], 1).phases[0][1] != "0000"]
    assert moving and all(narrow.status[k] == batch_layout.TOO_WIDE and narrow.fail_step[k] == 1 for k in moving)
    assert all(narrow.completed(k) for k in range(12) if k not in moving)  # nothing moves: exact points
    spec = SweepSpec(PAPER_A, 400, width_limit=1e-300)
    result = sweep(spec, thetas, _final_phase, workers=1)
    assert all(lane.engine == "arb" and "wider" in lane.escalated for lane in result.lanes if lane.index in moving)
    assert result.values == [run_gd(PAPER_A, th, 400).phases[-1][1] for th in thetas]
    assert result.summary()["escalated"] == len(moving)


def test_networks_too_large_to_unroll_run_on_the_loop_kernels():
    """Two clusters of 15 points in R^2, width 3, both layers trained: 270 terms, beyond unrolling."""
    rng = np.random.default_rng(0)
    means = np.array([[2.0, 0.0], [0.0, 2.0]])
    X = [means[i % 2] + 0.3 * rng.normal(size=2) for i in range(30)]
    big = Problem(Network(width=3, dim=2, output_weights=None), Dataset.of(X, [1, -1] * 15), "1/10")
    assert batch_codegen.unrolled_size(big) > batch_codegen.MAX_UNROLLED_TERMS
    assert not batch_codegen.step_kernels(big).unrolled
    thetas = sample_inits(big.network, "he", 0, 6)
    batch = run_batch(big, thetas, 40)
    done = [k for k in range(6) if batch.completed(k)]
    assert len(done) >= 4  # a lane may leave for Arb (its output weights grow, so its intervals widen)
    assert all(batch.escalation_reason(k) for k in range(6) if k not in done)
    for k in done:
        assert_lane_matches_engine(big, batch, k, 40)


# --- sweeps ----------------------------------------------------------------------------------
def _final_phase(index, traj, lane):
    return traj.phases[-1][1]


def _final_endpoints(index, traj, lane):
    be = traj.backend
    return index, lane.engine, [(str(be.lower(v)), str(be.upper(v))) for v in traj.final.theta]


def test_sweep_results_do_not_depend_on_workers():
    thetas = sample_inits(NET, "he", 11, 30) + [("0.5", "0.5", "-0.5", "0.5")]
    spec = SweepSpec(PAPER_A, 300)
    one = sweep(spec, thetas, _final_endpoints, workers=1)
    two = sweep(spec, thetas, _final_endpoints, workers=2)
    assert one.values == two.values and one.lanes == two.lanes
    assert [lane.index for lane in one.lanes] == list(range(31))
    assert one.summary()["engines"] == {ENGINE: 30, "arb": 1}


@pytest.mark.parametrize("engine", ["arb", "mpmath"])
def test_sweep_on_an_arbitrary_precision_engine(engine):
    thetas = sample_inits(NET, "xavier", 2, 5)
    result = sweep(SweepSpec(PAPER_A, 200, engine=engine), thetas, _final_phase, workers=1)
    assert {lane.engine for lane in result.lanes} == {engine} and not result.summary()["escalated"]
    assert result.values == [run_gd(PAPER_A, th, 200).phases[-1][1] for th in thetas]


# --- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(("call", "field"), [
    (lambda: run_batch(PAPER_A, np.array([[np.nan, 0, 0, 0]]), 5), "inits"),
    (lambda: run_batch(PAPER_A, np.zeros((2, 3)), 5), "inits"),
    (lambda: run_batch(PAPER_A, [("1", "inf", "0", "0")], 5), "inits[0].b1"),
    (lambda: run_batch(PAPER_A, [("1", "0", "0", "0")], -1), "steps"),
    (lambda: run_batch(PAPER_A, [("1", "0", "0", "0")], 5, width_limit=0.0), "width_limit"),
    (lambda: SweepSpec(PAPER_A, 5, engine="gpu"), "backend"),
    (lambda: sweep(SweepSpec(PAPER_A, 5), [("1", "0", "0", "0")], _final_phase, workers=0), "workers"),
])
def test_bad_input_names_its_field(call, field):
    with pytest.raises(InvalidArgument, match="^" + re.escape(field) + "="):
        call()


# --- the containment checks can fail ----------------------------------------------------------
@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_without_outward_rounding_is_caught(monkeypatch, kernel):
    """Mutation: the same kernels compiled against round-to-nearest arithmetic with no widening
    (tests/unsound_f64.py). Their lanes must miss the exact iterate somewhere."""
    sound = batch_codegen.step_kernels(PAPER_A, kernel)
    source = batch_codegen.kernel_source(PAPER_A)[0] if kernel == "unrolled" else batch_codegen.loops_source()
    unsound = batch_codegen._load(source.replace("from verify.arith.f64 import", "from tests.unsound_f64 import"))
    monkeypatch.setattr(batch_mod, "step_kernels", lambda problem, kind: replace(sound, module=unsound))
    thetas = sample_inits(NET, "he", 0, 16)
    batch = run_batch(PAPER_A, thetas, 500, schedule=RecordSchedule(per_decade=0))
    missed = 0
    for k in range(16):
        traj, ref = batch.trajectory(k), run_gd(PAPER_A, thetas[k], 500)
        missed += any(not _contains(traj.backend, x, ref.backend.mid(y))
                      for x, y in zip(traj.final.theta, ref.final.theta, strict=True))
    assert missed > 0, "unsound arithmetic went unnoticed: the containment check cannot fail"


def _run_arrays(run) -> list[np.ndarray]:
    log = run.log
    return [run.status, run.fail_step, run.fail_at, run.rec_P, run.rec_L, log.lane[:log.used], log.t[:log.used],
            log.pat[:log.used], log.P[:, :log.used], log.L[:, :log.used]]


def test_the_compiled_loop_returning_to_python_changes_nothing(monkeypatch):
    """The step loop (batch_kernel.drive) returns to Python when the change log is short of room and
    at each progress step; a run that does so before nearly every step (a log that starts with room
    for one entry, growing by doubling) and reports progress is identical to an undisturbed one."""
    inits = np.array([[float(q) for q in th] for th in sample_inits(NET, "he", 3, 300)])
    steps = 2100
    plain = run_batch(PAPER_A, inits, steps)
    grown: list[int] = []

    class Tiny(batch_mod.ChangeLog):
        def __init__(self, capacity: int, patterns: int, p: int) -> None:
            super().__init__(1, patterns, p)

        def reserve(self, more: int) -> None:
            grown.append(more)
            super().reserve(more)

    monkeypatch.setattr(batch_mod, "ChangeLog", Tiny)
    seen: list[int] = []
    disturbed = run_batch(PAPER_A, inits, steps, progress=seen.append)
    assert len(grown) >= 2 and seen == [0, 1024, 2048]
    assert plain.log.used > len(inits)  # more entries than lanes: the log had to grow past its start
    for a, b in zip(_run_arrays(plain), _run_arrays(disturbed), strict=True):
        assert np.array_equal(a, b)


@pytest.fixture(scope="module", params=["exact", "doubles"])
def mixed_run(request):
    """A run whose lanes end differently: certified (many with pattern changes), certified divergent
    (the loss or the distance from the start beyond 5), and, with exact inits (Fractions), overflowed
    and escalated at a kink; with doubles, the inits as a float64 array."""
    if request.param == "doubles":
        return run_batch(PAPER_A, sample_array(NET, "he", 3, 42), 300, divergence_bound=5)
    thetas = [*sample_inits(NET, "he", 3, 40), ("-800", "0", "3", "0"),
              (Fraction(1, 3), Fraction(1, 3) - Fraction(1, 2**60), Fraction(-1), Fraction(0))]
    return run_batch(PAPER_A, thetas, 300, divergence_bound=5)


@given(chosen=st.sets(st.integers(0, 41)))
def test_a_run_of_some_lanes_reads_as_those_lanes(mixed_run, chosen):
    """``BatchRun.lanes(ids)``: lane j of the result is lane ids[j] of the run, in every reading (status,
    escalation, phases, trajectory, the merged rows a lane checker sees)."""
    from verify.claims.lanes import LaneView

    assert mixed_run.divergent and (mixed_run.status == batch_layout.COMPLETE).any()
    ids = np.array(sorted(chosen), np.int64)
    sub = mixed_run.lanes(ids)
    assert len(sub) == len(ids)
    whole, part = LaneView(mixed_run), LaneView(sub)
    for j, k in enumerate(ids.tolist()):
        assert sub.init(j) == mixed_run.init(k) and sub.status[j] == mixed_run.status[k]
        assert sub.escalation_reason(j) == mixed_run.escalation_reason(k)
        assert sub.phases(j) == mixed_run.phases(k) == part.phases(j)
        a, b = whole.row_start[k], whole.row_start[k + 1]
        c, d = part.row_start[j], part.row_start[j + 1]
        assert np.array_equal(part.t[c:d], whole.t[a:b])
        assert np.array_equal(part.lo[c:d], whole.lo[a:b]) and np.array_equal(part.hi[c:d], whole.hi[a:b])
        assert np.array_equal(part.loss_lo[c:d], whole.loss_lo[a:b])
        if mixed_run.completed(k) or mixed_run.diverged(k):
            mine, theirs = sub.trajectory(j), mixed_run.trajectory(k)
            assert (mine.status, mine.reason) == (theirs.status, theirs.reason)
            assert [(r.t, r.pattern, str(r.theta), str(r.loss)) for r in mine.records] == \
                   [(r.t, r.pattern, str(r.theta), str(r.loss)) for r in theirs.records]
