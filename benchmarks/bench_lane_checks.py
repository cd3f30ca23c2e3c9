"""Time of the claims' lane checkers: ``verify.claims.runner._decide_lanes`` per paper-A claim.

One float64 batch of paper A's default inits (He-normal, seed 0, eta 0.1; by default 2,048 lanes x
1,000 steps, one chunk of a sweep) is run once; then, for every paper-A claim (and mutation) with
a lane checker, ``_decide_lanes([claim], ...)`` is timed on it (the view, the lane checker, the
per-lane outcome lists: what a chunk spends between ``run_batch`` and the fold), and so is the
check of every such claim at once (``all``). Printed: the median over ``--repeats`` calls (after
one warm-up), the time per lane and per row (a row is one recorded step of one lane), and the
lanes decided.

Before (branch ``lanefast`` at its start, f7322ca, same machine, 2,048 x 1,000, 221,107 rows,
medians of 9):

    claim                                ms   us/lane  ns/row  decided
    phase-ordering                     46.4      22.6   209.6     2048
    f-invariance                       60.3      29.4   272.7     2048
    monotone-numerator                 83.6      40.8   377.9     1536
    small-loss-classifies             209.4     102.2   947.0     2048
    convergence-basin                 164.3      80.2   743.0     2048
    degenerate-interval                31.6      15.4   142.8     1536
    mut-numerator-limit-difference     84.6      41.3   382.8     1536
    mut-absorbing-0110                 35.6      17.4   160.9     1520
    mut-absorbing-1111                 38.7      18.9   175.2     2048
    mut-small-loss-0.9                205.9     100.6   931.4     1040
    mut-conserved-u                    48.1      23.5   217.6     1536
    all                               740.4     361.5  3348.5        0

``decided``: lanes whose every claim was decided without a trajectory (``all``: none, as
monotone-numerator leaves its admitted lanes to the checker).

    python benchmarks/bench_lane_checks.py [--inits 2048] [--steps 1000] [--repeats 7]
"""

from __future__ import annotations

import argparse

from timing import median_time  # benchmarks/timing.py, beside this script

from proofs.paper_a.catalog import CLAIMS, MUTATIONS
from verify.claims.runner import _decide_lanes
from verify.dynamics import batch as bt
from verify.dynamics import batch_layout as bl
from verify.init.schemes import sample_array
from verify.settings import CheckSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inits", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    settings = CheckSettings(inits=args.inits, steps=args.steps)
    problem, spec = settings.problem(), settings.sweep_spec()
    inits = sample_array(problem.network, settings.scheme, settings.seed, args.inits)
    run = bt.run_batch(problem, inits, args.steps, schedule=spec.schedule, width_limit=spec.width_limit)
    rows = len(run.rec_steps) * len(run) + int(run.log.used)
    indices = tuple(range(args.inits))
    claims = [c for c in (*CLAIMS.values(), *MUTATIONS.values()) if c.lanes is not None and c.scope != "once"]
    completed = int((run.status == bl.COMPLETE).sum())
    print(f"paper A, {args.inits} lanes x {args.steps} steps, {rows} rows, {completed} completed; "
          f"medians of {args.repeats}")
    print(f"    {'claim':<32} {'ms':>6} {'us/lane':>9} {'ns/row':>7} {'decided':>8}")
    for name, group in [*((c.id, [c]) for c in claims), ("all", claims)]:
        def call(group=group):
            return _decide_lanes(group, settings, indices, problem, {}, run)

        decided = sum(o is not None for o in call())
        t = median_time(call, args.repeats)
        print(f"    {name:<32} {t * 1e3:6.1f} {t * 1e6 / args.inits:9.1f} {t * 1e9 / rows:7.1f} {decided:8d}")


if __name__ == "__main__":
    main()
