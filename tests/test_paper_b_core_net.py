"""The exact integer-matrix network evaluation agrees with the independent pure-Fraction forward."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from proofs.paper_b.forward import net_forward, pattern
from proofs.paper_b.net import TwoLayerNet

fr = st.fractions(min_value=-4, max_value=4, max_denominator=50)
fl = st.floats(-4, 4, allow_nan=False, width=64)


@st.composite
def nets_and_points(draw):
    m, d = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    ent = draw(st.sampled_from([fr, fl]))
    W = [[draw(ent) for _ in range(d)] for _ in range(m)]
    b = [draw(ent) for _ in range(m)]
    v = [draw(ent) for _ in range(m)]
    den = draw(st.sampled_from([1, 2**10, 3 * 7]))
    X = np.array([[draw(st.integers(-2**30, 2**30)) for _ in range(d)] for _ in range(3)], dtype=np.int64)
    return TwoLayerNet.from_exact(W, b, v), X, den


@given(nets_and_points())
def test_fast_exact_outputs_equal_fraction_forward(case):
    net, X, den = case
    fast = net.outputs_at(X, den)
    pnum, _ = net.preacts(X, den)
    for i in range(X.shape[0]):
        x = [Fraction(int(a), den) for a in X[i]]
        assert fast[i] == net_forward(net, x)
        W = [net.w(j) for j in range(net.width)]
        b = [net.b(j) for j in range(net.width)]
        assert pattern(W, b, x) == tuple(int((p > 0) - (p < 0)) for p in pnum[i])


floats = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=True)


@given(st.integers(1, 4), st.integers(1, 4), st.data())
def test_float_fast_path_is_the_exact_value(m, d, data):
    W = np.array([[data.draw(floats) for _ in range(d)] for _ in range(m)])
    b = np.array([data.draw(floats) for _ in range(m)])
    v = np.array([data.draw(floats) for _ in range(m)])
    fast = TwoLayerNet.from_exact(W, b, v)
    for j in range(m):
        assert fast.w(j) == tuple(Fraction(float(a)) for a in W[j])
        assert fast.b(j) == Fraction(float(b[j])) and fast.v(j) == Fraction(float(v[j]))
