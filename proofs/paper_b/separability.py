"""Lemma 2.1 (separability): an exact linear separator of a training set, and the witness u.

**Certificate (ours, the check exact).** scipy's LP (HiGHS) maximizes the margin t subject to
y_i(<w, x_i> + b) >= t, |w|_inf <= 1 (or, when n < d, w = X^T alpha with |alpha|_inf <= 1), on the
exact float copy of the data. Its (w, b) is rounded to
dyadic rationals ``w = wnum / 2**B``; the margins y_i(<w, x_i> + b) are then computed exactly as
integers. If all are > 0, dividing (w, b) by the smallest margin (an exact rational) gives a
separator with min_i y_i(<w, x_i> + b) == 1 exactly: **certified**. The LP is only a guess; a failed
guess is **inconclusive** (float evidence never refutes separability).

**Witness (text: the direction; ours: the check).** u = sum_j y_j mu_j (integer vector). The margins
y_i<u, x_i> are exact rationals; the heuristic value is about d. ``check_witness`` certifies
y_i<u, x_i> > threshold for all i, or refutes it with the exact smallest counterexample.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.optimize import linprog

from proofs.paper_b.data import ClusterModel, ClusterSample
from proofs.paper_b.intmath import int_matmul

ROUND_BITS = 24


@dataclass(frozen=True, eq=False)
class Separator:
    """A rational separator ``w = scale * wnum``, ``b = scale * bnum`` (scale > 0).

    ``status`` is ``"certified"`` (min margin == ``min_margin`` >= 1 checked exactly) or
    ``"inconclusive"`` (``reason`` says why); ``min_margin`` is exact.
    """

    status: str
    wnum: np.ndarray | None
    bnum: int
    scale: Fraction
    min_margin: Fraction | None
    reason: str = ""

    @property
    def w(self) -> tuple[Fraction, ...]:
        return tuple(self.scale * int(a) for a in self.wnum)

    @property
    def b(self) -> Fraction:
        return self.scale * self.bnum


def exact_margins(sample: ClusterSample, wnum: np.ndarray, bnum: int) -> tuple[np.ndarray, int]:
    """y_i(<wnum, x_i> + bnum) * 2**grid_bits as exact integers (numerators over ``2**grid_bits``)."""
    raw = np.asarray(int_matmul(sample.Xint, np.asarray(wnum).reshape(-1, 1)), dtype=object)[:, 0]
    y = np.asarray(sample.y, dtype=object)
    return y * (raw + bnum * sample.denominator), sample.denominator


def _max_margin_lp(feats: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """max t s.t. y_i(<c, f_i> + b) >= t, |c|_inf <= 1, by HiGHS; returns (c, b, t)."""
    n, p = feats.shape
    a_ub = np.hstack([-y[:, None] * feats, -y[:, None], np.ones((n, 1))])
    cost = np.zeros(p + 2)
    cost[-1] = -1.0
    bounds = [(-1.0, 1.0)] * p + [(None, None), (None, 1e6)]
    res = linprog(cost, A_ub=a_ub, b_ub=np.zeros(n), bounds=bounds, method="highs")
    if res.status != 0 or res.x is None:
        return np.zeros(p), 0.0, float("-inf")
    return res.x[:p], float(res.x[p]), float(res.x[p + 1])


def lp_candidate(sample: ClusterSample) -> tuple[np.ndarray, float, float]:
    """The float max-margin LP: (w, b, t) (a guess, never a certificate).

    With n < d the LP is solved in the span of the data, w = X^T alpha with |alpha|_inf <= 1
    (n + 2 variables on the Gram matrix instead of d + 2): the same separability question, far
    smaller; otherwise on w itself with |w|_inf <= 1.
    """
    y = np.asarray(sample.y, dtype=np.float64)
    xf = sample.Xf
    if sample.n < sample.d:
        alpha, b, t = _max_margin_lp(xf @ xf.T, y)
        return xf.T @ alpha, b, t
    return _max_margin_lp(xf, y)


def certify_separable(sample: ClusterSample, bits: int = ROUND_BITS) -> Separator:
    """An exact separator of ``sample`` with min_i y_i(<w, x_i> + b) == 1, or inconclusive."""
    w, b, t = lp_candidate(sample)
    if not np.isfinite(t) or t <= 0:
        return Separator("inconclusive", None, 0, Fraction(0), None, f"LP margin t={t:.3g} <= 0 (floats)")
    wnum = np.rint(w * 2.0**bits).astype(np.int64)
    bnum = Fraction(b).limit_denominator(2**bits)
    # common denominator: w = wnum / 2**bits, b = bnum; scale everything to integers over bden
    bden = bnum.denominator
    wnum_i = wnum.astype(object) * bden
    bnum_i = bnum.numerator * 2**bits
    margins, den = exact_margins(sample, wnum_i, bnum_i)
    low = min(margins)
    if low <= 0:
        i = int(np.argmin(margins))
        return Separator("inconclusive", None, 0, Fraction(0), Fraction(int(low), den),
                         f"rounded LP candidate has margin {Fraction(int(low), den)} <= 0 at point {i}")
    # (w, b) = (wnum_i, bnum_i) / (2**bits * bden); margin_i = margins_i / den / (2**bits * bden)
    raw_min = Fraction(int(low), den * 2**bits * bden)
    scale = 1 / (raw_min * 2**bits * bden)  # divide by the min margin: min margin becomes exactly 1
    wn = np.asarray(wnum_i, dtype=object)
    out = Separator("certified", wn, int(bnum_i), scale, Fraction(1))
    return out


def recheck_separator(sample: ClusterSample, sep: Separator) -> Fraction:
    """min_i y_i(<w, x_i> + b) in pure Fractions (independent of the integer path)."""
    w, b = sep.w, sep.b
    best = None
    for i in range(sample.n):
        x = sample.row(i)
        m = sample.y[i] * (sum((a * c for a, c in zip(w, x, strict=True)), Fraction(0)) + b)
        best = m if best is None or m < best else best
    return best


@dataclass(frozen=True)
class WitnessCheck:
    """y_i<u, x_i> against a threshold: certified (all above) or refuted (``counterexample`` index).

    ``min_margin`` is the exact min_i y_i<u, x_i>; ``over_d`` = min_margin / d (heuristic ~ 1).
    """

    status: str
    threshold: Fraction
    min_margin: Fraction
    over_d: Fraction
    n_at_or_below: int
    counterexample: int | None


def witness_margins(model: ClusterModel, sample: ClusterSample, direction: np.ndarray | None = None) -> list[Fraction]:
    """y_i<u, x_i> exactly, for u = sum_j y_j mu_j (or a given integer ``direction``)."""
    u = model.u if direction is None else np.asarray(direction)
    raw = np.asarray(int_matmul(sample.Xint, u.reshape(-1, 1)), dtype=object)[:, 0]
    return [Fraction(int(y * r), sample.denominator) for y, r in zip(sample.y, raw, strict=True)]


def check_witness(model: ClusterModel, sample: ClusterSample, threshold: Fraction | int = 0,
                  direction: np.ndarray | None = None) -> WitnessCheck:
    """Certify min_i y_i<u, x_i> > threshold exactly, or refute it at the smallest failing index."""
    threshold = Fraction(threshold)
    margins = witness_margins(model, sample, direction)
    low = min(margins)
    bad = [i for i, m in enumerate(margins) if m <= threshold]
    status = "certified" if not bad else "refuted"
    return WitnessCheck(status, threshold, low, low / model.d, len(bad), bad[0] if bad else None)
