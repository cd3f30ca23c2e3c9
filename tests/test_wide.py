"""The matrix engine on wide networks: containment, escalation, engine choice, environment checks.

What this file pins down:

* certified GD in float64 interval matrices and in Arb (``run_matrix``, ``run_gd``) contains an
  independent 600-bit computation (``tests/reference.py``) on random wide networks with clustered
  data, both losses, trained and fixed output layers, several inits stacked in one product, and
  near-kink inits (a lane that cannot decide a sign stops, names the neuron and point, and Arb
  takes it over); the certified patterns are the reference's;
* the products' a-priori rounding-error term is needed: without it the loss enclosure misses the
  reference on a shape whose pre-activations cancel over 1,024 inputs (a mutation caught here);
* ``run_gd`` runs at sizes the straight-line compiler cannot (no ``RecursionError`` at m = 32,
  d = 128, n = 128), and wide records hold packed arrays, not a Python object per parameter;
* one engine choice: the reason is recorded, float64 failures escalate to Arb with their reason,
  sweeps on the matrix engine do not depend on the number of workers;
* a process with flush-to-zero / denormals-are-zero or a non-default rounding mode (set through
  the MXCSR register in a subprocess, x86-64 only) refuses float64 and escalates to Arb; a libm
  beyond its assumed error is refused; a run too large for memory says so before starting;
* compact datasets are exact; certified evaluation of given parameters decides every sign of
  exact parameters and contains the exact outputs of enclosed ones.
"""

from __future__ import annotations

import pickle
import platform
import subprocess
import sys
import textwrap
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.reference import reference_gd, reference_patterns
from verify.arith import fenv, midrad
from verify.arith.arrays import get_arithmetic
from verify.dynamics.engines import certified_gd, choose
from verify.dynamics.gd import run_gd
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.step import data_matrix
from verify.dynamics.sweep import SweepSpec, sweep
from verify.dynamics.wide import AMBIGUOUS, TooLarge, run_matrix
from verify.model.evaluate import UNDECIDED, evaluate
from verify.model.network import Dataset, Network, Problem

ENDS = RecordSchedule(per_decade=0)


def clustered(m: int, d: int, n: int, seed: int, loss: str = "exponential", trains: bool = True,
              rational: bool = False, eta: str = "1/4") -> tuple[Problem, np.ndarray]:
    """Paper B's kind of problem: k = 4 clusters (means of norm about sqrt(d)), labels +-1 by
    cluster, small noise; a small random init (exact doubles)."""
    rng = np.random.default_rng(seed)
    k = 4
    signs = rng.choice([-1, 1], size=(k, d))
    cluster = rng.integers(0, k, n)
    noise = 0.2 * rng.normal(size=(n, d))
    y = np.where(cluster % 2 == 0, 1, -1)
    if rational:  # means 1/3 * signs: not doubles
        data = Dataset.clustered([[Fraction(int(s), 3) for s in row] for row in signs], cluster, noise, y)
    else:
        data = Dataset.from_arrays(signs[cluster] + noise, y)
    out = None if trains else tuple(Fraction(int(s), 2) for s in rng.choice([-1, 1], m))
    problem = Problem(Network(m, d, out, loss), data, eta)
    W = rng.normal(size=(m, d)) / np.sqrt(d)
    b = 0.1 * rng.normal(size=(m, 1))
    theta = np.hstack([W, b]).ravel()
    if trains:
        theta = np.concatenate([theta, rng.choice([-1.0, 1.0], m) / np.sqrt(m)])
    return problem, theta


def contains(bounds: tuple[np.ndarray, np.ndarray], exact: list[Fraction]) -> list[int]:
    """Indices of the exact values outside ``[lo, hi]``."""
    lo, hi = bounds
    return [q for q, v in enumerate(exact) if not Fraction(lo[q]) <= v <= Fraction(hi[q])]


# --- containment ---------------------------------------------------------------------------------
@given(seed=st.integers(0, 2**16), loss=st.sampled_from(["exponential", "logistic"]), trains=st.booleans(),
       rational=st.booleans())
@pytest.mark.parametrize("arith", ["f64", "arb"])
def test_matrix_engine_contains_reference(arith, seed, loss, trains, rational):
    problem, theta = clustered(5, 12, 16, seed, loss, trains, rational)
    steps = 25
    run = run_matrix(problem, theta[None], steps, get_arithmetic(arith, 128), schedule=ENDS)
    lane = run.lanes[0]
    assert lane.completed, lane.reason  # far from every kink at this init scale
    assert contains(lane.records[-1].params.bounds(), reference_gd(problem, list(theta), steps)) == []
    patterns = reference_patterns(problem, list(theta), steps)
    changes = [t for t in range(steps + 1) if t == 0 or patterns[t] != patterns[t - 1]]
    assert [t for t, _ in lane.phases] == changes
    assert all(str(pattern) == patterns[t] for t, pattern in lane.phases)


