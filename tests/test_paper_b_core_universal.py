"""Theorem 4.2's universal perturbation: certified flips re-checked by the independent Fraction forward,
the bisection's two ends exact, the same z against several networks, and the robust network resisting it."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from proofs.paper_b.data import ClusterModel
from proofs.paper_b.forward import net_forward
from proofs.paper_b.robust import robust_network
from proofs.paper_b.universal import (
    FlipOracle,
    eta_for_fraction,
    flip_counts,
    label_mean_network,
    q_for_eta,
    u_norm_bracket,
    z_norm_bracket,
)


@st.composite
def setups(draw):
    k = draw(st.sampled_from([4, 8]))
    d = draw(st.sampled_from([32, 64]))
    m = ClusterModel(d=d, k=k, sigma=Fraction(1, 4), kind="orthogonal", seed=draw(st.integers(0, 300)),
                     balance=Fraction(1, 4))
    tr, te = m.train_test(4 * k, 12, draw(st.integers(0, 50)))
    return m, tr, te


@given(setups(), st.integers(0, 11))
def test_bisection_ends_are_exact_and_flips_recheck_in_fractions(setup, i):
    m, tr, te = setup
    net = label_mean_network(tr)
    oracle = FlipOracle.build(net, m, te)
    r = eta_for_fraction(oracle, m)
    assert r.found and r.flips_hi >= math.ceil(Fraction(9, 10) * te.n) > r.flips_lo
    assert r.qnum_lo < r.qnum_hi and r.eta_hi[0] <= r.eta_hi[1]
    mask = oracle.flips(r.qnum_hi)
    x = oracle.perturbed_point(te, m, i, r.qnum_hi)
    value = te.y[i] * net_forward(net, x)  # independent exact evaluation
    assert (value < 0) == bool(mask[i])


def test_z_norm_bracket_contains_eta():
    m = ClusterModel(d=64, k=8, sigma=Fraction(1, 4), kind="orthogonal", seed=3)
    lo, hi = u_norm_bracket(m)
    uu = int((m.u.astype(object) ** 2).sum())
    assert lo * lo <= uu <= hi * hi
    eta = Fraction(7, 3)
    zlo, zhi = z_norm_bracket(q_for_eta(eta, m), m)
    assert eta <= zhi and zlo <= zhi and zhi - eta < Fraction(1, 10**6)


def test_same_z_transfers_across_networks_but_not_to_the_robust_one():
    m = ClusterModel(d=256, k=16, sigma=Fraction(1, 4), kind="orthogonal", seed=2, balance=Fraction(1, 4))
    te = m.sample(60, 0, "test")
    nets = [label_mean_network(m.sample(64, s)) for s in (1, 2, 3)]
    eta = 3 * Fraction(math.isqrt(256 // 16))  # 3 sqrt(d/k)
    counts, (zlo, zhi) = flip_counts(nets + [robust_network(m)], m, te, eta)
    assert zlo <= zhi and zhi >= eta
    assert all(c >= 54 for c in counts[:3])  # >= 90% flipped by the same z, for every net
    assert counts[3] == 0  # the robust network resists it
    # mutation "eta_90 <= sqrt(d/k)/10" is refuted: at that norm, fewer than 90% flip (exact count)
    small, _ = flip_counts(nets[:1], m, te, Fraction(math.isqrt(256 // 16), 10))
    assert small[0] < 54
