"""The sqrt(d/k) law (Theorem 4.2 and Theorem 4.1, measured): how far a universal perturbation must
go to flip most test points of a *trained* network, against the certified radius of the robust one.

**Flips on enclosures.** A trained network is the enclosure of its parameters at a certified step.
For ``z = q u`` (``u = sum_j y_j mu_j`` an integer vector, ``q`` a dyadic rational, so
``||z|| = q ||u||`` with ``||u||`` bracketed exactly by :func:`proofs.paper_b.universal.u_norm_bracket``)
the perturbed pre-activations are ``P_ij - y_i q <w_j, u>``: :class:`proofs.paper_b.boxnet.IntervalFlips`
encloses ``y_i N(x_i - y_i z)`` for every network in the enclosure: a flip is *certified* when its
upper end is ``< 0``, a non-flip when its lower end is ``>= 0``.

**eta90.** The smallest ``||z||`` flipping a fraction ``f`` (default 9/10) of the test points is
bracketed by two exact facts, as in :func:`proofs.paper_b.universal.eta_for_fraction`: at ``q_hi``
at least ``ceil(f n)`` flips are certified, at ``q_lo`` more than ``n - ceil(f n)`` non-flips are
certified (so fewer than ``ceil(f n)`` flips). Its norm is ``[q_lo lo_u, q_hi hi_u]``.

**The law (text: z of norm ~ sqrt(d/k) flips trained networks; the robust network needs ~ sqrt(d);
ours: the grid, the fit).** Over a grid of ``(k, d)`` the log-log least-squares fit
``log eta90 = c + beta_k log k + beta_d log d`` (the bracket's geometric midpoint; its width is far below
the scatter) with 95% t-intervals; predicted ``beta_k = -1/2``, ``beta_d = +1/2``. The robust network's
certified radius (the median over test points of the sound lower bound of
:func:`proofs.paper_b.robust.robust_radii`) is fitted the same way: predicted ``beta_d = +1/2``,
``beta_k = 0``. The grid's noise level is ``sigma_d = sigma * isqrt(d0) / isqrt(d)`` **(ours**: the
orthogonal example of Assumption 2.2 has ``sigma ~ 1/sqrt(d)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from proofs.paper_b.boxnet import IntervalFlips, lipschitz_lower

Q_BITS = 40
LAW_INITS = 3  # inits tried per grid point (stacked in one run); the first reaching the threshold is used


@dataclass(frozen=True)
class Eta90:
    """The bracket of the smallest ``||z||`` flipping ``need`` of ``n`` test points (module doc)."""

    found: bool
    n: int
    need: int
    q_lo: Fraction
    q_hi: Fraction
    flips_hi: int
    nonflips_lo: int
    eta_lo: Fraction  # lower end of ||z|| at q_lo
    eta_hi: Fraction  # upper end of ||z|| at q_hi

    @property
    def mid(self) -> float:
        return math.sqrt(float(self.eta_lo) * float(self.eta_hi)) if self.eta_lo > 0 else float(self.eta_hi) / 2

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Fraction) else v) for k, v in self.__dict__.items()}


def eta90(oracle: Any, u_norm: tuple[Fraction, Fraction], fraction: Fraction = Fraction(9, 10), start: float = 1.0,
          rel_tol: float = 1e-3, max_doublings: int = 40) -> Eta90:
    """Bisection on dyadic ``q`` for the bracket of :class:`Eta90` (both ends certified facts)."""
    n = len(oracle.y)
    need = -((-fraction * n) // 1)
    grid = 1 << Q_BITS
    lo_q, hi_q = 0, max(1, int(start / float(u_norm[0]) * grid))
    f_hi, _ = oracle.counts(Fraction(hi_q, grid))
    k = 0
    while f_hi < need and k < max_doublings:
        lo_q, hi_q, k = hi_q, hi_q * 2, k + 1
        f_hi, _ = oracle.counts(Fraction(hi_q, grid))
    _, nf_lo = oracle.counts(Fraction(lo_q, grid))
    if f_hi < need:
        return Eta90(False, n, need, Fraction(lo_q, grid), Fraction(hi_q, grid), f_hi, nf_lo,
                     Fraction(lo_q, grid) * u_norm[0], Fraction(hi_q, grid) * u_norm[1])
    while hi_q - lo_q > 1 and (hi_q - lo_q) / hi_q > rel_tol:
        mid = (lo_q + hi_q) // 2
        f, nf = oracle.counts(Fraction(mid, grid))
        if f >= need:
            hi_q, f_hi = mid, f
        elif nf > n - need:
            lo_q, nf_lo = mid, nf
        else:  # neither certified: stop with the certified ends we have
            break
    if nf_lo <= n - need:  # the lower end is not a certified fact
        lo_q = 0
    return Eta90(True, n, need, Fraction(lo_q, grid), Fraction(hi_q, grid), f_hi, nf_lo,
                 Fraction(lo_q, grid) * u_norm[0], Fraction(hi_q, grid) * u_norm[1])


def grid_sigma(opts: Any, d: int) -> Fraction:
    """The grid's noise level (ours): ``sigma * isqrt(d0) / isqrt(d)``."""
    return opts.sigma * Fraction(math.isqrt(opts.d), max(1, math.isqrt(d)))


