"""Boxes of networks (parameter enclosures): a certified sign / flip / radius holds for every member
(checked on exact members drawn inside the box with the pure-Fraction forward); a point box agrees
with the exact single-network path."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from proofs.paper_b.boxnet import BoxFlipOracle, BoxNet, box_lower_bounds, count_errors
from proofs.paper_b.data import ClusterModel
from proofs.paper_b.forward import forward
from proofs.paper_b.net import TwoLayerNet
from proofs.paper_b.radius import attack_upper, lower_bounds
from proofs.paper_b.universal import FlipOracle, label_mean_network

small = st.integers(-40, 40).map(lambda a: Fraction(a, 8))
rad = st.integers(0, 4).map(lambda a: Fraction(a, 64))


def ends(centre: list[Fraction], radius: list[Fraction], side: int) -> list[Fraction]:
    return [c + side * r for c, r in zip(centre, radius, strict=True)]


@st.composite
def boxes_and_members(draw):
    m, d = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    Wc = [[draw(small) for _ in range(d)] for _ in range(m)]
    Wr = [[draw(rad) for _ in range(d)] for _ in range(m)]
    bc, br = [draw(small) for _ in range(m)], [draw(rad) for _ in range(m)]
    vc = [draw(st.sampled_from([Fraction(1), Fraction(-1), Fraction(1, 2), Fraction(-3, 2)])) for _ in range(m)]
    vr = [draw(rad) for _ in range(m)]
    box = BoxNet.from_intervals([ends(a, b, -1) for a, b in zip(Wc, Wr, strict=True)],
                                [ends(a, b, 1) for a, b in zip(Wc, Wr, strict=True)],
                                ends(bc, br, -1), ends(bc, br, 1), ends(vc, vr, -1), ends(vc, vr, 1))
    t = st.integers(-8, 8).map(lambda a: Fraction(a, 8))  # position inside each interval
    W = [[c + draw(t) * r for c, r in zip(a, b, strict=True)] for a, b in zip(Wc, Wr, strict=True)]
    b = [c + draw(t) * r for c, r in zip(bc, br, strict=True)]
    v = [c + draw(t) * r for c, r in zip(vc, vr, strict=True)]
    X = np.array([[draw(st.integers(-64, 64)) for _ in range(d)] for _ in range(3)], dtype=np.int64)
    return box, (W, b, v), X, 16


@given(boxes_and_members(), st.sampled_from([1, -1]))
def test_certified_box_sign_holds_for_every_member(case, y):
    box, (W, b, v), X, den = case
    signs = box.signs(X, den, [y] * 3)
    for i in range(3):
        x = [Fraction(int(a), den) for a in X[i]]
        val = y * forward(W, b, v, x)
        if signs[i] == 1:
            assert val > 0
        elif signs[i] == -1:
            assert val < 0


@given(boxes_and_members())
def test_box_radius_is_below_every_member_flip(case):
    box, (W, b, v), X, den = case
    member = TwoLayerNet.from_exact(W, b, v)
    x = [Fraction(int(a), den) for a in X[0]]
    n0 = forward(W, b, v, x)
    assume(n0 != 0)
    y = 1 if n0 > 0 else -1
    lo = box_lower_bounds(box, X[:1], den, [y])[0]
    up = attack_upper(member, X[:1], den, [y])[0]
    assume(up is not None)
    assert lo is not None and lo <= up[0]  # the member's certified flip is never inside the box's ball


@given(boxes_and_members())
def test_point_box_equals_exact_path(case):
    _, (W, b, v), X, den = case
    net = TwoLayerNet.from_exact(W, b, v)
    box = BoxNet.point(net)
    out = net.outputs_at(X, den)
    y = [1 if o >= 0 else -1 for o in out]
    signs = box.signs(X, den, y)
    assert all((s == 1) == (yy * o > 0) and (s == -1) == (yy * o < 0) for s, yy, o in zip(signs, y, out, strict=True))
    assert box_lower_bounds(box, X, den, y) == lower_bounds(net, X, den, y)


def test_box_flips_and_errors_on_clusters():
    m = ClusterModel(d=64, k=8, sigma=Fraction(1, 4), kind="orthogonal", seed=3, balance=Fraction(1, 4))
    tr, te = m.train_test(32, 40, 0)
    net = label_mean_network(tr)
    wf = np.asarray(net.Wnum, dtype=np.float64) / net.w_den
    eps = 2.0**-20
    box = BoxNet.from_intervals(wf - eps, wf + eps, [-eps] * 2, [eps] * 2, [1 - eps, -1 - eps], [1 + eps, -1 + eps])
    ec = count_errors(box, te)
    assert ec.correct + ec.wrong + ec.undecided == 40 and ec.correct >= 36
    q = 1 << 40  # z = u: ||z|| = ||u||, far beyond sqrt(d/k)
    exact = FlipOracle.build(net, m, te).flips(q)
    boxed = BoxFlipOracle.build(box, m, te).flips(q)
    assert boxed.sum() >= 36 and not (boxed & ~exact).any()  # box-certified flips are flips of the member


@given(st.integers(1, 3), st.integers(1, 3), st.data())
def test_box_float_fast_path_equals_fraction_path(m, d, data):
    fl = st.floats(-100, 100, allow_nan=False)
    lo = np.array([[data.draw(fl) for _ in range(d)] for _ in range(m)])
    hi = lo + np.array([[data.draw(st.floats(0, 1)) for _ in range(d)] for _ in range(m)])
    bl = np.array([data.draw(fl) for _ in range(m)])
    vl = np.array([data.draw(fl) for _ in range(m)])
    fast = BoxNet.from_intervals(lo, hi, bl, bl + 1, vl, vl + 0.5)
    slow = BoxNet.from_intervals(lo.tolist(), hi.tolist(), bl.tolist(), (bl + 1).tolist(), vl.tolist(),
                                 (vl + 0.5).tolist())
    X = np.array([[data.draw(st.integers(-50, 50)) for _ in range(d)]], dtype=np.int64)
    for box in (fast, slow):
        assert box.w_den > 0
    pf, rf, df = fast.preact_box(X, 4)
    ps, rs, ds = slow.preact_box(X, 4)
    assert all(Fraction(int(a), df) == Fraction(int(c), ds) for a, c in zip(pf.ravel(), ps.ravel(), strict=True))
    assert all(Fraction(int(a), df) == Fraction(int(c), ds) for a, c in zip(rf.ravel(), rs.ravel(), strict=True))
