"""Certified GD on wide networks: the float64 interval-matrix engine against a plain numpy GD, and
the Arb matrix step against the Arb engine it replaces.

All in one process, on paper-B-like problems (k = 4 clusters whose means have entries +-1, so
norm sqrt(d); noise sigma = 0.5; labels +-1 by cluster; exponential loss; both layers trained;
init W ~ N(0, 0.01/d), b = 0, a = +-0.1/sqrt(m); eta = 1/(4d), for which plain GD decreases the
loss steadily), with the same data, init and steps for every method (the doubles of the numpy
arrays are the exact inputs of the certified runs):

(a) float64 at m = d = n = 256 and at m = 100, d = 2,000, n = 400: plain numpy GD (the baseline:
    what a researcher would write, checked against the certified enclosures first) against the
    matrix engine (``run_matrix`` in float64 midpoint-radius arithmetic); goal >= 0.25x, aim 0.5x;
(b) Arb at 128 bits, m = 16, d = 64, n = 64, 20 steps (as in issue 11's table, compilation included):
    ``run_gd`` on the matrix step against ``run_gd`` on
    the straight-line step of ``verify.dynamics.compile`` (today's Arb engine for every size, kept
    for tiny networks only); goal >= 20x. Then the matrix step at m = 64, d = 1,024, n = 256 (no
    code generation: it runs);
(c) tiny Arb runs, per step: the compiled step against the matrix step (the figures behind
    ``verify.dynamics.gd.COMPILED_MAX_TERMS``);
(d) stacking: 16 inits of m = 16, d = 32, n = 64 stacked in one product against 16 separate runs;
(e) the done criterion: ``certified_gd`` (engine "auto") for ``--train-steps`` (1,000) steps at
    m = 100, d = 2,000, n = 400, with its engine, status and wall time;
(f) many lanes of small networks: the float64 lane loops (``verify.dynamics.batch_loops``) against
    the matrix engine, per lane-step (the figures behind ``verify.dynamics.engines.LOOP_MAX_TERMS``).

Times are medians of ``--repeats`` runs, the methods of a comparison interleaved (the machine is
shared), with one BLAS thread for every method (``OPENBLAS_NUM_THREADS=1`` unless set otherwise).
Peak memory: each (a)/(b) method's peak RSS increase in a fresh spawned child
(``benchmarks/memory.py``). Ratios are printed last.

    python benchmarks/bench_wide.py [--steps 20] [--repeats 5] [--train-steps 1000] [--no-memory]
"""

from __future__ import annotations

import os

# One BLAS thread, for the baseline and the certified engine alike, unless the caller says otherwise:
# on this machine's two shared cores two OpenBLAS threads spin against the other sessions' work, and
# both methods' timings are then dominated by that contention (measured: a plain numpy step at
# m = d = n = 256 takes 27 ms with two threads against 2.2 ms with one). Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics
import time
from collections.abc import Callable
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np
from memory import mib, peak_increase  # benchmarks/memory.py, beside this script

from verify.arith.arrays import get_arithmetic
from verify.dynamics.batch import run_batch
from verify.dynamics.engines import certified_gd
from verify.dynamics.gd import run_gd
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.wide import run_matrix
from verify.model.network import Dataset, Network, Problem

ENDS = RecordSchedule(per_decade=0)
SHAPES = {"256": (256, 256, 256), "wide": (100, 2000, 400)}
ARB_SMALL, ARB_LARGE = (16, 64, 64), (64, 1024, 256)
TINY = [(2, 1, 2), (3, 2, 3), (2, 4, 6), (4, 4, 8)]
STACK = (16, 32, 64, 16)  # m, d, n, inits
LOOP_SHAPES = [(3, 2, 30, 512), (4, 8, 32, 512), (8, 16, 32, 512)]  # a full block of lanes
PREC = 128


def paper_b(m: int, d: int, n: int, seed: int = 0) -> tuple[Problem, np.ndarray, np.ndarray, np.ndarray]:
    """``(problem, X, y, theta0)``: see the module doc."""
    rng = np.random.default_rng(seed)
    means = rng.choice([-1.0, 1.0], size=(4, d))
    cluster = rng.integers(0, 4, n)
    X = means[cluster] + 0.5 * rng.normal(size=(n, d))
    y = np.where(cluster % 2 == 0, 1, -1)
    W = rng.normal(size=(m, d)) * 0.1 / np.sqrt(d)
    a = rng.choice([-1.0, 1.0], m) * 0.1 / np.sqrt(m)
    theta = np.concatenate([np.hstack([W, np.zeros((m, 1))]).ravel(), a])
    problem = Problem(Network(m, d, None, "exponential"), Dataset.from_arrays(X, y), Fraction(1, 4 * d))
    return problem, X, y.astype(float), theta


