"""Exact entry of inputs and rejection of bad ones, each naming its field."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofs.paper_a.problem import paper_a_problem
from verify.dynamics.gd import run_gd
from verify.errors import InvalidArgument
from verify.exact import to_exact
from verify.init.schemes import SCHEMES, explicit_init, sample_init, sample_inits
from verify.model.network import Dataset, Network
from verify.settings import CheckSettings


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_enter_at_their_exact_binary_value(x):
    q = to_exact(x, "x")
    assert float(q) == x and Fraction(x) == q


def test_decimal_strings_are_exact():
    assert to_exact("0.1", "eta") == Fraction(1, 10)
    assert to_exact("1/3", "w") == Fraction(1, 3)
    assert to_exact("-2.5e-3", "b") == Fraction(-1, 400)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "-inf", "nan", "abc", True, None, [1]])
def test_bad_numbers_name_the_field(bad):
    with pytest.raises(InvalidArgument, match=r"^w1="):
        to_exact(bad, "w1")


@pytest.mark.parametrize("eta", ["0", "-0.1", 0.0, float("nan")])
def test_non_positive_or_nan_step_size_rejected(eta):
    with pytest.raises(InvalidArgument, match=r"^eta="):
        paper_a_problem(eta)


def test_wrong_shapes_rejected():
    problem = paper_a_problem()
    with pytest.raises(InvalidArgument, match="theta"):
        run_gd(problem, ["1", "2", "3"], 10)
    with pytest.raises(InvalidArgument, match="steps"):
        run_gd(problem, ["1", "0", "-1", "0"], -1)
    with pytest.raises(InvalidArgument, match=r"data.y"):
        Dataset.of([[1], [2]], [1])
    with pytest.raises(InvalidArgument, match=r"data.y\[0\]"):
        Dataset.of([[1]], [0])
    with pytest.raises(InvalidArgument, match="width"):
        Network(width=0, dim=1, output_weights=None)
    with pytest.raises(InvalidArgument, match=r"theta.w2='nan' must be finite"):
        run_gd(problem, ["1", "0", "nan", "0"], 10)


@pytest.mark.parametrize("bad", [{"scheme": "lecun"}, {"backend": "cuda"}, {"prec": 0}, {"steps": 0},
                                 {"inits": -1}, {"eta": "-1"}, {"max_prec": 64}, {"unknown_key": 1}])
def test_settings_reject_bad_values_naming_the_field(bad):
    key = next(iter(bad))
    with pytest.raises(InvalidArgument, match=key):
        CheckSettings.from_mapping(bad)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_schemes_are_reproducible_exact_and_batch_independent(scheme):
    net = paper_a_problem().network
    batch = sample_inits(net, scheme, seed=11, count=5)
    assert batch == sample_inits(net, scheme, seed=11, count=5)
    assert batch[3] == sample_init(net, scheme, seed=11, index=3)
    assert all(isinstance(v, Fraction) for theta in batch for v in theta)
    assert batch != sample_inits(net, scheme, seed=12, count=5)


def test_scheme_formulas():
    net = paper_a_problem().network
    inits = np.array([[float(v) for v in t] for t in sample_inits(net, "he", 0, 4000)])
    assert np.all(inits[:, [1, 3]] == 0)  # zero bias
    assert 1.85 < inits[:, [0, 2]].var() < 2.15  # N(0, 2/fan_in), fan_in = 1
    xav = np.array([[float(v) for v in t] for t in sample_inits(net, "xavier", 0, 4000)])
    assert 0.6 < xav[:, [0, 2]].var() < 0.73  # N(0, 2/(1 + 2))
    pt = np.array([[float(v) for v in t] for t in sample_inits(net, "pytorch", 0, 4000)])
    assert np.abs(pt).max() <= 1.0 and pt[:, 1].std() > 0.5  # U(-1, 1), biases too
    with pytest.raises(InvalidArgument, match="scheme"):
        sample_init(net, "lecun", 0)
    assert explicit_init(net, ["0.5", "1/2", 0, -1]) == (Fraction(1, 2), Fraction(1, 2), 0, -1)
