"""A box of two-layer ReLU networks (every parameter in an interval: the enclosure of a certified
training run at one recorded step), certified for *all* its members.

A certified run knows its exact iterate only through enclosures, so a statement about "the trained
network" must hold for every network in the box. :class:`IntervalFlips` evaluates the box with the
record's own interval arithmetic (float64 midpoint-radius with outward error bounds, or Arb balls at
any precision: :class:`verify.dynamics.records.PackedParams`), on the test points ``x_i`` moved by
the universal perturbation ``z = q u`` of Theorem 4.2 (``q = 0``: the points themselves):

    y_i N(x_i - y_i q u) = y_i sum_j v_j relu(P_ij - y_i q C_j),   P = [X, 1] Theta^T,  C = [u, 0] Theta^T,

with ``P`` and ``C`` enclosed once (interval matrix products) and the rest per ``q``. The dependency
between ``P`` and ``C`` (both read ``w_j``) is dropped, which only widens the enclosure.

Invariant: for every network in the box and every test point, the exact ``y_i N(x_i - y_i q u)``
lies in ``[lo_i, hi_i]`` of :meth:`IntervalFlips.margins` (tests re-check members drawn inside the
box with the pure-``Fraction`` forward of :mod:`proofs.paper_b.forward`). So a sign is certified
for every member when the interval is on one side of 0 (``hi < 0``: a flip of every member;
``lo >= 0`` at ``q = 0``: every member classifies the point right or has ``N = 0`` there), and
:func:`lipschitz_lower` is a radius lower bound for every member.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from verify.dynamics.step import data_matrix


class IntervalFlips:
    """Certified flip counts of one enclosed network on one test sample, for ``z = q u``."""

    def __init__(self, params: Any, u: np.ndarray, test: Any) -> None:
        from proofs.paper_b.train import dataset_of

        self.ar = ar = params.ar
        self.params = params
        Theta, self.A = params.arrays()
        self.m = ar.shape(Theta)[0]
        data = dataset_of(test)
        self.y = np.asarray(test.y, dtype=np.float64)
        with ar.working_precision():
            self.P = ar.matmul(data_matrix(ar, data), ar.transpose(Theta))  # (n, m)
            u1 = np.append(np.asarray(u, dtype=np.float64), 0.0)[None, :]
            self.C = ar.matmul(ar.exact(u1), ar.transpose(Theta))  # (1, m)

    def margins(self, q: Fraction) -> tuple[np.ndarray, np.ndarray]:
        """float64 bounds of ``y_i N(x_i - y_i q u)``, every exact value inside."""
        ar = self.ar
        if Fraction(float(q)) != q:
            raise ValueError(f"q = {q} must be exact in float64 (a short dyadic rational)")
        yq = self.y * float(q)  # exact: y = +-1
        with ar.working_precision():
            pre = ar.sub(self.P, ar.mul(ar.exact(yq[:, None]), self.C))
            N = ar.sum(ar.mul(ar.relu(pre), ar.reshape(self.A, (1, self.m))), axis=1)
            lo, hi = ar.bounds(ar.flip(N, self.y > 0))
        return lo, hi

    def counts(self, q: Fraction) -> tuple[int, int]:
        """(certified flips, certified non-flips) at ``z = q u``."""
        lo, hi = self.margins(q)
        return int((hi < 0).sum()), int((lo >= 0).sum())


def lipschitz_lower(oracle: IntervalFlips) -> np.ndarray:
    """Sound per-point lower bounds of the l2 radius of an enclosed network: ``y N(x)`` (lower end)
    over ``Lip = sum_j |v_j| ||w_j||`` (upper end; |N(x + delta) - N(x)| <= Lip ||delta||), floats
    rounded outward; 0 where ``y N(x)`` is not certified positive."""
    ar = oracle.ar
    lo, _ = oracle.margins(Fraction(0))
    Theta, A = oracle.params.arrays()
    with ar.working_precision():
        W = ar.take(ar.transpose(Theta), slice(0, ar.shape(Theta)[1] - 1))  # (d, m): drop the bias row
        w2 = ar.sum(ar.mul(W, W), axis=0)  # (m,)
        _, w2_hi = ar.bounds(w2)
        a_lo, a_hi = ar.bounds(A)
    a_abs = np.maximum(np.abs(a_lo), np.abs(a_hi))
    norms = np.array([math.nextafter(math.sqrt(math.nextafter(float(v), math.inf)), math.inf) for v in w2_hi])
    lip = 0.0
    for a, nrm in zip(a_abs.tolist(), norms.tolist(), strict=True):  # sum rounded up term by term
        lip = math.nextafter(lip + math.nextafter(a * nrm, math.inf), math.inf)
    out = np.where(lo > 0, lo, 0.0) / lip
    return np.nextafter(out, -np.inf).clip(min=0.0)
