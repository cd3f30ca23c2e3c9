"""Paper B's exact core at d = 2,048, k = 64: wall times of each part, and the measured figures.

Parts timed (medians of ``--repeats``): the data draw (means, a training and a test set), the
Assumption-2.2 quantities, Lemma 2.1 (LP candidate + exact check; the witness u), the robust network
of Theorem 4.1 (pattern and margins; radius brackets: sound lower bounds and certified attacks), the
universal perturbation of Theorem 4.2 (exact flip oracle and the 90%-flip bisection) against a
non-robust reference network (``label_mean_network``: two neurons, each the sum of one label's
training points; a stand-in for the trained KKT points that pbtrain supplies), the Clopper-Pearson
bound, and the pure-Fraction forward (the independent re-check) against the integer path, per point.

Figures: the robust network's certified radius bracket over sqrt(d)/2, eta_90 over sqrt(d/k) for the
reference network, and (``--grid``) the log-log slopes of eta_90 in k (at d = 2,048) and in d (at
k = 16), and of the robust lower radius in d and k (least squares on the medians; no intervals here).

    python benchmarks/bench_paper_b_core.py [--repeats 3] [--n-test 100] [--grid]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from fractions import Fraction

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
from timing import median_time  # noqa: E402

from proofs.paper_b.data import ClusterModel, assumption_22  # noqa: E402
from proofs.paper_b.forward import net_forward  # noqa: E402
from proofs.paper_b.radius import attack_upper, lower_bounds  # noqa: E402
from proofs.paper_b.robust import check_robust, robust_network  # noqa: E402
from proofs.paper_b.separability import certify_separable, check_witness  # noqa: E402
from proofs.paper_b.stats import clopper_pearson_upper  # noqa: E402
from proofs.paper_b.universal import FlipOracle, eta_for_fraction, label_mean_network  # noqa: E402


def eta90(model: ClusterModel, n_train: int, n_test: int) -> float:
    tr, te = model.train_test(n_train, n_test, 0)
    r = eta_for_fraction(FlipOracle.build(label_mean_network(tr), model, te), model)
    return float(r.eta_hi[1])


def robust_lower_median(model: ClusterModel, n_test: int) -> float:
    te = model.sample(n_test, 0, "test")
    lows = lower_bounds(robust_network(model), te.Xint, te.denominator, te.y)
    return statistics.median(float(x) for x in lows)


def slope(xs: list[float], ys: list[float]) -> float:
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-test", type=int, default=100)
    ap.add_argument("--n-train", type=int, default=256)
    ap.add_argument("--grid", action="store_true", help="also the slopes over a (d, k) grid")
    args = ap.parse_args()
    d, k, sigma = 2048, 64, Fraction(1, 4)
    model = ClusterModel(d=d, k=k, sigma=sigma, kind="orthogonal", seed=1, balance=Fraction(1, 4))
    _ = model.means
    rows: list[tuple[str, float]] = []

    def timed(name: str, fn):
        t = median_time(fn, args.repeats)
        rows.append((name, t))
        return fn()

    tr, te = timed(f"data: means + train (n={args.n_train}) + test (n={args.n_test})",
                   lambda: (ClusterModel(d=d, k=k, sigma=sigma, kind="orthogonal", seed=1,
                                         balance=Fraction(1, 4)).train_test(args.n_train, args.n_test, 0)))
    a22 = timed("assumption 2.2 quantities", lambda: assumption_22(model))
    sep = timed("lemma 2.1: LP candidate + exact check", lambda: certify_separable(tr))
    wit = timed("lemma 2.1: witness u, exact margins", lambda: check_witness(model, tr))
    rc = timed("thm 4.1: pattern + margins (exact)", lambda: check_robust(model, te))
    net_r = robust_network(model)
    lows = timed("thm 4.1: sound radius lower bounds", lambda: lower_bounds(net_r, te.Xint, te.denominator, te.y))
    ups = timed("thm 4.1: certified attacks (upper)", lambda: attack_upper(net_r, te.Xint, te.denominator, te.y))
    ref = label_mean_network(tr)
    oracle = timed("thm 4.2: flip oracle build", lambda: FlipOracle.build(ref, model, te))
    res = timed("thm 4.2: eta_90 bisection (exact counts)", lambda: eta_for_fraction(oracle, model))
    rob_or = FlipOracle.build(net_r, model, te)
    res_r = eta_for_fraction(rob_or, model)
    errors = rc.n - rc.n_correct
    cp = timed("clopper-pearson (exact tail)", lambda: clopper_pearson_upper(errors, rc.n))
    x0 = te.row(0)
    t_frac = median_time(lambda: net_forward(net_r, x0), args.repeats)
    t_int = median_time(lambda: net_r.outputs(te.Xint[:1], te.denominator), args.repeats)

    print(f"paper B exact core, d={d}, k={k}, sigma={sigma}, kind=orthogonal, n_train={args.n_train}, "
          f"n_test={args.n_test}, repeats={args.repeats}")
    for name, t in rows:
        print(f"  {name:<48s} {t:8.3f} s")
    print(f"  per-point forward: pure Fraction {t_frac * 1e3:.1f} ms, integer path {t_int * 1e3:.2f} ms "
          f"(ratio {t_frac / t_int:.0f}x)")
    half = math.sqrt(d) / 2
    lo = [float(x) / half for x in lows]
    up = [float(u[0]) / half for u in ups if u is not None]
    print("figures:")
    print(f"  assumption 2.2: max corr {a22.max_corr}, k(max+1)/d = {a22.ratio}")
    print(f"  lemma 2.1: separator {sep.status}; witness {wit.status}, min y<u,x>/d = {float(wit.over_d):.3f}")
    print(f"  thm 4.1: one active neuron {rc.n_one_active}/{rc.n}, correct {rc.n_correct}/{rc.n}, "
          f"margin/(d/2) in [{float(rc.margin_over_half_d()[0]):.3f}, {float(rc.margin_over_half_d()[1]):.3f}]")
    print(f"  thm 4.1: certified radius / (sqrt(d)/2): lower median {statistics.median(lo):.3f} "
          f"(min {min(lo):.3f}), attack upper median {statistics.median(up):.3f} ({len(up)}/{len(ups)} attacked)")
    print(f"  thm 4.2: eta_90 / sqrt(d/k) = {float(res.eta_hi[1]) / math.sqrt(d / k):.3f} (reference net, "
          f"{res.flips_hi}/{res.n} flips); robust net eta_90 / sqrt(d) = {float(res_r.eta_hi[1]) / math.sqrt(d):.3f}")
    print(f"  clopper-pearson: {errors}/{rc.n} errors -> 95% upper bound {float(cp.upper):.5f}")
    if args.grid:
        t0 = time.perf_counter()
        ks = [4, 16, 64]
        e_k = [eta90(ClusterModel(d=2048, k=kk, sigma=sigma, kind="orthogonal", seed=1, balance=Fraction(1, 4)),
                     4 * kk, args.n_test) for kk in ks]
        ds = [256, 512, 1024, 2048]
        e_d = [eta90(ClusterModel(d=dd, k=16, sigma=sigma, kind="orthogonal", seed=1, balance=Fraction(1, 4)),
                     64, args.n_test) for dd in ds]
        r_d = [robust_lower_median(ClusterModel(d=dd, k=16, sigma=sigma, kind="orthogonal", seed=1), args.n_test)
               for dd in ds]
        r_k = [robust_lower_median(ClusterModel(d=2048, k=kk, sigma=sigma, kind="orthogonal", seed=1), args.n_test)
               for kk in ks]
        print(f"  grid ({time.perf_counter() - t0:.1f} s): eta_90 slope in k {slope(ks, e_k):+.3f} (law -1/2), "
              f"in d {slope(ds, e_d):+.3f} (law +1/2); robust radius slope in d {slope(ds, r_d):+.3f} (+1/2), "
              f"in k {slope(ks, r_k):+.3f} (0)")
        print("    eta_90 by k:", ", ".join(f"k={kk}: {e:.2f}" for kk, e in zip(ks, e_k, strict=True)))
        print("    eta_90 by d:", ", ".join(f"d={dd}: {e:.2f}" for dd, e in zip(ds, e_d, strict=True)))


if __name__ == "__main__":
    main()
