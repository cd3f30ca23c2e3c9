"""What running a certified sweep through :mod:`verify.distributed` costs, against today's sweep.

All in one run, on paper A (eta = 0.1), the same seeded He inits, every lane reduced to
(engine, certified) and recording only the first and last step; for each size in ``--sizes``
(default 1,000 and 10,000 inits x 1,000 steps):

(a) baseline: the plain numpy float64 GD of ``bench_batch.py`` (uncertified), all inits at once;
(b) today: :func:`verify.dynamics.sweep.sweep` in its process pool (``--workers``), per-lane
    values back to the driver (inits sampled before timing, as in ``bench_batch.py``);
(c) ``run_chunks`` on the local process pool: inits sampled in the workers by index, lanes folded
    to counts in the worker;
(d) ``run_chunks`` on a dask ``LocalCluster`` of ``--workers`` processes, started and closed by
    the call (what one ``verify run`` pays: spawned workers also load the kernels afresh, while
    forked pool workers inherit them from the driver, which warms them up before timing);
(d2) the same chunks on an already running ``LocalCluster`` (the per-sweep cost without start-up);
(e) ``run_chunks`` on the pool writing every chunk to a fresh store (fsync per chunk);
(f) ``run_chunks`` resuming from a complete store (nothing computed: load and fold).

Also timed: a ``LocalCluster`` start + close alone. Chunks are ``--chunk`` lanes (default: a
quarter of the inits, at least 256: the split today's sweep uses on 2 workers). Times are medians
of ``--repeats`` runs; throughput is trajectory-steps per second; ratios are against (a) and (b).
Before timing, the script checks that (b), (c), (d) and (f) give the same counts.

``--memory N`` also measures the driver's peak RSS increase over N inits x 100 steps for (b)
and (c) (each in a fresh spawned process), to show that folding keeps the driver's memory flat.

    python benchmarks/bench_sweep.py [--sizes 1000 10000] [--steps 1000] [--repeats 5] [--workers 2]
                                     [--chunk N] [--memory 100000]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from bench_batch import ENDS_ONLY, ETA, numpy_gd  # benchmarks/, beside this script
from timing import median_time

from proofs.paper_a.problem import paper_a_problem
from verify.distributed import ChunkOutput, Count, fold_lanes, run_chunks
from verify.distributed.executors import Dask
from verify.dynamics import batch as bt
from verify.dynamics.sweep import SweepSpec, default_workers, run_chunk, sweep
from verify.init.schemes import sample_inits
from verify.store import ChunkStore, store_key

SEED = 0
PREC = 128


def lane_flag(index: int, traj: Any, lane: Any) -> tuple[str, bool]:
    """The per-lane reduce of every method: which engine, and whether it certified."""
    return lane.engine, traj.certified


def flag_key(index: int, item: Any) -> tuple[str, bool]:
    return item


FOLD = Count(key=flag_key)


@dataclass(frozen=True)
class LaneChunk:
    """``task(start, stop)``: sample inits ``start..stop-1`` here, run them, fold them to counts."""

    steps: int

    def __call__(self, start: int, stop: int) -> ChunkOutput:
        spec = SweepSpec(paper_a_problem(ETA), self.steps, prec=PREC, schedule=ENDS_ONLY)
        inits = sample_inits(spec.problem.network, "he", SEED, stop - start, start)
        pairs = run_chunk(spec, start, inits, lane_flag)
        return ChunkOutput(fold_lanes(FOLD, ((lane.index, v) for lane, v in pairs)),
                           sum(lane.escalated is not None for lane, _ in pairs))


def counts_of(values: list[tuple[str, bool]]) -> dict:
    return FOLD.finish(fold_lanes(FOLD, enumerate(values)))


def cluster_start_close(workers: int) -> None:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    client.close()
    cluster.close()


class WarmDask(Dask):
    """A dask executor that outlives one ``run_chunks`` call (for (d2))."""

    def close(self, kill: bool = False) -> None:
        pass

    def really_close(self) -> None:
        Dask.close(self)


def run_on(executor: Any, task: LaneChunk, n: int, chunk: int) -> dict:
    """``run_chunks``'s loop on an executor that is already up."""
    acc = FOLD.empty()
    bounds = [(a, min(a + chunk, n)) for a in range(0, n, chunk)]
    for _, out in executor.run(bounds):
        acc = FOLD.merge(acc, out.value)
    return FOLD.finish(acc)


def peak_child(method: str, n: int, workers: int, chunk: int, out: Any) -> None:
    """In a fresh process: the peak RSS increase of one sweep of ``n`` inits x 100 steps."""
    problem = paper_a_problem(ETA)
    bt.step_kernels(problem)
    spec = SweepSpec(problem, 100, prec=PREC, schedule=ENDS_ONLY)
    inits = sample_inits(problem.network, "he", SEED, n) if method == "sweep" else None
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = _rss()
    if method == "sweep":
        sweep(spec, inits, lane_flag, workers=workers)
    else:
        run_chunks(LaneChunk(100), n, FOLD, chunk_size=chunk, executor="pool", workers=workers, progress=False)
    out.send(max(_hwm() - before, 0))


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _hwm() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def peak_memory(method: str, n: int, workers: int, chunk: int) -> int:
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=peak_child, args=(method, n, workers, chunk, send))
    child.start()
    send.close()
    value = recv.recv()
    child.join()
    return value


