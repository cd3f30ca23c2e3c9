"""Theorem 4.2: one universal perturbation z = eta * u / ||u|| flips sign N(x - y z) on most test points.

**z exactly rational (ours).** u = sum_j y_j mu_j is an integer vector; ||u|| = sqrt(u.u) is usually
irrational, so z is taken as ``z = q * u`` with a dyadic ``q = qnum / 2**Q`` close to eta/||u||, and
its norm is bracketed: ||z|| in [q * lo, q * hi] with lo <= sqrt(u.u) <= hi rational.

**Flips certified exactly.** A flip of test point (x, y) is y N(x - y z) < 0 (strictly; an exact zero
is not a flip). Pre-activations are affine in q:  <w_j, x - y q u> + b_j = P_ij - y_i q <w_j, u>,
so with P and C_j = <w_j, u> computed once as exact integers, each q costs O(n m) integer operations.

``eta_for_fraction`` bisects q (dyadic) for the smallest perturbation flipping a given fraction of
the test points (default 0.9): at ``q_hi`` at least that many flips are certified, at ``q_lo`` the
exact count is below it (the count need not be monotone in q; both ends are exact facts).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from proofs.paper_b.data import ClusterModel, ClusterSample
from proofs.paper_b.intmath import int_matmul, sqrt_bracket
from proofs.paper_b.net import TwoLayerNet

Q_BITS = 40


def u_norm_bracket(model: ClusterModel, bits: int = 64) -> tuple[Fraction, Fraction]:
    """lo <= ||u|| <= hi for u = sum_j y_j mu_j."""
    u = np.asarray(model.u, dtype=object)
    return sqrt_bracket(int((u * u).sum()), bits)


@dataclass(frozen=True, eq=False)
class FlipOracle:
    """Exact flip counts of one network on one test sample, for any z = q u (q dyadic)."""

    net: TwoLayerNet
    pnum: np.ndarray  # (n, m) pre-activation numerators at the test points, over pden
    pden: int
    cnum: np.ndarray  # (m,) numerators of <w_j, u>, over w_den
    y: np.ndarray  # (n,) labels as Python ints
    x_b_den: int  # pden / w_den

    @classmethod
    def build(cls, net: TwoLayerNet, model: ClusterModel, sample: ClusterSample) -> FlipOracle:
        pnum, pden = net.preacts(sample.Xint, sample.denominator)
        cnum = np.asarray(int_matmul(np.asarray(net.Wnum), np.asarray(model.u).reshape(-1, 1)), dtype=object)[:, 0]
        return cls(net, np.asarray(pnum, dtype=object), pden, cnum, np.asarray(sample.y, dtype=object),
                   sample.denominator * net.b_den)

    def margins_num(self, qnum: int, qbits: int = Q_BITS) -> np.ndarray:
        """Numerators (over a positive common denominator) of y_i N(x_i - y_i q u), q = qnum / 2**qbits."""
        shift = np.outer(self.y * (qnum * self.x_b_den), self.cnum)
        pre = self.pnum * (1 << qbits) - shift
        relu = np.where(pre > 0, pre, 0)
        return self.y * relu.dot(np.asarray(self.net.vnum, dtype=object))

    def flips(self, qnum: int, qbits: int = Q_BITS) -> np.ndarray:
        """Boolean mask: y_i N(x_i - y_i z) < 0 (certified, exact) for z = (qnum / 2**qbits) u."""
        return np.asarray(self.margins_num(qnum, qbits) < 0, dtype=bool)

    def perturbed_point(self, sample: ClusterSample, model: ClusterModel, i: int, qnum: int,
                        qbits: int = Q_BITS) -> list[Fraction]:
        """x_i - y_i z as exact Fractions (for the independent re-check)."""
        q = Fraction(qnum, 1 << qbits)
        x = sample.row(i)
        yi = sample.y[i]
        return [a - yi * q * int(c) for a, c in zip(x, model.u, strict=True)]


def q_for_eta(eta: Fraction, model: ClusterModel, qbits: int = Q_BITS) -> int:
    """qnum with q = qnum / 2**qbits >= eta / ||u|| (so ||z|| >= eta), the smallest such dyadic."""
    lo, _ = u_norm_bracket(model)
    return -((-Fraction(eta) * (1 << qbits)) // lo)


def z_norm_bracket(qnum: int, model: ClusterModel, qbits: int = Q_BITS) -> tuple[Fraction, Fraction]:
    """||z|| in [lo, hi] for z = (qnum / 2**qbits) u."""
    lo, hi = u_norm_bracket(model)
    q = Fraction(qnum, 1 << qbits)
    return q * lo, q * hi


@dataclass(frozen=True)
class EtaResult:
    """The bisection's two exact facts and the norms of z at both ends.

    At ``qnum_hi``: ``flips_hi >= ceil(target * n)`` certified flips, with ||z|| in ``eta_hi``.
    At ``qnum_lo``: ``flips_lo`` < that (exact), ||z|| in ``eta_lo``. ``found`` is False when no q up to
    the search cap reached the target (then only the lower end is meaningful).
    """

    found: bool
    n: int
    target: Fraction
    qnum_lo: int
    qnum_hi: int
    flips_lo: int
    flips_hi: int
    eta_lo: tuple[Fraction, Fraction]
    eta_hi: tuple[Fraction, Fraction]


def eta_for_fraction(oracle: FlipOracle, model: ClusterModel, target: Fraction = Fraction(9, 10),
                     start: Fraction | None = None, rel_tol: Fraction = Fraction(1, 1000),
                     max_doublings: int = 24, qbits: int = Q_BITS) -> EtaResult:
    """Smallest dyadic q (to ``rel_tol``) with at least ``target * n`` certified flips, by bisection."""
    n = len(oracle.y)
    need = -((-Fraction(target) * n) // 1)
    if start is None:
        start = sqrt_bracket(Fraction(model.d, model.k), 32)[1]  # about sqrt(d/k): the law's scale
    lo_q, hi_q = 0, max(1, q_for_eta(start, model, qbits))
    f_lo = int(oracle.flips(lo_q, qbits).sum())
    if f_lo >= need:
        return EtaResult(True, n, Fraction(target), 0, 0, f_lo, f_lo, (Fraction(0),) * 2, (Fraction(0),) * 2)
    f_hi = int(oracle.flips(hi_q, qbits).sum())
    doublings = 0
    while f_hi < need and doublings < max_doublings:
        lo_q, f_lo = hi_q, f_hi
        hi_q *= 2
        f_hi = int(oracle.flips(hi_q, qbits).sum())
        doublings += 1
    if f_hi < need:
        return EtaResult(False, n, Fraction(target), hi_q, hi_q, f_hi, f_hi, z_norm_bracket(hi_q, model, qbits),
                         z_norm_bracket(hi_q, model, qbits))
    while hi_q - lo_q > 1 and Fraction(hi_q - lo_q, hi_q) > rel_tol:
        mid = (lo_q + hi_q) // 2
        f_mid = int(oracle.flips(mid, qbits).sum())
        if f_mid >= need:
            hi_q, f_hi = mid, f_mid
        else:
            lo_q, f_lo = mid, f_mid
    return EtaResult(True, n, Fraction(target), lo_q, hi_q, f_lo, f_hi, z_norm_bracket(lo_q, model, qbits),
                     z_norm_bracket(hi_q, model, qbits))


def flip_counts(nets: list[TwoLayerNet], model: ClusterModel, sample: ClusterSample, eta: Fraction,
                qbits: int = Q_BITS) -> tuple[list[int], tuple[Fraction, Fraction]]:
    """Certified flip counts of the *same* z (||z|| >= eta, bracket returned) against every net."""
    qnum = q_for_eta(eta, model, qbits)
    counts = [int(FlipOracle.build(net, model, sample).flips(qnum, qbits).sum()) for net in nets]
    return counts, z_norm_bracket(qnum, model, qbits)


def label_mean_network(sample: ClusterSample) -> TwoLayerNet:
    """A width-2 reference network (ours; not a KKT certificate): relu(<m+, x>) - relu(<m-, x>), m+- the
    sums of the training points of each label. Its neurons mix all clusters of a label, like the
    KKT points of Theorem 4.2, so it is flipped at ||z|| of order sqrt(d/k)."""
    y = np.asarray(sample.y)
    wpos = np.asarray(sample.Xint[y == 1], dtype=object).sum(axis=0)
    wneg = np.asarray(sample.Xint[y == -1], dtype=object).sum(axis=0)
    W = np.vstack([wpos, wneg])
    return TwoLayerNet(W, sample.denominator, np.zeros(2, dtype=np.int64), 1, np.array([1, -1], dtype=np.int64), 1)
