"""The admitted-run loop shared by paper B's margin, KKT and balance checkers: runs that never
reached the threshold are counted outside the hypotheses (never judged), a run whose Theorem-2.1
quantities are undecidable is inconclusive with the reason, every other run is judged on its records."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofs.paper_b import checks
from verify.errors import UndecidableError


class _Run(SimpleNamespace):
    pass


def _world(kinds):
    """One fake run per kind: "outside" (never below the threshold), "undecided" (its bias raises), "ok"."""
    runs = []
    for i, kind in enumerate(kinds):
        run = _Run(width=8, seed=i, reached=None if kind == "outside" else 10)
        if kind == "ok":
            run._bias = [i]  # _bias_of returns the cached records
        runs.append((kind, run))
    return SimpleNamespace(runs=lambda: [r for _, r in runs]), runs


@given(st.lists(st.sampled_from(["outside", "undecided", "ok"]), max_size=8))
def test_judge_admitted_counts_outside_and_reports_undecidable(kinds):
    world, runs = _world(kinds)
    judged = []

    def judge(run, bs):
        judged.append((run.seed, bs))
        return "certified", f"run {run.seed}", None

    def bias_of(run, w):
        if not hasattr(run, "_bias"):
            raise UndecidableError(f"undecided sign in run {run.seed}")
        return run._bias

    original = checks._bias_of
    checks._bias_of = bias_of
    try:
        per_run, outside = checks._judge_admitted(world, judge)
    finally:
        checks._bias_of = original
    assert outside == kinds.count("outside")
    admitted = [(k, r) for k, r in runs if k != "outside"]
    assert len(per_run) == len(admitted)
    for (kind, run), (status, text, cx) in zip(admitted, per_run, strict=True):
        if kind == "undecided":
            assert status == "inconclusive" and text == f"width 8, init {run.seed}: undecided sign in run {run.seed}"
        else:
            assert (status, text) == ("certified", f"run {run.seed}")
        assert cx is None
    assert judged == [(r.seed, [r.seed]) for k, r in admitted if k == "ok"]


def _kkt_outcome(monkeypatch, first, last, mutated):
    """The KKT checker on one fake run whose first and last KKT steps carry ``(eps_lo, eps_hi)``."""
    recs = [SimpleNamespace(t=t, eps_lo=Fraction(lo), eps_hi=Fraction(hi)) for t, (lo, hi) in ((5, first), (9, last))]
    run = _Run(width=8, seed=0, reached=5, _bias=recs)
    monkeypatch.setattr(checks, "_world", lambda case: SimpleNamespace(runs=lambda: [run]))
    return checks.kkt_checker(mutated=mutated)(None)


@pytest.mark.parametrize(("first", "last", "mutation", "claim"), [
    (("9/20", "1/2"), ("1/4", "3/10"), "refuted", "certified"),  # upper at the end < lower at the start
    (("1/5", "1/2"), ("1/4", "3/10"), "inconclusive", "certified"),  # the upper bounds shrink, eps* may not
    (("1/5", "1/4"), ("3/10", "2/5"), "certified", "inconclusive"),  # lower at the end > upper at the start
])
def test_eps_grows_is_refuted_only_against_the_dual_lower_bound(monkeypatch, first, last, mutation, claim):
    assert _kkt_outcome(monkeypatch, first, last, mutated=True).status.value == mutation
    assert _kkt_outcome(monkeypatch, first, last, mutated=False).status.value == claim
