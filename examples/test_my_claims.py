"""Property tests over certified runs, in your own test suite (run: ``pytest examples/test_my_claims.py``).

verify installs a pytest plug-in (fixtures ``verify_settings``, ``certify``, ``check_claim``) and
Hypothesis strategies (``verify.strategies``). Hypothesis draws exact inits; every run is certified GD
on enclosures; a failure is shrunk by Hypothesis to a simple init (e.g. ``(1/2, 0, -1/4, 0)``).
Pass strategies by keyword (``@given(theta0=...)``) when the test also takes fixtures.
``--verify-steps N`` sets the number of GD steps (default: the paper's, 2000).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from verify.strategies import certified_runs, inits

CLAIMS = Path(__file__).with_name("paper_a.toml")
FEW = settings(max_examples=6, deadline=None, database=None)


@FEW
@given(theta0=inits(paper="a", scheme="he"))
def test_c1_is_conserved_in_f(theta0, check_claim):
    """A claim of a claim file, on Hypothesis' inits: never refuted (certified, or outside its hypotheses)."""
    outcome = check_claim(f"{CLAIMS}::c1-conserved", theta0)
    assert outcome.status.value in ("certified", "not-admitted"), outcome.detail


@FEW
@given(theta0=inits(paper="a"))
def test_f_is_absorbing(theta0, check_claim):
    """A catalog claim of paper A, on inits from every scheme, near the kinks and small rationals."""
    assert check_claim("f-invariance", theta0).status.value != "refuted"


@FEW
@given(run=certified_runs(paper="a", steps=300, init_strategy=inits(paper="a", scheme="he")))
def test_the_loss_never_increases(run):
    """Directly on certified runs: the loss enclosures never certainly increase from one record to the next."""
    for a, b in zip(run.records, run.records[1:], strict=False):
        assert not (run.loss(a) < run.loss(b)).certainly()


@FEW
@given(theta0=st.builds(lambda a, b: (a, 0, -b, 0), st.fractions(1, 3), st.fractions(1, 3)))
def test_zero_bias_runs_in_f_stay_in_f(theta0, certify):
    """Your own strategy and the ``certify`` fixture: a zero-bias init with w1 > 0 > w2 stays in F = 1001."""
    run = certify(theta0)
    assert run.certified and [p for _, p in run.phases] == ["1001"]
