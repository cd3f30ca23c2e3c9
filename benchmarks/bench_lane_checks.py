"""Time of the claims' lane checkers: ``verify.claims.runner._decide_lanes`` per paper-A claim.

One float64 batch of paper A's default inits (He-normal, seed 0, eta 0.1; by default 2,048 lanes x
1,000 steps, one chunk of a sweep) is run once; then, for every paper-A claim (and mutation) with
a lane checker, ``_decide_lanes([claim], ...)`` is timed on it (the view, the lane checker, the
per-lane outcome lists: what a chunk spends between ``run_batch`` and the fold), and so is the
check of every such claim at once (``all``). Printed: the median over ``--repeats`` calls (after
one warm-up), the time per lane and per row (a row is one recorded step of one lane: 217,442 here),
the lanes decided (every claim decided without a trajectory; ``all``: none, as monotone-numerator
leaves its admitted lanes to the checker), and at the default size the time before this work and
the speed-up.

Before (branch ``lanefast`` at its start, f7322ca, same machine, 2,048 x 1,000, medians of 9):

    claim                                ms   us/lane  ns/row
    phase-ordering                     46.4      22.7   213.4
    f-invariance                       60.3      29.4   277.3
    monotone-numerator                 83.6      40.8   384.5
    small-loss-classifies             209.4     102.2   963.0
    convergence-basin                 164.3      80.2   755.6
    degenerate-interval                31.6      15.4   145.3
    mut-numerator-limit-difference     84.6      41.3   389.1
    mut-absorbing-0110                 35.6      17.4   163.7
    mut-absorbing-1111                 38.7      18.9   178.0
    mut-small-loss-0.9                205.9     100.5   946.9
    mut-conserved-u                    48.1      23.5   221.2
    all                               740.4     361.5  3405.0

After (branch ``lanefast``, 6bf885f, load average about 2, medians of 9), ms and speed-up:
phase-ordering 3.7 (12.6x), f-invariance 21.2 (2.8x), monotone-numerator 37.2 (2.2x; its 512
admitted lanes still build their exact init and run ``admits`` with an Arb ``exp``),
small-loss-classifies 39.0 (5.4x), convergence-basin 13.0 (12.7x), degenerate-interval 2.1 (15x),
mut-numerator-limit-difference 38.4 (2.2x), mut-absorbing-0110 2.3 (15x), mut-absorbing-1111 2.5
(16x), mut-small-loss-0.9 90.4 (2.3x; 160,000 rows to classify, numpy passes of directed rounding),
mut-conserved-u 19.3 (2.5x), all 164.7 (4.5x).

    python benchmarks/bench_lane_checks.py [--inits 2048] [--steps 1000] [--repeats 7]
"""

from __future__ import annotations

import argparse

from timing import median_time  # benchmarks/timing.py, beside this script

from proofs.paper_a.catalog import CLAIMS, MUTATIONS
from verify.claims.lanes import LaneView
from verify.claims.runner import _decide_lanes
from verify.dynamics import batch as bt
from verify.dynamics import batch_layout as bl
from verify.init.schemes import sample_array
from verify.settings import CheckSettings

BEFORE_SIZE = (2048, 1000)
BEFORE_MS = {"phase-ordering": 46.4, "f-invariance": 60.3, "monotone-numerator": 83.6, "small-loss-classifies": 209.4,
             "convergence-basin": 164.3, "degenerate-interval": 31.6, "mut-numerator-limit-difference": 84.6,
             "mut-absorbing-0110": 35.6, "mut-absorbing-1111": 38.7, "mut-small-loss-0.9": 205.9,
             "mut-conserved-u": 48.1, "all": 740.4}


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
    rows = len(LaneView(run).t)
    indices = tuple(range(args.inits))
    claims = [c for c in (*CLAIMS.values(), *MUTATIONS.values()) if c.lanes is not None and c.scope != "once"]
    compare = (args.inits, args.steps) == BEFORE_SIZE
    completed = int((run.status == bl.COMPLETE).sum())
    print(f"paper A, {args.inits} lanes x {args.steps} steps, {rows} rows, {completed} completed; "
          f"medians of {args.repeats}")
    print(f"    {'claim':<32} {'ms':>6} {'us/lane':>9} {'ns/row':>7} {'decided':>8}"
          + (f" {'before ms':>10} {'speed-up':>9}" if compare else ""))
    for name, group in [*((c.id, [c]) for c in claims), ("all", claims)]:
        def call(group=group):
            return _decide_lanes(group, settings, indices, problem, {}, run)

        decided = sum(o is not None for o in call())
        t = median_time(call, args.repeats)
        line = f"    {name:<32} {t * 1e3:6.1f} {t * 1e6 / args.inits:9.1f} {t * 1e9 / rows:7.1f} {decided:8d}"
        if compare and name in BEFORE_MS:
            line += f" {BEFORE_MS[name]:10.1f} {BEFORE_MS[name] / (t * 1e3):8.1f}x"
        print(line)


if __name__ == "__main__":
    main()