def test_stacked_lanes_each_contain_reference_and_match_single_runs():
    problem, theta = clustered(4, 10, 12, 3, trains=True)
    rng = np.random.default_rng(1)
    inits = np.stack([theta, theta * 0.5, theta + 0.01 * rng.normal(size=theta.size)])
    ar = get_arithmetic("f64")
    stacked = run_matrix(problem, inits, 20, ar, schedule=ENDS)
    for k in range(3):
        single = run_matrix(problem, inits[k][None], 20, ar, schedule=ENDS)
        assert stacked.lanes[k].completed and single.lanes[0].completed
        assert stacked.lanes[k].phases == single.lanes[0].phases
        ref = reference_gd(problem, list(inits[k]), 20)
        assert contains(stacked.lanes[k].records[-1].params.bounds(), ref) == []


def test_loss_records_contain_reference_loss():
    import mpmath

    problem, theta = clustered(3, 6, 10, 5, loss="logistic")
    traj = run_matrix(problem, theta[None], 0, get_arithmetic("f64")).trajectory(0)
    ctx = mpmath.MPContext()
    ctx.prec = 400
    net, data = problem.network, problem.data
    th = [ctx.mpf(float(v)) for v in theta]
    d = net.dim
    total = 0
    for i in range(data.n):
        x = [ctx.mpf(float(v)) for v in data.point(i)]
        N = sum(th[net.width * (d + 1) + j] * max(ctx.fsum(th[j * (d + 1) + k] * x[k] for k in range(d))
                                                   + th[j * (d + 1) + d], 0) for j in range(net.width))
        total += ctx.log1p(ctx.exp(-data.y[i] * N))
    loss = Fraction(*mpmath.libmp.to_rational((total / data.n)._mpf_))
    assert traj.loss(traj.final).contains(loss)


# --- near kinks ---------------------------------------------------------------------------------
@given(eps_exp=st.integers(20, 60), sign=st.sampled_from([1, -1]), seed=st.integers(0, 2**10))
def test_near_kink_lanes_stop_or_contain_and_arb_takes_over(eps_exp, sign, seed):
    """Neuron 1's pre-activation at x_1 is +-2^-e at the init (e in 20..60): float64 either
    certifies it (containment and the reference's patterns) or stops, naming neuron 1 at x_1 or
    a later undecided sign; Arb then certifies the run or doubles its precision."""
    problem, theta = clustered(3, 8, 10, seed, trains=False)
    d = problem.network.dim
    x1 = problem.data.point(0)
    w = [Fraction(v) for v in theta[:d]]
    exact = [Fraction(v) for v in theta]
    exact[d] = -sum(wk * xk for wk, xk in zip(w, x1, strict=True)) + sign * Fraction(1, 2**eps_exp)
    steps = 12
    traj = certified_gd(problem, exact, steps, schedule=ENDS, max_prec=512)
    patterns = reference_patterns(problem, exact, steps)
    if traj.engine == "matrix-f64":
        assert traj.certified
    else:
        assert traj.engine == "arb" and "undecided" in traj.escalated
    if traj.certified:
        assert all(str(p) == patterns[t] for t, p in traj.phases)
        lo, hi = traj.final.params.bounds()
        assert contains((lo, hi), reference_gd(problem, exact, steps)) == []


def test_exact_zero_preactivation_of_a_live_neuron_is_inactive_at_step_0():
    problem, theta = clustered(3, 8, 10, 2, trains=False)
    d = problem.network.dim
    exact = [Fraction(v) for v in theta]
    exact[d] = -sum(Fraction(v) * xk for v, xk in zip(theta[:d], problem.data.point(0), strict=True))  # z_11 = 0
    run = run_matrix(problem, [exact], 0, get_arithmetic("f64"))
    assert run.lanes[0].completed and str(run.lanes[0].phases[0][1])[0] == "0"