def method_calls(this: Any, n: int, steps: int, workers: int, chunk: int, warm: WarmDask,
                 root: Path) -> dict[str, Callable[[], Any]]:
    """Zero-argument calls running each method once on ``n`` inits (inputs prepared here)."""
    problem = paper_a_problem(ETA)
    eta = float(problem.eta)
    task = this.LaneChunk(steps)
    exact = sample_inits(problem.network, "he", SEED, n)
    floats = np.array([[float(q) for q in theta] for theta in exact])
    spec = SweepSpec(problem, steps, prec=PREC, schedule=ENDS_ONLY)
    full = ChunkStore.open(root, store_key("bench:full", f"{n:016x}"))
    fresh = iter(range(10**9))

    def chunks(**kw: Any) -> Any:
        return run_chunks(task, n, FOLD, chunk_size=chunk, workers=workers, progress=False, **kw).value

    return {
        "(a) numpy float64 GD": lambda: numpy_gd(floats, eta, steps),
        "(b) sweep(), pool [today]": lambda: counts_of(sweep(spec, exact, lane_flag, workers=workers).values),
        "(c) run_chunks, pool": lambda: chunks(executor="pool"),
        "(d) run_chunks, dask cold": lambda: chunks(executor="dask"),
        "(d2) dask, warm cluster": lambda: run_on(warm, task, n, chunk),
        "(e) (c) + fresh store": lambda: chunks(executor="pool", store=ChunkStore.open(
            root, store_key(f"bench:{next(fresh)}", f"{n:016x}"))),
        "(f) resume, complete store": lambda: chunks(executor="pool", store=full),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=min(2, default_workers()))
    parser.add_argument("--chunk", type=int, default=None, help="lanes per chunk (default: inits / 4, >= 256)")
    parser.add_argument("--memory", type=int, default=0, help="also measure driver memory at this many inits")
    args = parser.parse_args()
    if min(*args.sizes, args.steps, args.repeats, args.workers) < 1:
        parser.error("every count must be positive")
    this = sys.modules.get("bench_sweep") or __import__("bench_sweep")  # tasks pickle by module name
    t_warm = time.perf_counter()
    this.LaneChunk(2)(0, 2)  # compile or load the kernels here, so forked pool workers inherit them warm
    t_warm = time.perf_counter() - t_warm
    reps, workers, steps = args.repeats, args.workers, args.steps

    t0 = time.perf_counter()
    cluster_s = median_time(lambda: cluster_start_close(workers), reps)
    warm = WarmDask(this.LaneChunk(steps), workers)
    rows: list[tuple[int, str, float]] = []
    extra: list[str] = []
    try:
        for n in args.sizes:
            chunk = args.chunk or max(256, -(-n // 4))
            root = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
            try:
                calls = method_calls(this, n, steps, workers, chunk, warm, root)
                first = calls["(c) run_chunks, pool"]()
                calls["(f) resume, complete store"]()  # fills the store (f) then reads
                for name in ("(b) sweep(), pool [today]", "(d) run_chunks, dask cold", "(d2) dask, warm cluster",
                             "(e) (c) + fresh store", "(f) resume, complete store"):
                    assert calls[name]() == first, f"{name} disagrees with (c)"
                certified = sum(c for (_, ok), c in first.items() if ok)
                assert certified == n, f"only {certified} of {n} lanes certified"
                extra.append(f"  {n:,} inits: chunks of {chunk:,} lanes; lanes by (engine, certified): {first}")
                for name, call in calls.items():
                    rows.append((n, name, median_time(call, reps)))
            finally:
                shutil.rmtree(root, ignore_errors=True)
        memory = {}
        if args.memory:
            chunk = args.chunk or 2048
            memory = {m: peak_memory(m, args.memory, workers, chunk) for m in ("sweep", "run_chunks")}
    finally:
        warm.really_close()

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"paper A, eta = {ETA}, He inits (seed {SEED}) x {steps:,} steps, {workers} workers, "
          f"median of {reps} runs ({time.perf_counter() - t0:.0f} s in all; load average {load} at the end)")
    for line in extra:
        print(line)
    print(f"  LocalCluster({workers} workers) start + close alone: {cluster_s:.2f} s; first chunk in a fresh "
          f"process (kernels loaded, first calls): {t_warm:.2f} s, which a forked pool worker inherits done")
    if memory:
        print(f"  driver peak RSS increase, {args.memory:,} inits x 100 steps: sweep() "
              f"{memory['sweep'] / 2**20:,.1f} MiB, run_chunks (folded) {memory['run_chunks'] / 2**20:,.1f} MiB")
    print()
    head = f"  {'inits':>7} {'method':<30} {'median s':>9} {'traj-steps/s':>14} {'vs (a)':>7} {'vs (b)':>7}"
    print(head)
    print("  " + "-" * (len(head) - 2))
    for n in args.sizes:
        t = {name: s for m, name, s in rows if m == n}
        base, today = t["(a) numpy float64 GD"], t["(b) sweep(), pool [today]"]
        for name, s in t.items():
            print(f"  {n:>7,} {name:<30} {s:>9.4f} {n * steps / s:>14,.0f} {base / s:>6.2f}x {today / s:>6.2f}x")
    print()
    for n in args.sizes:
        t = {name.split(" ")[0]: s for m, name, s in rows if m == n}
        print(f"  >>> {n:,} inits: run_chunks pool vs sweep() today {t['(b)'] / t['(c)']:.2f}x; dask LocalCluster vs "
              f"pool: cold {t['(c)'] / t['(d)']:.2f}x, warm {t['(c)'] / t['(d2)']:.2f}x; "
              f"pool vs numpy {t['(a)'] / t['(c)']:.2f}x <<<")


if __name__ == "__main__":
    main()
