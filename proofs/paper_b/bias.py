"""Theorem 2.1 (Lyu & Li 2020; Ji & Telgarsky 2020) on certified runs: the margins, the approximate
KKT point of Problem (2), and the neuron balance, from the enclosures of each recorded step.

For ``theta = (w, b, v)`` at a recorded step (``v`` is the engine's ``a``) and ``q_i = y_i N(x_i)``:

* the normalized margin ``gamma(theta) = min_i q_i / ||theta||^2`` (N is 2-homogeneous);
* the smoothed margin **(Lyu & Li)** ``gamma~ = log(1/(n L)) / ||theta||^2`` for the exponential loss
  and ``log(1/(exp(n L) - 1)) / ||theta||^2`` for the logistic loss (``L`` the mean loss), which
  Lyu & Li prove non-decreasing once ``n L < l(0)``; ``gamma~ <= gamma``;
* the approximate KKT point: ``theta~ = theta / sqrt(q_min)`` is feasible for
  ``min 1/2 ||theta||^2 s.t. q_i(theta) >= 1`` with ``min_i q_i(theta~) = 1``. For multipliers
  ``lambda >= 0`` (a candidate from :func:`scipy.optimize.nnls`, then taken as exact doubles) the
  stationarity residual is ``eps_stat = ||theta~ - sum_i lambda_i grad q_i(theta~)||
  = ||theta - sum_i lambda_i grad q_i(theta)|| / sqrt(q_min)`` (``grad q_i`` is 1-homogeneous) and the
  complementary slackness ``eps_cs = sum_i lambda_i (q_i / q_min - 1)``; ``eps = max(eps_stat, eps_cs)``
  (Lyu & Li's (eps, delta)-KKT, one number). ``grad q_i`` uses the certified pattern with
  ``relu'(0) = 0`` (inside the Clarke subdifferential ``[0, 1]``); a pre-activation whose sign the
  enclosure does not decide makes the step undecided (:class:`~verify.errors.UndecidableError`).
  Any ``lambda`` gives an upper bound of the best eps, ``eps*(theta~) = inf over lambda >= 0 (and
  Clarke gradients) of max(eps_stat, eps_cs)``. A **lower bound** (a dual certificate) bounds it from
  below: ``eps* >= dist(theta~, cone{grad q_i})``, and for any ``z`` with ``<z, grad q_i> <= 0`` for
  every ``i``, ``||theta~ - sum_i lambda_i grad q_i|| >= <z, theta~ - sum_i lambda_i grad q_i> / ||z||
  >= <z, theta~> / ||z||``. We take ``z = r - tau theta`` with ``r`` the (floating) residual at the
  nnls ``lambda`` and ``tau >= 0`` just large enough that ``<z, grad q_i> = <r, grad q_i> - 2 tau q_i
  <= 0`` (Euler: ``<theta, grad q_i(theta)> = 2 q_i``, ``q_i > 0``), then check ``<z, grad q_i> <= 0``
  and bound ``<z, theta>`` below and ``||z||`` above in the record's interval arithmetic; it is
  computed only when every pre-activation is certified nonzero (each ``grad q_i`` unique), so it
  holds for every Clarke choice;
* the balance ``c_j = v_j^2 - ||w_j||^2 - b_j^2``: conserved by gradient flow, changed by GD by
  ``(dv_j)^2 - ||d(w_j, b_j)||^2`` per step; at a KKT point ``c_j = 0``. We report
  ``max_j |c_j| / ||theta||^2`` (which tends to 0 as ``||theta||`` grows).

Invariant: every bound here is rigorous for every parameter vector in the record's enclosure: the
sums and products are those of the record's own interval arithmetic (float64 midpoint-radius with
outward error bounds, or Arb), and every comparison is made on exact rationals read from outward
bounds. Only ``lambda`` comes from floating point, and any ``lambda >= 0`` gives a valid bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from verify.dynamics.step import data_matrix
from verify.dynamics.trajectory import StepRecord, Trajectory
from verify.errors import UndecidableError
from verify.model.network import Problem


def _up(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) >= q else math.nextafter(f, math.inf)


def _down(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) <= q else math.nextafter(f, -math.inf)


def sqrt_up(q: Fraction) -> Fraction:
    """A rational upper bound of ``sqrt(q)`` (q >= 0): the correctly rounded root of an upper double,
    one ulp up."""
    return Fraction(math.nextafter(math.sqrt(_up(q)), math.inf))


def _log_bounds(lo: Fraction, hi: Fraction, logistic: bool) -> tuple[Fraction, Fraction]:
    """Bounds of ``-log(x)`` (or ``-log(expm1(x))``) over ``x in [lo, hi]``, ``lo > 0`` (decreasing)."""
    from flint import arb, ctx

    from verify.arith.arb_backend import ArbBackend

    be = ArbBackend(128)
    old = ctx.prec
    ctx.prec = 128
    try:
        def f(x: Fraction):
            a = arb(x.numerator) / x.denominator
            return -((a.exp() - 1).log() if logistic else a.log())

        return be.lower(f(hi)), be.upper(f(lo))
    finally:
        ctx.prec = old


@dataclass(frozen=True)
class StepBias:
    """Theorem-2.1 quantities at one recorded step, as exact rational bounds (``*_lo <= x <= *_hi``)."""

    t: int
    loss_hi: Fraction
    qmin_lo: Fraction
    qmin_hi: Fraction
    norm2_lo: Fraction
    norm2_hi: Fraction
    margin_lo: Fraction  # normalized margin min q / ||theta||^2
    margin_hi: Fraction
    smoothed_lo: Fraction | None  # the smoothed margin (None when n L >= l(0) is not excluded)
    smoothed_hi: Fraction | None
    eps_hi: Fraction | None  # upper bound of the KKT eps (None: not computed)
    eps_stat_hi: Fraction | None
    eps_cs_hi: Fraction | None
    eps_lo: Fraction | None  # lower bound of the best KKT eps, the dual certificate (None: not computed)
    balance_lo: Fraction  # max_j |v_j^2 - ||w_j||^2 - b_j^2| / ||theta||^2, lower bound
    balance_hi: Fraction  # ... upper bound
    balance_abs_hi: Fraction  # max_j |v_j^2 - ||w_j||^2 - b_j^2|, upper bound

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Fraction) else v) for k, v in self.__dict__.items()}


def _frac(x: float) -> Fraction:
    return Fraction(float(x))


def step_bias(problem: Problem, record: StepRecord, loss_hi: Fraction, loss_lo: Fraction,
              kkt: bool = True) -> StepBias:
    """The quantities of the module doc at ``record`` (a trajectory record with packed parameters)."""
    params = record.params
    if params is None:
        raise ValueError("paper B reads packed records (the matrix engine's or Arb's)")
    ar = params.ar
    Theta, A = params.arrays()
    data = problem.data
    n, m = data.n, problem.network.width
    y_pos = data.labels > 0
    with ar.working_precision():
        X1 = data_matrix(ar, data)
        Z = ar.matmul(X1, ar.transpose(Theta))  # (n, m)
        pos, nonpos = ar.decide(Z)
        if not (pos | nonpos).all():
            i, j = np.argwhere(~(pos | nonpos))[0]
            raise UndecidableError(f"the sign of the pre-activation of neuron {j + 1} at x_{i + 1} is undecided "
                                   f"at step {record.t}")
        H = ar.where(pos, Z, ar.zeros(()))
        a_row = ar.reshape(A, (1, m))
        N = ar.sum(ar.mul(H, a_row), axis=1)
        q = ar.flip(N, y_pos)
        sq = ar.mul(Theta, Theta)
        row2 = ar.sum(sq, axis=1)  # (m,) ||w_j||^2 + b_j^2
        a2 = ar.mul(A, A)
        norm2 = ar.add(ar.sum(row2, axis=0), ar.sum(a2, axis=0))
        bal = ar.sub(a2, row2)
        q_lo, q_hi = ar.bounds(q)
        n_lo, n_hi = ar.bounds(norm2)
        b_lo, b_hi = ar.bounds(bal)
    qmin_lo, qmin_hi = _frac(np.min(q_lo)), _frac(np.min(q_hi))
    norm2_lo, norm2_hi = _frac(n_lo), _frac(n_hi)
    if norm2_lo <= 0:
        raise UndecidableError(f"||theta||^2 is not certified positive at step {record.t}")
    if qmin_lo >= 0:
        margin = (qmin_lo / norm2_hi, qmin_hi / norm2_lo)
    else:
        margin = (qmin_lo / norm2_lo, qmin_hi / norm2_lo if qmin_hi >= 0 else qmin_hi / norm2_hi)
    bal_abs = max(_frac(np.max(np.abs(b_lo))), _frac(np.max(np.abs(b_hi))))
    # a lower bound of max_j |c_j|: |c_j| >= the distance of [lo_j, hi_j] from 0
    bal_low = _frac(np.max(np.where(b_lo > 0, b_lo, np.where(b_hi < 0, -b_hi, 0.0))))
    logistic = problem.network.loss == "logistic"
    smoothed = (None, None)
    level = 1 if not logistic else None
    nl_lo, nl_hi = n * loss_lo, n * loss_hi
    if loss_lo > 0 and ((level is not None and nl_hi < 1) or (logistic and nl_hi < Fraction(6931, 10000))):
        lg_lo, lg_hi = _log_bounds(nl_lo, nl_hi, logistic)  # lg_lo > 0 here
        smoothed = (lg_lo / norm2_hi, lg_hi / norm2_lo)
    eps = (None, None, None, None)
    if kkt and qmin_lo > 0:
        eps = _kkt_eps(ar, X1, Theta, A, Z, H, pos, q_lo, q_hi, qmin_lo, qmin_hi, y_pos)
    return StepBias(record.t, loss_hi, qmin_lo, qmin_hi, norm2_lo, norm2_hi, margin[0], margin[1], smoothed[0],
                    smoothed[1], *eps, bal_low / norm2_hi, bal_abs / norm2_lo, bal_abs)


def nnls_multipliers(X1m: np.ndarray, Theta: np.ndarray, A: np.ndarray, act: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Candidate multipliers ``lambda >= 0`` minimizing ``||theta - sum_i lambda_i grad q_i(theta)||``
    (floating point; any nonnegative result is fine for the rigorous bound). Solved through the
    ``n x n`` Gram matrix ``K = G^T G`` and ``c = G^T theta`` (``G`` is never formed)."""
    from scipy.optimize import nnls

    H = np.where(act, X1m @ Theta.T, 0.0)  # (n, m)
    S = act * A[None, :]  # (n, m): v_j act_ij
    K = (S @ S.T) * (X1m @ X1m.T) + H @ H.T
    K = K * np.outer(y, y)
    c = y * (np.einsum("ij,jk,ik->i", S, Theta, X1m) + H @ A)
    scale = max(np.trace(K) / len(y), 1e-300)
    w, V = np.linalg.eigh(K / scale)
    w = np.clip(w, 1e-14 * max(w.max(), 1e-300), None)
    R = (V * np.sqrt(w)).T  # R^T R ~ K / scale
    rhs = (V.T @ (c / scale)) / np.sqrt(w)
    lam, _ = nnls(R, rhs, maxiter=50 * len(y))
    return np.maximum(lam, 0.0)