# --- the rounding-error term is needed ------------------------------------------------------------
def cancelling_problem() -> tuple[Problem, np.ndarray]:
    """Inputs ``x = (v, v)`` with ``v > 0`` in R^512, neurons ``w = (u, -u + delta)``: each
    pre-activation sums 1,024 terms of size about 1 to a value of about 0.1, so its rounding error
    is hundreds of ulps of the result (and the exponential's widening does not cover it)."""
    rng = np.random.default_rng(11)
    half, n, m = 512, 8, 2
    V = 0.5 + rng.random((n, half))
    X = np.hstack([V, V])
    U = 0.5 + rng.random((m, half))
    delta = 2.0**-9 * rng.random((m, half))
    W = np.hstack([U, -U + delta])
    theta = np.concatenate([np.hstack([W, np.full((m, 1), 0.25)]).ravel(), [1.0, 1.0]])
    return Problem(Network(m, 2 * half, None), Dataset.from_arrays(X, [1, -1] * (n // 2)), "1/8"), theta


def _loss_and_params_missed(problem, theta) -> int:
    import mpmath

    traj = run_matrix(problem, theta[None], 1, get_arithmetic("f64"), schedule=ENDS).trajectory(0)
    assert traj.certified
    ctx = mpmath.MPContext()
    ctx.prec = 300
    net, data, d = problem.network, problem.data, problem.network.dim
    th = [ctx.mpf(float(v)) for v in theta]
    total = 0
    for i in range(data.n):
        x = [ctx.mpf(float(v)) for v in data.point(i)]
        N = sum(th[net.width * (d + 1) + j] * max(ctx.fsum(th[j * (d + 1) + k] * x[k] for k in range(d))
                                                   + th[j * (d + 1) + d], 0) for j in range(net.width))
        total += ctx.exp(-data.y[i] * N)
    loss0 = Fraction(*mpmath.libmp.to_rational((total / data.n)._mpf_))
    missed = 0 if traj.loss(traj.records[0]).contains(loss0) else 1
    return missed + len(contains(traj.final.params.bounds(), reference_gd(problem, list(theta), 1)))


def test_products_without_their_rounding_error_term_are_caught(monkeypatch):
    problem, theta = cancelling_problem()
    assert _loss_and_params_missed(problem, theta) == 0
    monkeypatch.setattr(midrad, "gamma", lambda k, bits=53: 0.0)
    assert _loss_and_params_missed(problem, theta) > 0, "dropping gamma_k went unnoticed"


# --- sizes, records, engines ----------------------------------------------------------------------
def test_run_gd_runs_where_the_compiled_step_cannot():
    problem, theta = clustered(32, 128, 128, 0)
    # this run's loss is about 3.6e72 at step 2: certified divergent under the default bound 2**100,
    # which this test (about packed records of a size the compiled step cannot run) does not need
    assert run_gd(problem, theta, 2, prec=128, schedule=ENDS).status == "diverged"
    traj = run_gd(problem, theta, 2, prec=128, schedule=ENDS, divergence_bound=None)
    assert traj.certified and traj.engine is None
    rec = traj.final
    assert rec.params is not None and rec._theta is None  # packed arrays, nothing per parameter
    lo, hi = rec.params.bounds()
    assert lo.shape == (problem.network.n_params,) and (hi - lo).max() < 1e-12  # one double ulp or so
    Theta, A = rec.params.arrays()  # the balls themselves, at 128 bits
    assert max(float(x.rad()) for x in Theta.reshape(-1)) < 1e-30


def test_wide_records_are_packed_and_read_back():
    problem, theta = clustered(8, 600, 30, 1, eta="1/1024")  # 4,816 parameters: records where scheduled
    traj = certified_gd(problem, theta, 10, schedule=RecordSchedule(stride=5, per_decade=0))
    assert traj.engine == "matrix-f64" and traj.engine_reason and "BLAS" in traj.engine_reason
    assert [r.t for r in traj.records] == [0, 5, 10]
    Theta, A = traj.final.params.arrays()
    assert Theta.mid.shape == (8, 601) and A.mid.shape == (8,)
    named = traj.enclosures(traj.final)
    assert list(named)[:2] == ["w1_1", "w1_2"] and len(named) == problem.network.n_params
    lo, hi = traj.final.params.bounds()
    assert all(named[name].lower >= Fraction(lo[q]) for q, name in enumerate(list(named)[:5]))


def test_engine_choice_and_reason():
    from proofs.paper_a.problem import paper_a_problem

    assert choose(paper_a_problem()).engine == "batch"
    wide, _ = clustered(8, 16, 32, 0)
    choice = choose(wide)
    assert choice.engine == "matrix" and "4352 terms" in choice.reason
    assert choose(wide, "arb").reason.startswith("requested")


def test_float64_failure_escalates_to_arb_with_its_reason():
    problem, theta = clustered(4, 10, 12, 0)
    traj = certified_gd(problem, theta, 20, width_limit=1e-300, schedule=ENDS)
    assert traj.certified and traj.engine == "arb"
    assert "wider than the width limit" in traj.escalated
    ref = reference_gd(problem, list(theta), 20)
    assert contains(traj.final.params.bounds(), ref) == []


def _final_bounds(index, traj, lane):
    lo, hi = traj.final.params.bounds() if traj.final.params is not None else (None, None)
    return lane.engine, lane.chosen, lo.tolist(), hi.tolist()


def test_matrix_sweep_does_not_depend_on_workers():
    problem, theta = clustered(4, 10, 12, 0)
    rng = np.random.default_rng(5)
    inits = [tuple(Fraction(v) for v in theta + 0.01 * rng.normal(size=theta.size)) for _ in range(5)]
    spec = SweepSpec(problem, 15, engine="matrix", schedule=ENDS)
    one = sweep(spec, inits, _final_bounds, workers=1)
    two = sweep(spec, inits, _final_bounds, workers=2)
    assert one.values == two.values and one.lanes == two.lanes
    assert {lane.engine for lane in one.lanes} == {"matrix-f64"}
    assert all("requested" in lane.chosen for lane in one.lanes)


def test_too_large_says_so_before_starting():
    """5 million parameters recorded at each of 1,001 steps in Arb balls: hundreds of GiB."""
    problem = Problem(Network(5000, 1000, None), Dataset.from_arrays(np.ones((10, 1000)), [1] * 10), 1)
    with pytest.raises(TooLarge, match="GiB"):
        run_matrix(problem, np.zeros((1, problem.network.n_params)), 1000, get_arithmetic("arb"),
                   schedule=RecordSchedule(stride=1, per_decade=0))


# --- the floating-point environment ---------------------------------------------------------------
X86 = platform.machine() in ("x86_64", "AMD64")
MXCSR = textwrap.dedent("""
    import ctypes, struct, sys
    libm = ctypes.CDLL("libm.so.6")
    env = ctypes.create_string_buffer(32)  # glibc's fenv_t on x86-64: the MXCSR is its last word
    assert libm.fegetenv(env) == 0
    mxcsr = struct.unpack_from("<I", env.raw, 28)[0]
    struct.pack_into("<I", env, 28, mxcsr | int(sys.argv[1], 16))
    assert libm.fesetenv(env) == 0
""")


def _in_subprocess(flags: str, body: str) -> str:
    code = MXCSR + textwrap.dedent(body)
    out = subprocess.run([sys.executable, "-c", code, flags], capture_output=True, text=True, timeout=600,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.skipif(not X86 or sys.platform != "linux", reason="sets the x86-64 MXCSR through glibc")
@pytest.mark.parametrize(("flags", "words"), [("8000", "flush-to-zero"), ("0040", "denormals-are-zero"),
                                              ("2000", "round-to-nearest"), ("4000", "round-to-nearest")])
def test_broken_float_environment_is_refused_and_escalated(flags, words):
    """FTZ (bit 15), DAZ (bit 6), rounding down / up (bits 13-14): the probe says which, float64
    refuses, and the issue's example lane goes to Arb instead of a certified loss of [0, 0]."""
    out = _in_subprocess(flags, """
        from verify.arith import fenv
        from verify.dynamics.sweep import SweepSpec, certified_run
        from verify.dynamics.batch import run_batch
        from proofs.paper_a.problem import paper_a_problem
        print("probe:", fenv.float64_environment())
        try:
            run_batch(paper_a_problem(), [("720", "0", "-720", "0")], 3)
            print("run_batch: ran")
        except fenv.UnsafeFloatEnvironment as exc:
            print("run_batch: refused", exc)
        lane, traj = certified_run(SweepSpec(paper_a_problem(), 3), ("720", "0", "-720", "0"))
        print("lane:", lane.engine, lane.escalated)
        print("loss upper > 0:", traj.loss(traj.final).upper > 0)
    """)
    assert words in out.splitlines()[0]
    assert "run_batch: refused" in out
    assert "lane: arb float64 arithmetic refused" in out
    assert "loss upper > 0: True" in out


def test_default_environment_passes_the_probes():
    assert fenv.float64_environment() is None
    assert fenv.libm_accuracy() is None


def test_inaccurate_exp_is_refused(monkeypatch):
    """A library exp off by 8 ulps (beyond the assumed 4) fails the accuracy probe."""
    real = np.exp
    monkeypatch.setattr(fenv.np, "exp", lambda x: real(x) * (1 + 8 * 2.0**-52))
    reason = fenv.libm_accuracy.__wrapped__()
    assert reason is not None and "numpy.exp" in reason and "ulps" in reason


# --- data and evaluation --------------------------------------------------------------------------
def test_clustered_dataset_is_exact_compact_and_enclosed():
    means = [[Fraction(1, 3), Fraction(-2, 7)], [Fraction(5), Fraction(0)]]
    noise = np.array([[0.1, 0.2], [0.0, -0.5], [1e-300, 3.0]])
    data = Dataset.clustered(means, [0, 1, 0], noise, [1, -1, 1])
    assert data.point(0) == (Fraction(1, 3) + Fraction(0.1), Fraction(-2, 7) + Fraction(0.2))
    assert data.X[2][0] == Fraction(1, 3) + Fraction(1e-300)
    assert pickle.loads(pickle.dumps(data)) == data and hash(pickle.loads(pickle.dumps(data))) == hash(data)
    ar = get_arithmetic("f64")
    X1 = data_matrix(ar, data)
    lo, hi = ar.bounds(X1)
    for i in range(3):
        for k, q in enumerate((*data.point(i), Fraction(1))):
            assert Fraction(lo[i, k]) <= q <= Fraction(hi[i, k])
    assert Dataset.of([[1, "1/3"]], [1]).X == ((Fraction(1), Fraction(1, 3)),)


def test_evaluate_exact_parameters_decides_every_sign():
    problem, theta = clustered(6, 20, 40, 4)
    d = problem.network.dim
    exact = [Fraction(v) for v in theta]
    exact[d] = -sum(Fraction(v) * xk for v, xk in zip(theta[:d], problem.data.point(3), strict=True))  # z_{4,1} = 0
    ev = evaluate(problem.network, exact, problem.data)
    assert ev.decided and ev.exact_fallback >= 1
    assert ev.preactivation_sign[3, 0] == 0 and ev.inactive[3, 0]
    for i in (0, 3, 7):
        x = problem.data.point(i)
        for j in range(problem.network.width):
            z = sum((exact[j * (d + 1) + k] * x[k] for k in range(d)), exact[j * (d + 1) + d])
            assert ev.preactivation_sign[i, j] == (z > 0) - (z < 0)


def test_evaluate_enclosed_parameters_contains_exact_outputs():
    problem, theta = clustered(4, 10, 12, 6)
    traj = certified_gd(problem, theta, 15, schedule=ENDS)
    ref = reference_gd(problem, list(theta), 15)
    test_points = np.random.default_rng(2).normal(size=(25, 10))
    ev = evaluate(problem.network, traj.final.params, test_points)
    lo, hi = ev.output_bounds()
    net, d = problem.network, problem.network.dim
    for i in range(25):
        x = [Fraction(v) for v in test_points[i]]
        N = sum(ref[net.width * (d + 1) + j] * max(sum((ref[j * (d + 1) + k] * x[k] for k in range(d)),
                                                       ref[j * (d + 1) + d]), 0) for j in range(net.width))
        assert Fraction(lo[i]) <= N <= Fraction(hi[i])
        assert ev.output_sign[i] == UNDECIDED or ev.output_sign[i] == (N > 0) - (N < 0)
    assert (ev.output_sign != UNDECIDED).mean() > 0.9


def test_undecidable_sign_stops_the_lane_and_names_neuron_and_point():
    """Neuron 1 is active only at x_2, and <x_2, x_1> + 1 = 0: its pre-activation at x_1 stays
    exactly -2^-200 while it is inactive there, which no enclosure of the moved parameters can
    certify: float64 stops at step 1, naming the place, and so does Arb at every precision tried."""
    problem = Problem(Network(2, 2, (Fraction(1), Fraction(-1))),
                      Dataset.of([[1, 0], [-1, 5], [-2, -3]], [1, -1, 1]), "1/10")
    eps = Fraction(1, 2**200)
    theta = [Fraction(1), Fraction(1), -1 - eps, Fraction(-1), Fraction(1), Fraction(0)]
    run = run_matrix(problem, [theta], 5, get_arithmetic("f64"))
    lane = run.lanes[0]
    assert lane.status == AMBIGUOUS and lane.fail_step == 1
    assert "neuron 1 at x_1" in lane.reason and "f64" in lane.reason
    assert str(lane.phases[0][1]) == "010010"
    traj = run_gd(problem, theta, 5, prec=64, max_prec=128, kernel="matrix")
    assert not traj.certified and traj.failed_step == 1 and traj.precisions_tried == (64, 128)
    assert "neuron 1 at x_1" in traj.reason
