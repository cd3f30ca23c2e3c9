"""Throughput of the float64 batch backend against a plain numpy float64 GD, and the per-trajectory engines.

All in one run, on the same exact He-normal inits of paper A (eta = 0.1; by default 10,000 inits
x 1,000 steps), every method recording only the first and last step:

(a) baseline: uncertified numpy float64 GD, vectorized over all inits at once (what a
    researcher would write; checked against the arb engine before timing);
(b) ``run_batch``: certified GD in float64 interval lanes, single process, numba warmed up;
(b2) ``sweep`` on the batch engine in worker processes (``--workers``, default every core),
    reduced to a bool per lane, with the escalation of uncertified lanes to the arb engine;
(c) ``run_gd`` on Arb at 128 bits, one trajectory at a time, on the first ``--arb-inits`` inits;
(d) ``run_gd`` on mpmath intervals at 128 bits, on the first ``--mpmath-inits`` inits.

Times are medians over ``--repeats`` runs in this process; throughput is trajectory-steps per
second (inits x steps / seconds; (c) and (d) extrapolate from their subsets); ratios are
throughputs over the baseline's (goal for the batch backend: >= 0.5). Peak memory is measured
for each method in a fresh spawned child process: its peak RSS during the measured call minus
its RSS just before it (``/proc/self/statm``). The peak is ``VmHWM`` of ``/proc/self/status``,
reset through ``/proc/self/clear_refs`` after setup and warm-up: ``ru_maxrss`` is no use here,
as a spawned child's starts at the parent's RSS at fork time (Linux carries it across exec).
Before timing, the script asserts that the baseline agrees with the arb enclosures' midpoints
to 1e-9 and that the batch lanes' final intervals contain them, on a few inits.

    python benchmarks/bench_batch.py [--inits 10000] [--steps 1000] [--arb-inits 100]
                                     [--mpmath-inits 10] [--repeats 5] [--workers N]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
from timing import median_time  # benchmarks/timing.py, beside this script

from proofs.paper_a.problem import paper_a_problem
from verify.dynamics.batch import run_batch
from verify.dynamics.gd import run_gd
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.sweep import SweepSpec, default_workers, sweep
from verify.init.schemes import sample_inits

ETA = "0.1"
SEED = 0
PREC = 128
ENDS_ONLY = RecordSchedule(per_decade=0)  # record steps 0 and `steps` only
CHECK_LANES = 5  # inits checked against the arb engine
BASELINE_TOL = 1e-9
METHODS = ("numpy", "batch", "sweep", "arb", "mpmath")
LABELS = {
    "numpy": "(a) numpy float64 (baseline)",
    "batch": "(b) run_batch, 1 process",
    "sweep": "(b2) sweep, batch engine",
    "arb": "(c) run_gd arb 128 bits",
    "mpmath": "(d) run_gd mpmath 128 bits",
}


def numpy_gd(theta0: np.ndarray, eta: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Paper A's GD in plain float64, all inits at once: final ``(w1, b1, w2, b2)`` rows and loss.

    ``N(x) = relu(w1 x + b1) - relu(w2 x + b2)`` on data ``(1, +1), (-1, -1)``, exponential loss
    ``L = (exp(-N1) + exp(N2)) / 2``, ``relu'(0) = 0``.
    """
    w1, b1, w2, b2 = (theta0[:, q].copy() for q in range(4))
    h = eta / 2
    for _ in range(steps):
        z11, z12, z21, z22 = w1 + b1, b1 - w1, w2 + b2, b2 - w2
        a11, a12, a21, a22 = z11 > 0, z12 > 0, z21 > 0, z22 > 0
        e1 = np.exp(-(np.maximum(z11, 0) - np.maximum(z21, 0)))  # exp(-y1 N1), y1 = +1
        e2 = np.exp(np.maximum(z12, 0) - np.maximum(z22, 0))  # exp(-y2 N2), y2 = -1
        g11, g12, g21, g22 = a11 * e1, a12 * e2, a21 * e1, a22 * e2
        w1 += h * (g11 + g12)
        b1 += h * (g11 - g12)
        w2 -= h * (g21 + g22)
        b2 -= h * (g21 - g22)
    n1 = np.maximum(w1 + b1, 0) - np.maximum(w2 + b2, 0)
    n2 = np.maximum(b1 - w1, 0) - np.maximum(b2 - w2, 0)
    return np.stack([w1, b1, w2, b2], axis=1), (np.exp(-n1) + np.exp(n2)) / 2


