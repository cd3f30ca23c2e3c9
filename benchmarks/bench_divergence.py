"""What the divergence check (issue 14, :mod:`verify.dynamics.divergence`) costs: paper A's GD with
``divergence_bound=None`` (no check) against the default ``2**100``, on one init that converges.

(a) ``run_gd`` on Arb at 128 bits, ``--arb-steps`` steps (default 5,000);
(b) ``run_gd`` on mpmath intervals at 128 bits, ``--mpmath-steps`` steps (default 1,000);
(c) ``run_batch``, ``--lanes`` He inits x ``--batch-steps`` steps (defaults 2,000 x 2,000), numba warm.

Medians of ``--repeats`` runs, the two settings interleaved (the machine is shared and noisy);
the ratio is checked over unchecked. Every run is asserted certified.

Measured 2026-12-06 on the shared 2-core machine, quiet, medians of 11: (a) 0.058 s unchecked,
0.091 s checked (x1.58) before :class:`~verify.dynamics.divergence.MoveBudget`, 0.055 / 0.068 s
(x1.23) with it; (b) 0.233 / 0.293 s (x1.26) before, 0.220 / 0.233 s (x1.06) with it; (c) the batch
lanes' check (a compiled scan per step) 0.424 / 0.453 s (x1.07).

    python benchmarks/bench_divergence.py [--repeats 7] [--arb-steps 5000] [--mpmath-steps 1000]
                                          [--lanes 2000] [--batch-steps 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from fractions import Fraction

from proofs.paper_a.problem import paper_a_problem
from verify.dynamics.batch import run_batch
from verify.dynamics.gd import run_gd
from verify.dynamics.schedule import RecordSchedule
from verify.init.schemes import sample_inits

THETA0 = (Fraction(1, 2), Fraction(0), Fraction(-1), Fraction(0))
SETTINGS = (("unchecked", None), ("checked 2**100", 2**100))


def interleaved(run: Callable[[object], None], repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name, _ in SETTINGS}
    for _ in range(repeats):
        for name, bound in SETTINGS:
            t0 = time.perf_counter()
            run(bound)
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(v) for name, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--arb-steps", type=int, default=5000)
    ap.add_argument("--mpmath-steps", type=int, default=1000)
    ap.add_argument("--lanes", type=int, default=2000, help="0: skip (c)")
    ap.add_argument("--batch-steps", type=int, default=2000)
    args = ap.parse_args()
    problem = paper_a_problem()

    def gd(backend: str, steps: int) -> Callable[[object], None]:
        def run(bound: object) -> None:
            assert run_gd(problem, THETA0, steps, backend=backend, divergence_bound=bound).certified
        return run

    inits = sample_inits(problem.network, "he", 0, args.lanes)
    ends = RecordSchedule(per_decade=0)
    if args.lanes:
        run_batch(problem, inits[:4], 4, schedule=ends)  # compile / load the kernels

    def batch(bound: object) -> None:
        run = run_batch(problem, inits, args.batch_steps, schedule=ends, divergence_bound=bound)
        assert not any(run.diverged(k) for k in range(len(run)))

    rows = [(f"(a) run_gd arb, {args.arb_steps} steps", gd("arb", args.arb_steps)),
            (f"(b) run_gd mpmath, {args.mpmath_steps} steps", gd("mpmath", args.mpmath_steps)),
            (f"(c) run_batch, {args.lanes} lanes x {args.batch_steps} steps", batch)][:3 if args.lanes else 2]
    print(f"medians of {args.repeats} runs, seconds")
    for label, run in rows:
        m = interleaved(run, args.repeats)
        a, b = (m[name] for name, _ in SETTINGS)
        print(f"{label:<48} unchecked {a:8.4f}  checked {b:8.4f}  ratio {b / a:5.2f}")


if __name__ == "__main__":
    main()