def law_point(settings: Any, opts: Any, k: int, d: int) -> dict[str, Any]:
    """One grid point: a trained network (width ``law_width * k``, ``law_ratio * k`` points), its
    eta90 bracket, the robust network's certified radii and eta90 of the same ``z``."""
    from proofs.paper_b.data import ClusterModel
    from proofs.paper_b.robust import robust_network, robust_radii
    from proofs.paper_b.train import dataset_of, run_width
    from proofs.paper_b.universal import FlipOracle, eta_for_fraction, u_norm_bracket

    model = ClusterModel(d=d, k=k, sigma=grid_sigma(opts, d), kind=opts.kind, seed=opts.data_seed,
                         balance=opts.balance)
    sample, test = model.train_test(opts.law_ratio * k, min(opts.n_test, 128), opts.data_seed)
    un = u_norm_bracket(model)
    scale = math.sqrt(d / k)
    row: dict[str, Any] = {"k": k, "d": d, "sigma": str(model.sigma), "sqrt_d_over_k": scale,
                           "u_norm": [str(un[0]), str(un[1])]}
    runs = run_width(dataset_of(sample), opts.law_width * k, settings.eta, settings.loss, opts.init_scale,
                     settings.seed, LAW_INITS, settings.steps, opts.per_decade, opts.escalate, settings.prec,
                     settings.max_prec)
    run = next((r for r in runs if r.reached is not None), runs[0])  # the first init reaching the threshold
    row.update(init=run.seed, status=run.summary.status, stopped_at=run.summary.failed_step, reached=run.reached)
    if run.reached is not None:
        oracle = IntervalFlips(run.trajectory.final.params, model.u, test)
        e = eta90(oracle, un, opts.flip_fraction, start=scale)
        row["trained"] = e.to_dict()
        row["trained_mid"] = e.mid if e.found else None
        row["curve"] = flip_curve(oracle, un, scale)
        row["trained_radius"] = trained_radius(oracle, un, scale)
    radii = robust_radii(model, test)
    lows = sorted(float(r.lower) for r in radii if r.lower is not None)
    ups = [float(r.upper) for r in radii if r.upper is not None]
    row["robust_radius_median"] = float(np.median(lows)) if lows else None
    row["robust_attack_median"] = float(np.median(ups)) if ups else None
    rob = eta_for_fraction(FlipOracle.build(robust_network(model), model, test), model, opts.flip_fraction)
    row["robust_eta90"] = [str(rob.eta_lo[0]), str(rob.eta_hi[1])] if rob.found else None
    return row


def flip_curve(oracle: IntervalFlips, un: tuple[Fraction, Fraction], scale: float,
               points: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)) -> list[list[float]]:
    """Certified flip fraction at ``||z|| ~ c sqrt(d/k)`` for each ``c`` (for the collapse figure)."""
    out = []
    grid = 1 << Q_BITS
    for c in points:
        q = Fraction(max(1, int(c * scale / float(un[0]) * grid)), grid)
        f, _ = oracle.counts(q)
        out.append([c, f / len(oracle.y)])
    return out


