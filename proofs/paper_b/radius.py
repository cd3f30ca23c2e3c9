"""Certified l2 robustness radius of a two-layer ReLU net at a point, as a bracket [lower, upper].

**Lower bound (sound, exact rationals).** Let p_j be the exact pre-activations at x, s_j = y v_j, and
c_j >= ||w_j|| a rational upper bound (an exact sqrt when ||w_j||^2 is a square). A perturbation of
norm r moves p_j by at most r ||w_j|| <= r c_j, each neuron on its own, so

    y N(x + delta) >= f(r) = sum_{s_j > 0} s_j relu(p_j - c_j r) - sum_{s_j < 0} |s_j| relu(p_j + c_j r).

f is continuous, piecewise linear with rational breakpoints and non-increasing, so its first zero
r* is an exact rational and f > 0 on [0, r*): no perturbation with ||delta|| < r* flips sign N(x).
``lower = r*`` (0 when y N(x) <= 0; ``None`` when f never reaches 0: no finite bound).

**Upper bound (an explicit adversarial point).** Float line searches along a few unit directions e
(the input gradient -y g(x), the directions from the active same-sign neurons toward each of the
closest opposite-sign neurons, and any given directions such as -y u/||u||): along a ray the
pre-activations are p_j + t <w_j, e>, so N is cheap to scan. The found delta is rounded to a dyadic
grid, and the flip y N(x + delta) < 0 is then **certified exactly** at that rational point;
``upper`` is a rational >= ||delta||. ``None`` when no attack was certified.

Soundness invariant: lower <= true radius <= upper whenever both are set (tested against attacks).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from proofs.paper_b.intmath import PreparedRight, sqrt_bracket
from proofs.paper_b.net import TwoLayerNet

ATTACK_BITS = 32
N_OPPOSITE = 3


@dataclass(frozen=True, eq=False)
class RadiusBracket:
    """[lower, upper] for one point; ``flip_num / flip_den`` is the certified adversarial point."""

    lower: Fraction | None
    upper: Fraction | None
    flip_num: np.ndarray | None = None
    flip_den: int = 1


def f_bound(p: list[Fraction], c: list[Fraction], s: list[Fraction], r: Fraction) -> Fraction:
    """f(r) of the module docstring, directly (O(m)); the reference for :func:`first_zero`."""
    total = Fraction(0)
    for pj, cj, sj in zip(p, c, s, strict=True):
        t = pj - cj * r if sj > 0 else pj + cj * r
        if sj != 0 and t > 0:
            total += sj * t
    return total


def first_zero(p: list[Fraction], c: list[Fraction], s: list[Fraction]) -> Fraction | None:
    """The first zero r* >= 0 of f(r) (0 if f(0) <= 0; None if f stays > 0), in O(m log m).

    A sweep over the sorted breakpoints carrying f's value and slope: a same-sign neuron (s_j > 0,
    p_j > 0) leaves at p_j / c_j (the slope rises by s_j c_j), an opposite-sign one (s_j < 0, p_j < 0)
    enters at -p_j / c_j (the slope falls by |s_j| c_j).

    >>> first_zero([Fraction(4)], [Fraction(2)], [Fraction(1)])   # relu(4 - 2 r): zero at r = 2
    Fraction(2, 1)
    >>> first_zero([Fraction(4), Fraction(-2)], [Fraction(1), Fraction(1)], [Fraction(1), Fraction(-1)])
    Fraction(3, 1)
    """
    value = Fraction(0)
    slope = Fraction(0)
    events: list[tuple[Fraction, Fraction]] = []
    for pj, cj, sj in zip(p, c, s, strict=True):
        if sj > 0 and pj > 0:
            value += sj * pj
            if cj > 0:
                slope -= sj * cj
                events.append((pj / cj, sj * cj))
        elif sj < 0:
            if pj >= 0:
                value += sj * pj
                slope += sj * cj
            elif cj > 0:
                events.append((-pj / cj, sj * cj))
    if value <= 0:
        return Fraction(0)
    events.sort(key=lambda ev: ev[0])
    left = Fraction(0)
    for r, dslope in events:
        at_r = value + slope * (r - left)
        if at_r <= 0:
            return left + value / (-slope)
        left, value = r, at_r
        slope += dslope
    if slope >= 0:
        return None
    return left + value / (-slope)


def lower_bounds(net: TwoLayerNet, Xnum: np.ndarray, x_den: int, y: list[int] | tuple[int, ...],
                 bits: int = 64) -> list[Fraction | None]:
    """The sound certified radius lower bound r* at each point ``Xnum[i] / x_den`` with label y[i]."""
    pnum, pden = net.preacts(Xnum, x_den)
    c = net.w_norm_upper(bits)
    v = [net.v(j) for j in range(net.width)]
    out = []
    for i in range(pnum.shape[0]):
        p = [Fraction(int(a), pden) for a in pnum[i]]
        out.append(first_zero(p, c, [y[i] * vj for vj in v]))
    return out


def _float_net(net: TwoLayerNet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    W = np.asarray(net.Wnum, dtype=np.float64) / float(net.w_den)
    b = np.asarray(net.bnum, dtype=np.float64) / float(net.b_den)
    v = np.asarray(net.vnum, dtype=np.float64) / float(net.v_den)
    return W, b, v


def _ray_flip(p: np.ndarray, a: np.ndarray, sv: np.ndarray, t_max: float) -> float | None:
    """Smallest t in (0, t_max] (float scan + bisection) with sum sv relu(p + t a) < 0, or None."""
    ts = np.concatenate([np.linspace(0, t_max, 257)[1:], [t_max * 2, t_max * 4]])
    vals = np.maximum(p[None, :] + ts[:, None] * a[None, :], 0) @ sv
    neg = np.nonzero(vals < 0)[0]
    if neg.size == 0:
        return None
    hi = float(ts[neg[0]])
    lo = float(ts[neg[0] - 1]) if neg[0] > 0 else 0.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if np.maximum(p + mid * a, 0) @ sv < 0:
            hi = mid
        else:
            lo = mid
    return hi


def _directions(W: np.ndarray, p: np.ndarray, sv: np.ndarray, extra: list[np.ndarray]) -> list[np.ndarray]:
    out = list(extra)
    norms = np.linalg.norm(W, axis=1)
    active_pos = (p > 0) & (sv > 0)
    g = (sv * (p > 0)) @ W  # gradient of y N at x (a.e.)
    if np.linalg.norm(g) > 0:
        out.append(-g / np.linalg.norm(g))
    push = -(sv * active_pos) @ W
    if np.linalg.norm(push) > 0:
        push = push / np.linalg.norm(push)
    neg = np.nonzero((sv < 0) & (norms > 0))[0]
    if neg.size:
        closest = neg[np.argsort(-p[neg] / norms[neg])[:N_OPPOSITE]]
        for j in closest:
            e = W[j] / norms[j] + push
            if np.linalg.norm(e) > 0:
                out.append(e / np.linalg.norm(e))
    return out


def attack_upper(net: TwoLayerNet, Xnum: np.ndarray, x_den: int, y: list[int] | tuple[int, ...],
                 directions: list[np.ndarray] | None = None, bits: int = ATTACK_BITS,
                 ) -> list[tuple[Fraction, np.ndarray, int] | None]:
    """Per point: (a rational >= ||delta||, the exact flipped point's numerators, its denominator)."""
    W, b, v = _float_net(net)
    xf = np.asarray(Xnum, dtype=np.float64) / float(x_den)
    scale = 1 << bits
    # exact pre-activations once; a candidate x + delta only adds (delta W^T) by linearity
    pnum_all, pden = net.preacts(Xnum, x_den)
    wt = PreparedRight(np.asarray(net.Wnum).T)
    vnum = np.asarray(net.vnum, dtype=object)
    out: list[tuple[Fraction, np.ndarray, int] | None] = []
    for i in range(xf.shape[0]):
        p = W @ xf[i] + b
        sv = y[i] * v
        t_max = 4.0 * (np.linalg.norm(xf[i]) + 1.0)
        best: tuple[Fraction, np.ndarray, int] | None = None
        for e in _directions(W, p, sv, [np.asarray(dd, dtype=np.float64) for dd in directions or []]):
            t = _ray_flip(p, W @ e, sv, t_max)
            if t is None:
                continue
            for grow in (1 + 1e-9, 1 + 1e-6, 1 + 1e-3):
                dnum = np.rint(e * (t * grow) * x_den * scale).astype(np.int64)
                # pre(x + delta) * pden * scale = pnum * scale + (dnum @ Wnum^T) * b_den
                pre = np.asarray(pnum_all[i], dtype=object) * scale + wt.left_mul(dnum[None, :])[0] * net.b_den
                val = np.where(pre > 0, pre, 0).dot(vnum)
                if y[i] * val < 0:
                    den = x_den * scale
                    sq = Fraction(int((dnum.astype(object) ** 2).sum()), den * den)
                    up = sqrt_bracket(sq, 64)[1]
                    if best is None or up < best[0]:
                        pt = np.asarray(Xnum[i], dtype=object) * scale + dnum.astype(object)
                        best = (up, pt, den)
                    break
        out.append(best)
    return out


def radius_bracket(net: TwoLayerNet, Xnum: np.ndarray, x_den: int, y: list[int] | tuple[int, ...],
                   directions: list[np.ndarray] | None = None) -> list[RadiusBracket]:
    """[sound lower bound, certified attack upper bound] per point (see the module docstring)."""
    lows = lower_bounds(net, Xnum, x_den, y)
    ups = attack_upper(net, Xnum, x_den, y, directions)
    out = []
    for lo, up in zip(lows, ups, strict=True):
        if up is None:
            out.append(RadiusBracket(lo, None))
        else:
            out.append(RadiusBracket(lo, up[0], up[1], up[2]))
    return out
