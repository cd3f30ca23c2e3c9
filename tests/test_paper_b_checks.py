"""The admitted-run loop shared by paper B's margin, KKT and balance checkers: runs that never
reached the threshold are counted outside the hypotheses (never judged), a run whose Theorem-2.1
quantities are undecidable is inconclusive with the reason, every other run is judged on its records."""

from __future__ import annotations

from types import SimpleNamespace

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