def trained_radius(oracle: IntervalFlips, un: tuple[Fraction, Fraction], scale: float,
                   steps: int = 48) -> dict[str, Any]:
    """Median over test points of [sound lower bound (:func:`lipschitz_lower`), certified attack
    upper bound]: the smallest ``||z||`` on a geometric grid up to ``4 sqrt(d/k)`` at which ``z = q u``
    certifiably flips the point (``y`` times it, per point)."""
    grid = 1 << Q_BITS
    n = len(oracle.y)
    upper = np.full(n, np.inf)
    for c in np.geomspace(0.05, 4.0, steps):
        q = Fraction(max(1, int(c * scale / float(un[0]) * grid)), grid)
        _, hi = oracle.margins(q)
        eta_hi = float(q * un[1])
        newly = (hi < 0) & ~np.isfinite(upper)
        upper[newly] = _up_float(eta_hi)
    lower = lipschitz_lower(oracle)
    ok = np.isfinite(upper)
    return {"lower_median": float(np.median(lower)), "upper_median": float(np.median(upper)) if ok.all() else None,
            "attacked": int(ok.sum()), "n": n, "sound": bool((lower[ok] <= upper[ok]).all())}


def _up_float(x: float) -> float:
    return float(np.nextafter(x, np.inf))


def fit_slopes(rows: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    """OLS of ``log value = c + beta_k log k + beta_d log d`` with 95% t-intervals (None when the grid
    has too few points)."""
    from scipy import stats

    pts = [(r["k"], r["d"], r[key]) for r in rows if r.get(key)]
    if len(pts) < 4 or len({p[0] for p in pts}) < 2 or len({p[1] for p in pts}) < 2:
        return None
    X = np.array([[1.0, math.log(k), math.log(d)] for k, d, _ in pts])
    yv = np.array([math.log(v) for _, _, v in pts])
    beta, *_ = np.linalg.lstsq(X, yv, rcond=None)
    resid = yv - X @ beta
    dof = len(pts) - 3
    out = {"points": len(pts), "beta_k": float(beta[1]), "beta_d": float(beta[2]), "intercept": float(beta[0])}
    if dof > 0:
        s2 = float(resid @ resid) / dof
        cov = s2 * np.linalg.inv(X.T @ X)
        t = float(stats.t.ppf(0.975, dof))
        for name, i in (("beta_k", 1), ("beta_d", 2)):
            half = t * math.sqrt(max(cov[i, i], 0.0))
            out[f"{name}_ci"] = [float(beta[i]) - half, float(beta[i]) + half]
    return out


def miss(fit: dict[str, Any] | None, name: str, predicted: float) -> float | None:
    """How far ``predicted`` lies outside the fit's 95% interval (0 inside; None without an interval)."""
    if not fit or f"{name}_ci" not in fit:
        return None
    lo, hi = fit[f"{name}_ci"]
    return 0.0 if lo <= predicted <= hi else min(abs(predicted - lo), abs(predicted - hi))


def measure(settings: Any, opts: Any, progress: Any = None) -> dict[str, Any]:
    """Every grid point, the two fits and their misses (see the module doc)."""
    rows = []
    for k in opts.grid_k:
        for d in opts.grid_d:
            if opts.kind == "orthogonal" and (d & -d) < k:
                rows.append({"k": k, "d": d, "skipped": "no orthogonal +-1 family (2-adic part of d < k)"})
                continue
            rows.append(law_point(settings, opts, k, d))
            if progress is not None:
                progress(len(rows))
    trained = fit_slopes(rows, "trained_mid")
    robust = fit_slopes(rows, "robust_radius_median")
    return {"rows": rows, "trained_fit": trained, "robust_fit": robust,
            "misses": {"trained_beta_k": miss(trained, "beta_k", -0.5), "trained_beta_d": miss(trained, "beta_d", 0.5),
                       "robust_beta_k": miss(robust, "beta_k", 0.0), "robust_beta_d": miss(robust, "beta_d", 0.5)}}
