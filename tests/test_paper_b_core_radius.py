"""Certified l2 radii: the sound lower bound is never beaten by any attack found (certified flips,
re-checked in pure Fractions) nor by random perturbations inside it; the robust network of
Theorem 4.1 has exactly one active neuron, margin about d/2 and a radius bracket of order sqrt(d)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from proofs.paper_b.data import ClusterModel
from proofs.paper_b.forward import net_forward
from proofs.paper_b.intmath import sqrt_bracket
from proofs.paper_b.net import TwoLayerNet
from proofs.paper_b.radius import attack_upper, f_bound, first_zero, lower_bounds, radius_bracket
from proofs.paper_b.robust import check_robust, robust_network, robust_radii

small = st.integers(-40, 40).map(lambda a: Fraction(a, 8))


@st.composite
def cases(draw, mixed=False):
    m, d = draw(st.integers(2 if mixed else 1, 4)), draw(st.integers(1, 4))
    W = [[draw(small) for _ in range(d)] for _ in range(m)]
    b = [draw(small) for _ in range(m)]
    v = [draw(st.sampled_from([Fraction(1), Fraction(-1), Fraction(1, 2), Fraction(-3, 2)])) for _ in range(m)]
    if mixed:  # both output signs reachable: a flip usually exists
        v[0], v[1] = abs(v[0]), -abs(v[1])
        W[1][0] = W[1][0] or Fraction(1)
    X = np.array([[draw(st.integers(-64, 64)) for _ in range(d)]], dtype=np.int64)
    net = TwoLayerNet.from_exact(W, b, v)
    x = [Fraction(int(a), 16) for a in X[0]]
    n0 = net_forward(net, x)
    assume(n0 != 0)
    y = 1 if n0 > 0 else -1
    return net, X, 16, y


@given(cases(mixed=True))
def test_certified_lower_bound_never_beaten_by_a_found_attack(case):
    net, X, den, y = case
    lo = lower_bounds(net, X, den, [y])[0]
    up = attack_upper(net, X, den, [y])[0]
    assume(up is not None)
    bound, pnum, pden = up
    x = [Fraction(int(a), den) for a in X[0]]
    flipped = [Fraction(int(a), pden) for a in pnum]
    assert y * net_forward(net, flipped) < 0  # the flip, re-checked independently in Fractions
    assert sum((a - c) ** 2 for a, c in zip(flipped, x, strict=True)) <= bound**2
    assert lo is not None and 0 < lo <= bound  # never beaten
    # the attack's own direction, shrunk into the certified ball, does not flip
    shrink = Fraction(99, 100) * lo / bound
    inside = [c + shrink * (a - c) for a, c in zip(flipped, x, strict=True)]
    assert y * net_forward(net, inside) > 0


@given(cases(), st.lists(st.integers(-100, 100), min_size=4, max_size=4), st.integers(1, 99))
def test_random_perturbation_inside_the_certified_ball_never_flips(case, direction, frac):
    net, X, den, y = case
    lo = lower_bounds(net, X, den, [y])[0]
    assert lo is None or lo > 0
    x = [Fraction(int(a), den) for a in X[0]]
    e = [Fraction(a) for a in direction[: net.dim]]
    assume(any(e))
    r = lo if lo is not None else Fraction(10**6)
    norm_sq = sum(a * a for a in e)
    t = Fraction(frac, 100) * r / sqrt_bracket(norm_sq)[1]  # t * ||e|| <= frac/100 * r < r
    assert t * t * norm_sq < r * r
    moved = [a + t * c for a, c in zip(x, e, strict=True)]
    assert y * net_forward(net, moved) > 0


def test_first_zero_examples():
    # two same-sign neurons leave at r = 1 and r = 3: f = 2 - r on [0, 1]? no: f = (1 - r) + (3 - r)
    p, c, s = [Fraction(1), Fraction(3)], [Fraction(1), Fraction(1)], [Fraction(1), Fraction(1)]
    assert first_zero(p, c, s) == 3
    assert first_zero([Fraction(-1)], [Fraction(1)], [Fraction(1)]) == 0  # misclassified: radius 0
    assert first_zero([Fraction(2)], [Fraction(0)], [Fraction(1)]) is None  # constant positive: unbounded


def test_robust_network_theorem_41_shape():
    d, k = 256, 8
    m = ClusterModel(d=d, k=k, sigma=Fraction(1, 8), kind="orthogonal", seed=5)
    s = m.sample(30, 0, "test")
    rc = check_robust(m, s)
    assert rc.n_one_active == 30 and rc.n_correct == 30
    lo, hi = rc.margin_over_half_d()
    assert Fraction(4, 5) < lo and hi < Fraction(6, 5)
    for br in robust_radii(m, s):
        assert br.lower is not None and br.upper is not None
        assert Fraction(2, 5) ** 2 * d < br.lower**2 and br.lower <= br.upper and br.upper**2 < Fraction(4, 5) ** 2 * d


def test_mutation_robust_radius_at_least_sqrt_d_is_refuted():
    # "the robust network is sqrt(d)-robust at every point" is false: a certified flip closer than sqrt(d)
    d = 64
    m = ClusterModel(d=d, k=4, sigma=Fraction(1, 8), kind="orthogonal", seed=1)
    s = m.sample(5, 0, "test")
    net = robust_network(m)
    br = radius_bracket(net, s.Xint, s.denominator, s.y)[0]
    assert br.upper is not None and br.upper**2 < d
    flipped = [Fraction(int(a), br.flip_den) for a in br.flip_num]
    assert s.y[0] * net_forward(net, flipped) < 0


@given(st.lists(st.tuples(small, st.integers(0, 5).map(Fraction), st.sampled_from([-2, -1, 1, 3]).map(Fraction)),
                min_size=1, max_size=6))
def test_first_zero_is_the_first_zero_of_f(neurons):
    p, c, s = (list(t) for t in zip(*neurons, strict=True))
    r = first_zero(p, c, s)
    if f_bound(p, c, s, Fraction(0)) <= 0:
        assert r == 0
        return
    if r is None:  # f never reaches 0: it is constant and positive far out
        far = Fraction(10**9)
        assert f_bound(p, c, s, far) > 0 and f_bound(p, c, s, far) == f_bound(p, c, s, 2 * far)
        return
    assert r > 0 and f_bound(p, c, s, r) == 0
    # f > 0 before r*: at every breakpoint below it and just below it (f is piecewise linear)
    below = [q for q in [pj / cj for pj, cj in zip(p, c, strict=True) if cj] + [-pj / cj for pj, cj in
             zip(p, c, strict=True) if cj] if 0 <= q < r]
    for q in below + [r * Fraction(999, 1000)]:
        assert f_bound(p, c, s, q) > 0
