"""Paper B's exact data: means of norm exactly sqrt(d), labels with both signs (and balance),
exact dyadic samples whose float copy is exact, Assumption 2.2 quantities, and bad input."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofs.paper_b.data import ClusterModel, assumption_22, sylvester
from proofs.paper_b.intmath import PreparedRight, int_matmul, sqrt_bracket
from verify.errors import InvalidArgument

sigmas = st.integers(1, 64).map(lambda t: Fraction(t, 32))


@st.composite
def models(draw, kind=None):
    kind = kind or draw(st.sampled_from(["orthogonal", "sphere"]))
    k = draw(st.integers(2, 12))
    if kind == "orthogonal":
        h = 1 << (k - 1).bit_length()
        d = h * draw(st.integers(1, 6))
    else:
        d = draw(st.integers(1, 40))
    balance = draw(st.sampled_from([None, Fraction(1, 4), Fraction(1, 2)]))
    if balance is not None and math.ceil(balance * k) > k // 2:
        balance = None
    return ClusterModel(d=d, k=k, sigma=draw(sigmas), kind=kind, seed=draw(st.integers(0, 1000)), balance=balance)


@given(models())
def test_means_have_norm_exactly_sqrt_d_and_labels_both_signs(m):
    mu = m.means
    assert mu.shape == (m.k, m.d)
    assert set(np.unique(mu).tolist()) <= {-1, 1}
    assert (np.einsum("ij,ij->i", mu, mu) == m.d).all()
    assert set(m.labels) == {-1, 1} and len(m.labels) == m.k
    if m.balance is not None:
        assert min(len(m.positive_clusters), len(m.negative_clusters)) >= math.ceil(m.balance * m.k)
    assert (m.u == np.asarray(m.labels) @ mu).all()


@given(models(kind="orthogonal"))
def test_orthogonal_means_are_exactly_orthogonal(m):
    g = m.means @ m.means.T
    assert (g == m.d * np.eye(m.k, dtype=np.int64)).all()
    assert assumption_22(m).max_corr == 0


@given(models(), st.integers(1, 20), st.integers(0, 50))
def test_sample_is_exact_dyadic_and_float_copy_is_exact(m, n, seed):
    s = m.sample(n, seed)
    assert s.Xint.shape == (n, m.d) and len(s.y) == n and len(s.cluster) == n
    assert all(s.y[i] == m.labels[s.cluster[i]] for i in range(n))
    i = n // 2
    row = s.row(i)
    assert all(Fraction(float(s.Xf[i, j])) == row[j] for j in range(m.d))
    assert s.X[i, 0] == row[0]
    assert (s.Xint == m.sample(n, seed).Xint).all()  # a pure function of the seed


def test_train_and_test_streams_differ_and_noise_has_scale_sigma():
    m = ClusterModel(d=64, k=4, sigma=Fraction(1, 2), kind="orthogonal", seed=3)
    tr, te = m.train_test(200, 200, seed=0)
    assert not np.array_equal(tr.Xint, te.Xint)
    noise = tr.Xf - m.means[list(tr.cluster)]
    assert abs(noise.std() - 0.5) < 0.02
    assert len(set(tr.cluster)) == 4


def test_assumption_22_quantities_exact():
    m = ClusterModel(d=50, k=5, sigma=Fraction(1), kind="sphere", seed=7)
    a = assumption_22(m)
    g = [[sum(int(p) * int(q) for p, q in zip(m.means[i], m.means[j], strict=True)) for j in range(5)]
         for i in range(5)]
    assert a.max_corr == max(abs(g[i][j]) for i in range(5) for j in range(5) if i != j)
    assert a.ratio == Fraction(5 * (a.max_corr + 1), 50)
    lo, hi = a.noise_term
    assert lo <= Fraction(math.sqrt(50) * math.log(50)) * (1 + Fraction(1, 10**12)) and lo < hi
    assert float(lo) == pytest.approx(math.sqrt(50) * math.log(50), rel=1e-12)
    assert a.holds(0, Fraction(1, 100)) is True and a.holds(1, 100) is False


@pytest.mark.parametrize("kwargs, name", [
    (dict(d=8, k=1, sigma=1), "k"),
    (dict(d=0, k=2, sigma=1), "d"),
    (dict(d=8, k=2, sigma=0), "sigma"),
    (dict(d=8, k=2, sigma=-1), "sigma"),
    (dict(d=8, k=2, sigma=1, kind="cube"), "kind"),
    (dict(d=12, k=8, sigma=1, kind="orthogonal"), "d"),
    (dict(d=8, k=2, sigma=1, label_signs=(1, 1)), "labels"),
    (dict(d=8, k=3, sigma=1, balance=Fraction(1, 2)), "balance"),
    (dict(d=8, k=3, sigma=1, balance=0), "balance"),
])
def test_bad_model_input_names_the_field(kwargs, name):
    with pytest.raises(InvalidArgument) as err:
        ClusterModel(**kwargs)
    assert err.value.field == name


@pytest.mark.parametrize("n", [0, -3])
def test_bad_n_names_the_field(n):
    with pytest.raises(InvalidArgument) as err:
        ClusterModel(d=8, k=2, sigma=1).sample(n, 0)
    assert err.value.field == "n"


def test_valid_extremes_do_not_crash():
    m = ClusterModel(d=1, k=2, sigma=Fraction(1, 10**6), kind="sphere")
    assert m.sample(1, 0).Xint.shape == (1, 1)
    assert assumption_22(m).noise_term == (0, 0)
    big = ClusterModel(d=2, k=2, sigma=10**6, kind="orthogonal")
    assert big.sample(3, 0).n == 3


@given(st.integers(1, 6), st.integers(1, 40), st.integers(0, 2**62), st.integers(1, 2**62), st.integers(1, 8),
       st.integers(0, 200))
def test_int_matmul_is_exact(rows, inner, bound, bound_b, cols, big_bits):
    rng = np.random.default_rng(rows * 1000 + inner)
    a = rng.integers(-bound, bound + 1, size=(rows, inner), dtype=np.int64)
    b = rng.integers(-bound_b, bound_b, size=(inner, cols), dtype=np.int64)
    expect = a.astype(object) @ b.astype(object)
    assert (np.asarray(int_matmul(a, b), dtype=object) == expect).all()
    big = b.astype(object) * (1 << big_bits) + 1  # beyond int64: object limbs
    assert (np.asarray(int_matmul(a, big), dtype=object) == a.astype(object) @ big).all()
    assert (PreparedRight(big).left_mul(a) == a.astype(object) @ big).all()


@given(st.fractions(min_value=0, max_value=10**6))
def test_sqrt_bracket_contains_sqrt(q):
    lo, hi = sqrt_bracket(q)
    assert lo * lo <= q <= hi * hi


def test_sylvester_is_hadamard():
    h = sylvester(16)
    assert (h @ h.T == 16 * np.eye(16, dtype=np.int64)).all()