def _kkt_eps(ar, X1, Theta, A, Z, H, act, q_lo, q_hi, qmin_lo, qmin_hi, y_pos):
    """Rigorous upper bounds of ``(eps, eps_stat, eps_cs)`` and the lower bound of the best eps
    (module doc)."""
    y = np.where(y_pos, 1.0, -1.0)
    Tm, Am = _mids(ar, Theta), _mids(ar, A)
    X1m = _mids(ar, X1)
    lam = nnls_multipliers(X1m, Tm, Am, act, y)
    lower = kkt_eps_lower(ar, X1, Theta, A, Z, H, act, y, dual_direction(X1m, Tm, Am, act, y, lam), q_lo, qmin_hi)
    with ar.working_precision():
        ly = ar.exact(lam * y)  # exact doubles: lambda_i y_i
        n, m = act.shape
        D = ar.where(act, ar.reshape(ly, (n, 1)), ar.zeros(()))  # (n, m): lambda_i y_i act_ij
        GW = ar.mul(ar.reshape(A, (m, 1)), ar.matmul(ar.transpose(D), X1))  # (m, d + 1)
        GA = ar.reshape(ar.matmul(ar.transpose(H), ar.reshape(ly, (n, 1))), (m,))
        rT, rA = ar.sub(Theta, GW), ar.sub(A, GA)
        r2 = ar.add(ar.sum(ar.sum(ar.mul(rT, rT), axis=1), axis=0), ar.sum(ar.mul(rA, rA), axis=0))
        _, r2_hi = ar.bounds(r2)
    r2_hi = _frac(r2_hi)
    eps_stat = sqrt_up(r2_hi / qmin_lo)
    eps_cs = sum((Fraction(float(li)) * (_frac(qh) / qmin_lo - 1) for li, qh in zip(lam, q_hi, strict=True) if li > 0),
                 Fraction(0))
    eps_cs = max(eps_cs, Fraction(0))
    return max(eps_stat, eps_cs), eps_stat, eps_cs, lower


