"""Cross-check of the all-t certificate on five He-normal inits that end in F.

For each init: certified GD for ``STEPS`` steps, the certificate at the last step ``T``, the
per-init constants (T0, a, A, c, C, the limit |c1 + c2|/2, the angle constants), and the
closed-form band of ``u_t`` against arb-iterated enclosures of ``u <- u + eta e^{-u}`` at
``t = 10, 10^2, ..., 10^6`` (iterated from ``T`` up to 10^6). Floats are used for printing only;
``inside`` is the exact comparison of rational endpoints.

Run: ``python benchmarks/certificate_crosscheck.py``.
"""

from __future__ import annotations

import time
from fractions import Fraction

from proofs.paper_a.certificate import Certificate, exact_str, iterate_band_check, state_from_trajectory
from proofs.paper_a.problem import paper_a_problem
from verify.dynamics.gd import run_gd
from verify.init.schemes import sample_init

STEPS = 2000
T_MAX = 10**6
COUNT = 5
SEED = 0


def t_str(t: int) -> str:
    """``10^j`` for powers of ten, else the decimal digits."""
    s = str(t)
    return f"10^{len(s) - 1}" if s[0] == "1" and set(s[1:]) <= {"0"} and len(s) > 1 else s


def f(q: Fraction | None) -> str:
    return "-" if q is None else f"{float(q):.10g}"


def main() -> None:
    problem = paper_a_problem()
    done, index = 0, 0
    while done < COUNT:
        theta0 = sample_init(problem.network, "he", SEED, index)
        index += 1
        traj = run_gd(problem, theta0, STEPS)
        if not traj.certified or traj.final.pattern != "1001":
            continue
        done += 1
        cert = Certificate(state_from_trajectory(traj))
        k = cert.choose_constants()
        print(f"\n=== He init seed={SEED} index={index - 1}: theta0 = {tuple(f(q) for q in theta0)}  (eta = "
              f"{problem.eta}, T = {cert.T}, T_deg = {cert.degenerate_vanish_step()})")
        if k is None:
            print("  no constants found")
            continue
        print(f"  T0 = {k.T0}   a = {f(k.a)}   A = {f(k.A)}   kappa = [{f(k.kappa_lo)}, {f(k.kappa_hi)}]")
        print(f"  c = {f(k.c)}   C = {f(k.C)}   limit |c1+c2|/2 = {exact_str(cert.deficit_limit())} "
              f"(~{float(Fraction(cert.deficit_limit())):.10g})")
        print(f"  angle: d = {f(k.angle_lo)}   D = {f(k.angle_hi)}   limit^2 = (c1^2+c2^2)/2 ~ "
              f"{float(Fraction(cert.angle_limit_squared())):.10g}")
        for kk in cert.ladder(4):
            print(f"    T0 = {t_str(kk.T0):<8} (gamma*-gamma) ln t in [{f(kk.deficit_ln_lo)}, "
                  f"{f(kk.deficit_ln_hi)}]   |u-v| <= {f(kk.delta)}")
        marks = [10**j for j in range(1, 7) if 10**j >= cert.T]
        t0 = time.perf_counter()
        rows = iterate_band_check(cert.state, None, T_MAX, marks)
        dt = time.perf_counter() - t0
        print(f"  iterated {T_MAX - cert.T} steps in {dt:.2f} s; band vs iterate for u_t:")
        print(f"    {'t':>8} {'band lo':>22} {'iterated':>22} {'band hi':>22} {'band width':>11} inside")
        for r in rows:
            print(f"    {r.t:>8} {float(r.u_band.lower):>22.15f} {float(r.u_iter.mid):>22.15f} "
                  f"{float(r.u_band.upper):>22.15f} {float(r.u_band.width):>11.3e} {r.inside}")
        assert all(r.inside for r in rows), "iterated enclosure outside the closed-form band"


if __name__ == "__main__":
    main()
