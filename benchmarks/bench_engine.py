"""Steps per second of the certified GD engine against a bare python-flint loop.

All in one process, on the same exact He-normal init of paper A, at 128 bits:
(a) the engine on the arb backend, (b) the engine on the mpmath backend, (c) a bare
loop of python-flint arb operations doing the same GD arithmetic for paper A's four
parameters, with no certification, escalation or recording. Prints medians over
repeats and the engine/bare overhead ratio (goal: under 2x).

    python benchmarks/bench_engine.py [--steps 20000] [--repeats 5]
"""

from __future__ import annotations

import argparse

import flint
from flint import arb, fmpq
from timing import median_time  # benchmarks/timing.py, beside this script

from proofs.paper_a.problem import paper_a_problem
from verify.dynamics.gd import run_gd
from verify.dynamics.schedule import RecordSchedule
from verify.init.schemes import sample_init


def bare_loop(theta0, eta, steps: int, prec: int) -> list[arb]:
    """Paper A's GD in plain arb operations (exponential loss, pattern taken from the signs)."""
    flint.ctx.prec = prec
    w1, b1, w2, b2 = (arb(fmpq(q.numerator, q.denominator)) for q in theta0)
    c = arb(fmpq(eta.numerator, eta.denominator)) / 2
    zero = arb(0)
    for _ in range(steps):
        z11, z12, z21, z22 = w1 + b1, b1 - w1, w2 + b2, b2 - w2
        a11, a12, a21, a22 = z11 > 0, z12 > 0, z21 > 0, z22 > 0
        n1 = (z11 if a11 else zero) - (z21 if a21 else zero)
        n2 = (z12 if a12 else zero) - (z22 if a22 else zero)
        g1 = (-n1).exp() * c  # eta * (1/2) * exp(-y1 N1), y1 = +1
        g2 = n2.exp() * c  # y2 = -1
        if a11 or a12:
            gw = (g1 if a11 else zero) + (g2 if a12 else zero)
            gb = (g1 if a11 else zero) - (g2 if a12 else zero)
            w1, b1 = w1 + gw, b1 + gb
        if a21 or a22:
            gw = (g1 if a21 else zero) + (g2 if a22 else zero)
            gb = (g1 if a21 else zero) - (g2 if a22 else zero)
            w2, b2 = w2 - gw, b2 - gb
    flint.ctx.prec = 53
    return [w1, b1, w2, b2]



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--prec", type=int, default=128)
    args = parser.parse_args()
    problem = paper_a_problem("0.1")
    theta0 = sample_init(problem.network, "he", seed=0, index=1)  # w1 > 0 > w2: phase F
    sparse = RecordSchedule(per_decade=20)
    steps, reps = args.steps, args.repeats
    run = run_gd(problem, theta0, steps, prec=args.prec, schedule=sparse)
    bare = bare_loop(theta0, problem.eta, steps, args.prec)
    assert all(run.backend.overlaps(x, y) for x, y in zip(run.final.theta, bare, strict=True))
    t_bare = median_time(lambda: bare_loop(theta0, problem.eta, steps, args.prec), reps)
    t_arb = median_time(lambda: run_gd(problem, theta0, steps, prec=args.prec, schedule=sparse), reps)
    mp_steps = max(steps // 10, 1)
    t_mp = median_time(lambda: run_gd(problem, theta0, mp_steps, backend="mpmath", prec=args.prec,
                                      schedule=sparse), max(reps // 2, 1))
    rate = {"bare flint loop": steps / t_bare, "engine, arb": steps / t_arb, "engine, mpmath": mp_steps / t_mp}
    print(f"paper A, He init #1, {steps} steps at {args.prec} bits, median of {reps} runs")
    for name, r in rate.items():
        print(f"  {name:<16} {r:>12,.0f} steps/s")
    print(f"  engine(arb) overhead over the bare loop: {t_arb / t_bare:.2f}x (goal < 2x)")
    print(f"  arb engine / mpmath engine speed: {rate['engine, arb'] / rate['engine, mpmath']:.1f}x")
    print(f"  final max enclosure width: {float(run.max_width()):.3g}")


if __name__ == "__main__":
    main()
