"""Boxes of networks (the parameter enclosure of a certified run): an enclosure from
:class:`proofs.paper_b.boxnet.IntervalFlips` contains ``y N(x - y q u)`` of every member (re-checked
on exact members drawn inside the box with the pure-Fraction forward), in float64 midpoint-radius
and in Arb alike; the Lipschitz radius lower bound is never beaten by a member's certified flip; on
clusters, a flip certified for the box is a flip of its centre."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from flint import arb
from hypothesis import assume, given
from hypothesis import strategies as st

from proofs.paper_b.boxnet import IntervalFlips, lipschitz_lower
from proofs.paper_b.data import ClusterModel, ClusterSample
from proofs.paper_b.forward import forward
from proofs.paper_b.net import TwoLayerNet
from proofs.paper_b.radius import attack_upper
from proofs.paper_b.universal import FlipOracle, label_mean_network
from verify.arith.ball_arrays import ArbArrays
from verify.arith.midrad import MidRadArithmetic, from_bounds
from verify.dynamics.records import PackedParams

small = st.integers(-40, 40).map(lambda a: Fraction(a, 8))
rad = st.integers(0, 4).map(lambda a: Fraction(a, 64))  # 0: a point box
GRID_BITS = 4  # the points' denominator 2**4


def packed(arith: str, lo: np.ndarray, hi: np.ndarray, vlo: np.ndarray, vhi: np.ndarray) -> PackedParams:
    """The box [lo, hi] x [vlo, vhi] (float64 ends, exact dyadics) as the record of ``arith``."""
    if arith == "f64":
        return PackedParams(MidRadArithmetic(), from_bounds(lo, hi), from_bounds(vlo, vhi))

    def balls(a, b):
        return np.array([arb((x + y) / 2, (y - x) / 2) for x, y in zip(a.ravel(), b.ravel(), strict=True)],
                        dtype=object).reshape(a.shape)

    return PackedParams(ArbArrays(128), balls(lo, hi), balls(vlo, vhi))


@st.composite
def boxes_and_members(draw):
    """A box (centre +- radius, dyadic), one exact member inside it, 3 points with labels, and u."""
    m, d = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    Tc = [[draw(small) for _ in range(d + 1)] for _ in range(m)]  # rows (w_j, b_j)
    Tr = [[draw(rad) for _ in range(d + 1)] for _ in range(m)]
    vc = [draw(st.sampled_from([Fraction(1), Fraction(-1), Fraction(1, 2), Fraction(-3, 2)])) for _ in range(m)]
    vr = [draw(rad) for _ in range(m)]
    t = st.integers(-8, 8).map(lambda a: Fraction(a, 8))  # the member's position inside each interval
    T = [[c + draw(t) * r for c, r in zip(a, b, strict=True)] for a, b in zip(Tc, Tr, strict=True)]
    v = [c + draw(t) * r for c, r in zip(vc, vr, strict=True)]
    ends = [np.array([[float(c + s * r) for c, r in zip(a, b, strict=True)] for a, b in zip(Tc, Tr, strict=True)])
            for s in (-1, 1)]
    vends = [np.array([float(c + s * r) for c, r in zip(vc, vr, strict=True)]) for s in (-1, 1)]
    Xint = np.array([[draw(st.integers(-64, 64)) for _ in range(d)] for _ in range(3)], dtype=np.int64)
    y = tuple(draw(st.sampled_from([1, -1])) for _ in range(3))
    u = np.array([draw(st.integers(-3, 3)) for _ in range(d)], dtype=np.int64)
    member = ([row[:d] for row in T], [row[d] for row in T], v)
    return (ends, vends), member, ClusterSample(Xint, GRID_BITS, y, (0, 0, 0)), u


def _margin(member, sample: ClusterSample, u: np.ndarray, i: int, q: Fraction) -> Fraction:
    W, b, v = member
    x = [Fraction(int(a), sample.denominator) - sample.y[i] * q * int(c)
         for a, c in zip(sample.Xint[i], u, strict=True)]
    return sample.y[i] * forward(W, b, v, x)


@pytest.mark.parametrize("arith", ["f64", "arb"])
@given(case=boxes_and_members(), qnum=st.integers(0, 64))
def test_enclosure_holds_for_every_member(arith, case, qnum):
    (ends, vends), member, sample, u = case
    box = IntervalFlips(packed(arith, *ends, *vends), u, sample)
    q = Fraction(qnum, 16)
    lo, hi = box.margins(q)
    flips, keeps = box.counts(q)
    for i in range(sample.n):
        exact = _margin(member, sample, u, i, q)
        assert Fraction(lo[i]) <= exact <= Fraction(hi[i])
    assert flips == sum(1 for i in range(sample.n) if hi[i] < 0) and flips + keeps <= sample.n


@given(boxes_and_members())
def test_lipschitz_radius_is_below_every_member_flip(case):
    (ends, vends), member, sample, u = case
    W, b, v = member
    x0 = [Fraction(int(a), sample.denominator) for a in sample.Xint[0]]
    n0 = forward(W, b, v, x0)
    assume(n0 != 0)
    y = 1 if n0 > 0 else -1
    at = ClusterSample(sample.Xint[:1], GRID_BITS, (y,), (0,))
    lower = lipschitz_lower(IntervalFlips(packed("f64", *ends, *vends), u, at))[0]
    up = attack_upper(TwoLayerNet.from_exact(W, b, v), at.Xint, at.denominator, [y])[0]
    assume(up is not None)
    assert Fraction(lower) <= up[0]  # the member's certified flip is never inside the box's ball


def test_box_flips_on_clusters_are_flips_of_the_centre():
    m = ClusterModel(d=64, k=8, sigma=Fraction(1, 4), kind="orthogonal", seed=3, balance=Fraction(1, 4))
    tr, te = m.train_test(32, 40, 0)
    net = label_mean_network(tr)
    wf = np.asarray(net.Wnum, dtype=np.float64) / net.w_den
    eps = 2.0**-20
    T = np.hstack([wf, np.zeros((2, 1))])
    box = IntervalFlips(packed("f64", T - eps, T + eps, np.array([1 - eps, -1 - eps]), np.array([1 + eps, -1 + eps])),
                        m.u, te)
    wrong, right = box.counts(Fraction(0))  # certified y N < 0, certified y N >= 0, for every member
    assert right >= 36 and right + wrong <= 40
    q = Fraction(1)  # z = u: ||z|| = ||u||, far beyond sqrt(d/k)
    exact = FlipOracle.build(net, m, te).flips(1 << 40)
    _, hi = box.margins(q)
    boxed = hi < 0
    assert boxed.sum() >= 36 and not (boxed & ~exact).any()  # box-certified flips are flips of the centre
