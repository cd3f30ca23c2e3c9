"""How far certified GD gets on paper-B-like data before an enclosure can no longer decide a sign.

Interval GD suffers the wrapping effect: each step adds its rounding errors and propagates the
radius through the absolute values of the step's Jacobian. This script measures, on paper-B-like
problems (``bench_wide.paper_b``: 4 clusters with +-1 means, norm sqrt(d); noise 0.5; labels +-1;
small init; exponential loss; both layers trained), for several step sizes eta (in units of 1/d;
plain GD decreases the loss steadily at all of them):

* float64 interval matrices: the largest parameter radius every ``--every`` steps, and the step
  at which the run stops (and why: in practice a pre-activation crossing 0 within its enclosure's
  radius, a sign no enclosure of that width can decide);
* Arb at 64, 128, 256 bits (on the smaller shape, where Arb is cheap): the same.

    python benchmarks/wide_growth.py [--steps 1500] [--every 250]
"""

from __future__ import annotations

import argparse
import time
from fractions import Fraction

from bench_wide import paper_b  # benchmarks/bench_wide.py, beside this script

from verify.arith.arrays import get_arithmetic
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.wide import run_matrix
from verify.model.network import Problem

WIDE, SMALL = (100, 2000, 400), (20, 200, 100)
ETAS = (Fraction(1, 4), Fraction(1), Fraction(4))  # times 1/d


def growth(shape: tuple[int, int, int], eta_d: Fraction, steps: int, every: int, arith: str, prec: int) -> str:
    m, d, n = shape
    base, _, _, theta = paper_b(m, d, n)
    problem = Problem(base.network, base.data, eta_d / d)
    t0 = time.perf_counter()
    run = run_matrix(problem, theta[None], steps, get_arithmetic(arith, prec),
                     schedule=RecordSchedule(stride=every, per_decade=0), width_limit=None)
    secs = time.perf_counter() - t0
    lane = run.lanes[0]
    radii = []
    for rec in lane.records:
        Theta, A = rec.params.arrays()
        ar = rec.params.ar
        radii.append(f"t={rec.t}: {max(float(ar.width(Theta).max()), float(ar.width(A).max())) / 2:.1e}")
    end = f"all {steps} steps certified" if lane.completed else f"stops at step {lane.fail_step}: {lane.what}"
    name = "float64" if arith == "f64" else f"arb {prec} bits"
    return (f"  m={m}, d={d}, n={n}, eta={eta_d}/d, {name}: {end} ({secs:.0f} s)\n"
            f"      max radius {'; '.join(radii)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--every", type=int, default=250)
    args = parser.parse_args()
    for shape in (WIDE, SMALL):
        for eta in ETAS:
            print(growth(shape, eta, args.steps, args.every, "f64", 53), flush=True)
    for eta in ETAS:
        for prec in (64, 128, 256):
            print(growth(SMALL, eta, args.steps, args.every, "arb", prec), flush=True)


if __name__ == "__main__":
    main()
