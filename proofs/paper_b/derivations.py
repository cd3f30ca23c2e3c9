"""The sympy derivations paper B's plug-in relies on (each a function returning True when the
identity simplifies to zero; ``tests/test_paper_b_plugin.py`` runs them).

* :func:`euler_two_homogeneous`: ``N`` is 2-homogeneous in ``theta = (w, b, v)`` on an open pattern
  region, so ``<theta, grad_theta N> = 2 N`` (used to rescale to ``theta~ = theta / sqrt(q_min)`` and to
  write ``eps_stat = ||theta - sum_i lambda_i grad q_i(theta)|| / sqrt(q_min)`` in :mod:`bias`).
* :func:`balance_conserved_by_flow`: under gradient flow on any loss of ``y_i N(x_i)``,
  ``d/dt (v_j^2 - ||w_j||^2 - b_j^2) = 0`` (the balance claim's law).
* :func:`balance_gd_increment`: one GD step changes it by ``(dv_j)^2 - ||d(w_j, b_j)||^2`` exactly (so
  GD drifts by O(eta^2) per step: the claim is stated relative to ``||theta||^2``).
* :func:`kkt_balance`: at a KKT point ``v_j^2 = ||w_j||^2 + b_j^2`` (from the stationarity equations).
* :func:`linear_flip_scale`: for orthogonal means, ``y<u, mu_c> = d`` and ``||u|| = sqrt(k d)``, so the
  linear model ``u`` flips at ``d / sqrt(k d) = sqrt(d/k)`` (the law's heuristic, Section 4.1.2).
"""

from __future__ import annotations

import sympy as sp

DIM = 3  # a symbolic neuron in R^3 suffices: the identities are coordinate-wise


def _neuron():
    w = sp.symbols(f"w1:{DIM + 1}", real=True)
    x = sp.symbols(f"x1:{DIM + 1}", real=True)
    b, v = sp.symbols("b v", real=True)
    z = sum(wi * xi for wi, xi in zip(w, x, strict=True)) + b
    return w, x, b, v, z


def euler_two_homogeneous() -> bool:
    w, x, b, v, z = _neuron()
    N = v * z  # the active branch (the inactive one is 0, trivially homogeneous)
    params = (*w, b, v)
    return sp.simplify(sum(p * sp.diff(N, p) for p in params) - 2 * N) == 0


def balance_conserved_by_flow() -> bool:
    w, x, b, v, z = _neuron()
    g = sp.Symbol("g", real=True)  # -dl/dN at the point, any value (sums over points are linear)
    N = v * z
    params = (*w, b, v)
    flow = {p: g * sp.diff(N, p) for p in params}  # d theta/dt = -grad L
    dbal = 2 * v * flow[v] - sum(2 * p * flow[p] for p in (*w, b))
    return sp.simplify(dbal) == 0


def balance_gd_increment() -> bool:
    w, x, b, v, z = _neuron()
    g = sp.Symbol("g", real=True)
    N = v * z
    params = (*w, b, v)
    step = {p: g * sp.diff(N, p) for p in params}
    bal = v**2 - sum(p**2 for p in (*w, b))
    new = (v + step[v]) ** 2 - sum((p + step[p]) ** 2 for p in (*w, b))
    return sp.simplify(new - bal - (step[v] ** 2 - sum(step[p] ** 2 for p in (*w, b)))) == 0


def kkt_balance() -> bool:
    w, x, b, v, z = _neuron()
    lam = sp.Symbol("lam", nonnegative=True)
    # stationarity for one active point: w = lam v x, b = lam v, v = lam z
    wv = [lam * v * xi for xi in x]
    bv = lam * v
    zz = sum(wi * xi for wi, xi in zip(wv, x, strict=True)) + bv
    # v = lam z  =>  v^2 = lam v z = sum_k w_k (lam v x_k) / ... : check v * (lam z) = ||w||^2 + b^2
    return sp.simplify(v * lam * zz - (sum(wi**2 for wi in wv) + bv**2)) == 0


def linear_flip_scale() -> bool:
    d, k = sp.symbols("d k", positive=True)
    margin, grad = d, sp.sqrt(k * d)  # y<u, mu_c> = ||mu_c||^2 = d; ||u||^2 = k d (orthogonal means)
    return sp.simplify(margin / grad - sp.sqrt(d / k)) == 0


DERIVATIONS = {f.__name__: f for f in (euler_two_homogeneous, balance_conserved_by_flow, balance_gd_increment,
                                       kkt_balance, linear_flip_scale)}
