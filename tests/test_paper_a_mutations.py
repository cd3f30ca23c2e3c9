"""Deliberately false variants of paper A's claims are refuted, with exact counterexamples that
reproduce when re-checked alone."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofs.paper_a.catalog import CLAIMS, MUTATIONS
from proofs.paper_a.problem import paper_a_problem
from verify.claims.result import Status
from verify.claims.runner import check_claims
from verify.init.schemes import sample_init
from verify.settings import CheckSettings

STEPS = 500
NET = paper_a_problem().network
# the scheme whose inits exercise each mutation (1111 needs nonzero biases)
SCHEME = {"mut-absorbing-1111": "pytorch"}


def frac(lo: int, hi: int, den: int = 1000) -> st.SearchStrategy[Fraction]:
    return st.integers(lo, hi).map(lambda k: Fraction(k, den))


def test_every_claim_family_has_a_mutation():
    assert len(MUTATIONS) >= 5
    assert {m.mutation_of for m in MUTATIONS.values()} >= {"monotone-numerator", "phase-ordering",
                                                             "small-loss-classifies", "limit-network", "f-invariance"}


@pytest.mark.parametrize("mid", list(MUTATIONS))
def test_mutation_refuted_with_exact_counterexample(mid):
    mutation = MUTATIONS[mid]
    settings = CheckSettings(scheme=SCHEME.get(mid, "he"), steps=STEPS, inits=40, seed=1)
    (res,) = check_claims([mutation], settings)
    assert res.verdict is Status.REFUTED, res.counts
    cx = res.counterexample
    assert cx is not None and cx.outcome.status is Status.REFUTED and cx.outcome.counterexample
    for name in ("w1", "b1", "w2", "b2"):
        Fraction(cx.outcome.counterexample[name])  # exact rationals
    assert res.mutation_of in CLAIMS
    refuted = [o for o in res.outcomes if o.outcome.status is Status.REFUTED]
    norm = sum(abs(Fraction(q)) for q in cx.theta0) if cx.theta0 else 0
    assert all(norm <= sum(abs(Fraction(q)) for q in o.theta0) for o in refuted if o.theta0)
    if mutation.scope != "once":  # the counterexample reproduces on its own
        theta0 = tuple(Fraction(q) for q in cx.theta0)
        (again,) = check_claims([mutation], settings, inits=[theta0])
        assert again.outcomes[0].outcome == cx.outcome


@given(frac(1, 3000), frac(1, 3000))
def test_wrong_numerator_limit_refuted_on_every_admitted_init(a, b):
    theta0 = (a, Fraction(0), -b, Fraction(0))
    settings = CheckSettings(steps=STEPS, inits=1)
    (res,) = check_claims([MUTATIONS["mut-numerator-limit-difference"]], settings, inits=[theta0])
    out = res.outcomes[0].outcome
    assert out.status is Status.REFUTED
    assert Fraction(out.counterexample["gap"]) == min(a, b)  # (w1 - w2)/2 - |w1 + w2|/2


@given(frac(1, 3000), frac(1, 3000))
def test_wrong_conserved_quantity_refuted_in_f(a, b):
    (res,) = check_claims([MUTATIONS["mut-conserved-u"]], CheckSettings(steps=STEPS, inits=1),
                          inits=[(a, Fraction(0), -b, Fraction(0))])
    assert res.outcomes[0].outcome.status is Status.REFUTED


@given(frac(-3000, -1), frac(-3000, -1))
def test_small_loss_09_refuted_on_stuck_runs(a, b):
    """w1(0), w2(0) < 0, zero bias: x1 sits on Phi = 0 for ever while L -> 1/2 < 9/10."""
    res, true = check_claims([MUTATIONS["mut-small-loss-0.9"], CLAIMS["small-loss-classifies"]],
                          CheckSettings(steps=2000, inits=1), inits=[(a, Fraction(0), b, Fraction(0))])
    assert res.outcomes[0].outcome.status is Status.REFUTED
    assert true.outcomes[0].outcome.status is Status.NOT_ADMITTED  # L < 1/2 is never reached


@given(st.integers(0, 2**16), st.integers(0, 200))
def test_absorbing_0110_never_certified(seed, index):
    theta0 = sample_init(NET, "he", seed, index)
    (res,) = check_claims([MUTATIONS["mut-absorbing-0110"]], CheckSettings(steps=STEPS, inits=1), inits=[theta0])
    assert res.outcomes[0].outcome.status in (Status.REFUTED, Status.NOT_ADMITTED)