def dual_direction(X1m: np.ndarray, Tm: np.ndarray, Am: np.ndarray, act: np.ndarray, y: np.ndarray,
                   lam: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | None:
    """The residual ``r = theta - sum_i lambda_i grad q_i`` at the midpoints (floating point) and the
    ``tau`` making ``<r - tau theta, grad q_i> <= 0`` there (module doc); None when some midpoint
    ``q_i <= 0``."""
    Hm = np.where(act, X1m @ Tm.T, 0.0)
    ly = lam * y
    rT = Tm - Am[:, None] * (np.where(act, ly[:, None], 0.0).T @ X1m)
    rA = Am - Hm.T @ ly
    delta = y * (np.einsum("ij,j,ij->i", act.astype(np.float64), Am, X1m @ rT.T) + Hm @ rA)  # <r, grad q_i>
    qm = y * (Hm @ Am)
    if (qm <= 0).any():
        return None
    return rT, rA, max(0.0, float(np.max(delta / (2 * qm))))


def kkt_eps_lower(ar, X1, Theta, A, Z, H, act, y, candidate, q_lo: np.ndarray, qmin_hi: Fraction,
                  tries: int = 4) -> Fraction | None:
    """A rational ``<= dist(theta~, cone{grad q_i(theta~)}) <= eps*(theta~)`` for every ``theta`` in the
    enclosure, from ``z = r - tau theta_mid`` (``candidate = (r_Theta, r_A, tau)``, module doc); ``tau``
    grows while ``<z, grad q_i> <= 0`` is not certified for every ``i`` (at most ``tries`` times).
    None when a pre-activation is not certified nonzero, or no ``z`` was certified."""
    if candidate is None or (np.asarray(q_lo) <= 0).any():
        return None
    rT, rA, tau = candidate
    Tm, Am = _mids(ar, Theta), _mids(ar, A)
    n, m = act.shape
    with ar.working_precision():
        _, z_hi = ar.bounds(Z)
    if not (act | (z_hi < 0)).all():
        return None  # some pre-activation may be 0: the Clarke gradient is not unique there
    scale = float(np.sqrt((rT * rT).sum() + (rA * rA).sum()) / np.sqrt((Tm * Tm).sum() + (Am * Am).sum()))
    tau = tau * 1.001 + 1e-12 * scale
    for _ in range(tries):
        zT, zA = rT - tau * Tm, rA - tau * Am
        with ar.working_precision():
            ZT, ZA = ar.exact(zT), ar.exact(zA)
            M = ar.matmul(X1, ar.transpose(ZT))  # (n, m): <z_j, (x_i, 1)>
            t1 = ar.sum(ar.mul(ar.where(act, M, ar.zeros(())), ar.reshape(A, (1, m))), axis=1)
            t2 = ar.reshape(ar.matmul(H, ar.reshape(ZA, (m, 1))), (n,))
            _, g_hi = ar.bounds(ar.flip(ar.add(t1, t2), y > 0))  # <z, grad q_i>, upper ends
        if (g_hi <= 0).all():
            break
        # <z - s theta, grad q_i> ~ <z, grad q_i> - 2 s q_i: double tau and add twice the worst point's need
        need = float(np.max(np.maximum(g_hi, 0.0) / (2.0 * np.asarray(q_lo, dtype=np.float64))))
        tau = 2.0 * tau + 2.0 * need
    else:
        return None
    with ar.working_precision():
        zt = ar.add(ar.sum(ar.sum(ar.mul(ZT, Theta), axis=1), axis=0), ar.sum(ar.mul(ZA, A), axis=0))
        z2 = ar.add(ar.sum(ar.sum(ar.mul(ZT, ZT), axis=1), axis=0), ar.sum(ar.mul(ZA, ZA), axis=0))
        zt_lo, _ = ar.bounds(zt)
        _, z2_hi = ar.bounds(z2)
    zt_lo = _frac(zt_lo)
    if zt_lo <= 0:
        return Fraction(0)
    # dist(theta, cone) >= <z, theta> / ||z||; theta~ = theta / sqrt(q_min) and the cone is the same
    return zt_lo / (sqrt_up(_frac(z2_hi)) * sqrt_up(qmin_hi))


def _mids(ar, a) -> np.ndarray:
    lo, hi = ar.bounds(a)
    return (np.asarray(lo, dtype=np.float64) + np.asarray(hi, dtype=np.float64)) / 2


def trajectory_bias(traj: Trajectory, from_t: int | None = None, kkt_points: int = 8) -> list[StepBias]:
    """:func:`step_bias` at every record with ``t >= from_t`` (default: all), the KKT eps at about
    ``kkt_points`` of them (log-spaced among the records, and the last)."""
    recs = [r for r in traj.records if from_t is None or r.t >= from_t]
    be = traj.backend
    if not recs:
        return []
    idx = set(np.unique(np.round(np.geomspace(1, len(recs), num=max(kkt_points, 1))).astype(int) - 1).tolist())
    idx.add(len(recs) - 1)
    out = []
    for k, rec in enumerate(recs):
        out.append(step_bias(traj.problem, rec, Fraction(be.upper(rec.loss)), Fraction(be.lower(rec.loss)),
                             kkt=k in idx))
    return out


def monotone_verdict(values: list[tuple[int, Fraction, Fraction]], increasing: bool = True) -> tuple[str, str]:
    """``certified`` when each next value's lower end is at least the previous value's upper end
    (non-decreasing certified; mirrored for non-increasing), ``refuted`` when some pair is certified
    to go the wrong way, else ``inconclusive``; with a sentence naming the steps."""
    undecided = None
    for (t0, lo0, hi0), (t1, lo1, hi1) in zip(values, values[1:], strict=False):
        if increasing:
            if hi1 < lo0:
                return "refuted", f"decreases from step {t0} to step {t1}: [{float(lo1):.6g}, {float(hi1):.6g}] < " \
                                  f"[{float(lo0):.6g}, {float(hi0):.6g}]"
            if lo1 < hi0 and undecided is None:
                undecided = (t0, t1)
        else:
            if lo1 > hi0:
                return "refuted", f"increases from step {t0} to step {t1}: [{float(lo1):.6g}, {float(hi1):.6g}] > " \
                                  f"[{float(lo0):.6g}, {float(hi0):.6g}]"
            if hi1 > lo0 and undecided is None:
                undecided = (t0, t1)
    if undecided is not None:
        return "inconclusive", f"the enclosures at steps {undecided[0]} and {undecided[1]} overlap"
    return "certified", f"over {len(values)} recorded steps"