def numpy_gd(X: np.ndarray, y: np.ndarray, theta: np.ndarray, m: int, eta: float, steps: int) -> np.ndarray:
    """Plain float64 GD on ``N(x) = sum_j a_j relu(<w_j, x> + b_j)``, exponential loss, relu'(0) = 0."""
    n, d = X.shape
    W = theta[: m * (d + 1)].reshape(m, d + 1)[:, :d].copy()
    b = theta[: m * (d + 1)].reshape(m, d + 1)[:, d].copy()
    a = theta[m * (d + 1):].copy()
    for _ in range(steps):
        Z = X @ W.T + b
        act = Z > 0
        H = np.where(act, Z, 0.0)
        g = y * np.exp(-y * (H @ a)) * (eta / n)  # -eta dL/dN
        D = act * g[:, None]
        gW, gb, ga = D.T @ X, D.sum(axis=0), H.T @ g
        W += a[:, None] * gW
        b += a * gb
        a = a + ga
    return np.concatenate([np.hstack([W, b[:, None]]).ravel(), a])


# --- the calls measured (also built in spawned children for the memory figures) ------------------
def make_call(method: str, key: str, steps: int) -> Callable[[], Any]:
    """A zero-argument call running ``method`` once on shape ``key``, prepared and warmed up."""
    if key in SHAPES:
        m, d, n = SHAPES[key]
    else:
        m, d, n = ARB_SMALL if key == "arb-small" else ARB_LARGE
    problem, X, y, theta = paper_b(m, d, n)
    if method == "numpy":
        numpy_gd(X, y, theta, m, float(problem.eta), 1)
        return lambda: numpy_gd(X, y, theta, m, float(problem.eta), steps)
    if method == "f64":
        ar = get_arithmetic("f64")
        run_matrix(problem, theta[None], 1, ar, schedule=ENDS)
        return lambda: run_matrix(problem, theta[None], steps, ar, schedule=ENDS)
    kernel = "compiled" if method == "arb-compiled" else "matrix"
    run_gd(problem, theta, 0, prec=PREC, max_prec=PREC, schedule=ENDS, kernel=kernel)
    return lambda: run_gd(problem, theta, steps, prec=PREC, max_prec=PREC, schedule=ENDS, kernel=kernel)


def tiny_calls(m: int, d: int, n: int, steps: int) -> dict[str, Callable[[], Any]]:
    """Arb runs of a tiny network on the compiled step and on the matrix step (warmed up)."""
    problem, _, _, theta = paper_b(m, d, n)
    calls = {k: partial(run_gd, problem, theta, steps, prec=PREC, max_prec=PREC, schedule=ENDS, kernel=k)
             for k in ("compiled", "matrix")}
    for call in calls.values():
        call()
    return calls


def lane_calls(m: int, d: int, n: int, lanes: int, steps: int) -> dict[str, Callable[[], Any]]:
    """``lanes`` inits on the float64 lane loops and on the matrix engine (warmed up)."""
    problem, _, _, theta = paper_b(m, d, n)
    inits = theta[None] * (1 + 0.01 * np.random.default_rng(1).normal(size=(lanes, theta.size)))
    run_batch(problem, inits[:1], 1, kernel="loops")
    run_matrix(problem, inits[:1], 1, get_arithmetic("f64"))
    return {"loops": partial(run_batch, problem, inits, steps, schedule=ENDS, kernel="loops"),
            "matrix": partial(run_matrix, problem, inits, steps, get_arithmetic("f64"), schedule=ENDS)}