def certified_flag(index: int, traj: Any, lane: Any) -> bool:
    """The sweep's reduce: one bool per lane comes back from the workers."""
    return traj.certified


def exact_rows(inits: np.ndarray) -> list[tuple[Fraction, ...]]:
    return [tuple(Fraction(v) for v in row) for row in inits.tolist()]


def method_call(method: str, inits: np.ndarray, steps: int, n_arb: int, n_mp: int,
                workers: int) -> Callable[[], Any]:
    """A zero-argument call running ``method`` once (everything it needs prepared and warmed up)."""
    problem = paper_a_problem(ETA)
    if method == "numpy":
        eta = float(problem.eta)
        numpy_gd(inits[:2], eta, 2)
        return lambda: numpy_gd(inits, eta, steps)
    if method == "batch":
        run_batch(problem, inits[:2], 2, schedule=ENDS_ONLY)  # compile or load the numba kernels
        return lambda: run_batch(problem, inits, steps, schedule=ENDS_ONLY)
    if method == "sweep":
        exact = exact_rows(inits)
        spec = SweepSpec(problem, steps, prec=PREC, schedule=ENDS_ONLY)
        run_batch(problem, inits[:2], 2, schedule=ENDS_ONLY)
        return lambda: sweep(spec, exact, certified_flag, workers=workers)
    backend, count = ("arb", n_arb) if method == "arb" else ("mpmath", n_mp)
    exact = exact_rows(inits[:count])
    run_gd(problem, exact[0], 2, backend=backend, prec=PREC, schedule=ENDS_ONLY)
    return lambda: [run_gd(problem, theta, steps, backend=backend, prec=PREC, schedule=ENDS_ONLY)
                    for theta in exact]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """This process's peak RSS: ``VmHWM`` (resettable), else ``ru_maxrss`` (KiB on Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_child(method: str, inits: np.ndarray, steps: int, n_arb: int, n_mp: int, workers: int,
                 out: Any) -> None:
    """In a fresh process: peak RSS increase of one call of ``method`` (and its workers' peak RSS)."""
    call = method_call(method, inits, steps, n_arb, n_mp, workers)
    try:  # reset the peak RSS to the current RSS, so imports, setup and warm-up do not count
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = rss_bytes()
    exact = peak_rss_bytes() <= before + 2**20  # the reset worked (or nothing before peaked higher)
    call()
    peak = peak_rss_bytes()
    workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    out.send({"increase": max(peak - before, 0), "workers_peak": workers_peak, "exact": exact})
    out.close()


def measure_memory(method: str, inits: np.ndarray, steps: int, n_arb: int, n_mp: int,
                   workers: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=memory_child, args=(method, inits, steps, n_arb, n_mp, workers, send))
    child.start()
    send.close()
    result = recv.recv()
    child.join()
    return result



def mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n / 2**10:,.0f} KiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inits", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--arb-inits", type=int, default=100)
    parser.add_argument("--mpmath-inits", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=default_workers(), help="sweep workers (default: every core)")
    args = parser.parse_args()
    if min(args.inits, args.steps, args.arb_inits, args.mpmath_inits, args.repeats, args.workers) < 1:
        parser.error("every count must be positive")
    L, steps, reps = args.inits, args.steps, args.repeats
    n_arb, n_mp = min(args.arb_inits, L), min(args.mpmath_inits, L)
    problem = paper_a_problem(ETA)
    eta = float(problem.eta)
    exact = sample_inits(problem.network, "he", SEED, L)
    inits = np.array([[float(q) for q in theta] for theta in exact])
    assert exact_rows(inits) == exact  # the doubles are the exact inits

    # Correctness first: baseline vs arb midpoints, batch intervals contain the arb midpoints.
    check = range(min(CHECK_LANES, L))
    arb_runs = [run_gd(problem, exact[k], steps, backend="arb", prec=PREC, schedule=ENDS_ONLY) for k in check]
    assert all(r.certified for r in arb_runs), "arb engine did not certify a check lane"
    base_theta, _ = numpy_gd(inits, eta, steps)
    batch = run_batch(problem, inits, steps, schedule=ENDS_ONLY)  # also compiles / loads the kernels
    worst, contained = 0.0, 0
    for k, ref in zip(check, arb_runs, strict=True):
        mids = [ref.backend.mid(x) for x in ref.final.theta]
        worst = max(worst, *(abs(float(base_theta[k, q]) - float(mid)) for q, mid in enumerate(mids)))
        if batch.completed(k):
            traj = batch.trajectory(k)
            assert all(traj.backend.contains(x, mid) for x, mid in zip(traj.final.theta, mids, strict=True)), \
                f"batch lane {k} does not contain the arb midpoint"
            contained += 1
    assert worst <= BASELINE_TOL, f"numpy baseline is {worst:.3g} away from the arb midpoint"
    assert contained > 0, "no check lane completed in the batch backend"

    calls = {m: method_call(m, inits, steps, n_arb, n_mp, args.workers) for m in METHODS}
    seconds = {m: median_time(calls[m], reps) for m in METHODS}
    counts = {"numpy": L, "batch": L, "sweep": L, "arb": n_arb, "mpmath": n_mp}
    rate = {m: counts[m] * steps / seconds[m] for m in METHODS}
    memory = {m: measure_memory(m, inits, steps, n_arb, n_mp, args.workers) for m in METHODS}
    swept = calls["sweep"]()
    summary = swept.summary()
    escalated = [lane.index for lane in swept.lanes if lane.escalated]
    assert all(swept.values), "a swept lane was not certified"
    batch_stopped = int((batch.status != 0).sum())

    print(f"paper A, eta = {ETA}, {L:,} He-normal inits (seed {SEED}) x {steps:,} steps, "
          f"median of {reps} runs, {args.workers} sweep workers")
    print(f"  baseline check: numpy vs arb midpoints on {len(check)} inits, max |diff| = {worst:.2g} "
          f"(<= {BASELINE_TOL:g}) OK")
    print(f"  containment check: {contained} of {len(check)} batch lanes' final intervals contain "
          f"the arb midpoint OK")
    print()
    head = f"  {'method':<30} {'inits':>7} {'steps':>7} {'median s':>10} {'traj-steps/s':>14} " \
           f"{'vs (a)':>8} {'s @ all inits':>14} {'peak mem':>12}"
    print(head)
    print("  " + "-" * (len(head) - 2))
    for m in METHODS:
        full = L * steps / rate[m]
        full_s = f"{full:,.2f}" if counts[m] == L else f"~{full:,.0f}"
        mem = mib(memory[m]["increase"]) + ("" if memory[m]["exact"] else "*")
        print(f"  {LABELS[m]:<30} {counts[m]:>7,} {steps:>7,} {seconds[m]:>10.4f} {rate[m]:>14,.0f} "
              f"{rate[m] / rate['numpy']:>7.3g}x {full_s:>14} {mem:>12}")
    print()
    print(f"  peak mem: child's peak RSS increase over its RSS just before the call; the sweep's "
          f"{args.workers} workers peaked at {mib(memory['sweep']['workers_peak'])} RSS each (at most)")
    if not all(memory[m]["exact"] for m in METHODS):
        print("  * peak RSS could not be reset after setup: a lower bound")
    print(f"  run_batch: {batch_stopped} of {L:,} lanes left the float64 batch "
          f"({L - batch_stopped:,} certified in float64)")
    reasons = ", ".join(f"{r}: {c}" for r, c in summary["escalation_reasons"].items()) or "none"
    shown = ", ".join(map(str, escalated[:10])) + (", ..." if len(escalated) > 10 else "")
    print(f"  sweep: {summary['escalated']} of {L:,} lanes escalated to arb ({reasons})"
          + (f"; lanes {shown}" if escalated else "") + f"; engines {summary['engines']}")
    print(f"  sweep / run_batch throughput: {rate['sweep'] / rate['batch']:.2f}x")
    print(f"  arb engine / mpmath engine throughput: {rate['arb'] / rate['mpmath']:.1f}x")
    print()
    print(f"  >>> batch / baseline throughput: {rate['batch'] / rate['numpy']:.2f} (goal >= 0.5) <<<")


if __name__ == "__main__":
    main()