def interleaved(calls: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median wall time of each call, the calls run in turn ``repeats`` times."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            t0 = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def check_baseline(key: str, steps: int) -> str:
    """The numpy baseline's final parameters lie in (or within 1e-9 of) the certified enclosure."""
    m, d, n = SHAPES[key]
    problem, X, y, theta = paper_b(m, d, n)
    run = run_matrix(problem, theta[None], steps, get_arithmetic("f64"), schedule=ENDS)
    lane = run.lanes[0]
    assert lane.completed, lane.reason
    lo, hi = lane.records[-1].params.bounds()
    base = numpy_gd(X, y, theta, m, float(problem.eta), steps)
    gap = float(np.maximum(lo - base, base - hi).max())
    assert gap <= 1e-9, f"numpy baseline is {gap:.3g} outside the certified enclosure"
    return f"max |baseline outside enclosure| = {max(gap, 0.0):.2g}, max enclosure width {(hi - lo).max():.2g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--arb-steps", type=int, default=20)
    parser.add_argument("--train-steps", type=int, default=1000)
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    steps, reps = args.steps, args.repeats
    ratios: list[str] = []

    print(f"(a) float64: certified matrix engine vs plain numpy, {steps} steps, median of {reps} (interleaved)")
    f64_time = {}
    for key, (m, d, n) in SHAPES.items():
        print(f"  m={m}, d={d}, n={n}: baseline check: {check_baseline(key, steps)}")
        t = interleaved({"numpy": make_call("numpy", key, steps), "f64": make_call("f64", key, steps)}, reps)
        f64_time[key] = t
        mem = {} if args.no_memory else {meth: peak_increase("bench_wide", "make_call", meth, key, steps)
                                         for meth in ("numpy", "f64")}
        for meth, label in (("numpy", "plain numpy float64"), ("f64", "certified float64 matrices")):
            extra = f"  peak {mib(mem[meth]['increase'])}" if mem else ""
            print(f"    {label:<28} {t[meth] / steps * 1e3:9.2f} ms/step{extra}")
        ratios.append(f"certified float64 / numpy throughput at m={m}, d={d}, n={n}: "
                      f"{t['numpy'] / t['f64']:.2f}x (goal >= 0.25, aim 0.5)")

    print()
    arb_steps = args.arb_steps
    m, d, n = ARB_SMALL
    print(f"(b) Arb at {PREC} bits, m={m}, d={d}, n={n}, {arb_steps} steps, median of {max(reps // 2, 1)}")
    t = interleaved({"compiled": make_call("arb-compiled", "arb-small", arb_steps),
                     "matrix": make_call("arb-matrix", "arb-small", arb_steps)}, max(reps // 2, 1))
    mem = {} if args.no_memory else {meth: peak_increase("bench_wide", "make_call", meth, "arb-small", arb_steps)
                                     for meth in ("arb-compiled", "arb-matrix")}
    for meth, label in (("compiled", "straight-line step (before)"), ("matrix", "matrix step (arb_mat)")):
        extra = f"  peak {mib(mem['arb-' + meth]['increase'])}" if mem else ""
        print(f"    {label:<28} {t[meth] / arb_steps * 1e3:9.2f} ms/step{extra}")
    ratios.append(f"Arb matrix step / today's Arb engine at m={m}, d={d}, n={n}: "
                  f"{t['compiled'] / t['matrix']:.1f}x faster (goal >= 20)")
    m, d, n = ARB_LARGE
    large_steps = 2
    call = make_call("arb-matrix", "arb-large", large_steps)
    t0 = time.perf_counter()
    traj = call()
    secs = time.perf_counter() - t0
    mem_large = "" if args.no_memory else \
        f", peak {mib(peak_increase('bench_wide', 'make_call', 'arb-matrix', 'arb-large', large_steps)['increase'])}"
    print(f"    m={m}, d={d}, n={n}: {large_steps} steps in {secs:.1f} s ({secs / large_steps:.1f} s/step), "
          f"{traj.status}{mem_large}")

    print()
    print(f"(c) tiny networks on Arb at {PREC} bits, per step (median of {reps}):")
    for m, d, n in TINY:
        tt = interleaved(tiny_calls(m, d, n, 200), reps)
        print(f"    m={m}, d={d}, n={n} ({m * n * (d + 1)} terms): compiled {tt['compiled'] / 200 * 1e6:8.1f} us, "
              f"matrix {tt['matrix'] / 200 * 1e6:8.1f} us")

    print()
    m, d, n, L = STACK
    print(f"(d) stacking {L} inits of m={m}, d={d}, n={n} in one product, float64, {steps * 5} steps:")
    problem, _, _, theta = paper_b(m, d, n)
    inits = theta[None] * (1 + 0.01 * np.random.default_rng(1).normal(size=(L, theta.size)))
    ar = get_arithmetic("f64")
    tt = interleaved({"stacked": lambda: run_matrix(problem, inits, steps * 5, ar, schedule=ENDS),
                      "separate": lambda: [run_matrix(problem, inits[k][None], steps * 5, ar, schedule=ENDS)
                                           for k in range(L)]}, reps)
    print(f"    stacked {tt['stacked']:.3f} s, separate {tt['separate']:.3f} s")
    ratios.append(f"stacking {L} inits (m={m}, d={d}, n={n}): {tt['separate'] / tt['stacked']:.1f}x faster "
                  "than separate runs")

    print()
    print(f"(f) many lanes: float64 lane loops vs the matrix engine, per lane-step (median of {reps}):")
    for m, d, n, L in LOOP_SHAPES:
        tt = interleaved(lane_calls(m, d, n, L, 50), reps)
        print(f"    m={m}, d={d}, n={n} ({m * n * (d + 1)} terms), {L} lanes: "
              f"loops {tt['loops'] / 50 / L * 1e6:8.1f} us, matrix {tt['matrix'] / 50 / L * 1e6:8.1f} us")

    if args.train_steps:
        print()
        m, d, n = SHAPES["wide"]
        problem, _, _, theta = paper_b(m, d, n)
        T = args.train_steps
        print(f"(e) certified_gd, engine auto, m={m}, d={d}, n={n}, eta={problem.eta}, {T} steps:")
        t0 = time.perf_counter()
        traj = certified_gd(problem, theta, T, schedule=RecordSchedule(stride=max(T // 5, 1), per_decade=0))
        secs = time.perf_counter() - t0
        lo, hi = traj.final.params.bounds()
        print(f"    {traj.status} on {traj.engine} ({traj.engine_reason}); escalated: {traj.escalated}; "
              f"{secs:.1f} s ({secs / 60:.1f} min); final loss {float(traj.loss(traj.final)):.4g}, "
              f"max parameter width {float((hi - lo).max()):.3g}")
        ratios.append(f"{T} certified steps at m={m}, d={d}, n={n}: {secs / 60:.1f} min ({traj.status}, {traj.engine})")

    print()
    for line in ratios:
        print(f"  >>> {line} <<<")


if __name__ == "__main__":
    main()
