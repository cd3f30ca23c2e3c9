"""Three-valued checkers of paper B's claims (and, with other parameters, of their mutations).

Each ``*_checker`` returns a function ``Case -> Outcome`` of scope ``once``: it reads the shared
objects of the setting (:func:`proofs.paper_b.world.world`: data, samples, certified training runs)
and decides on exact rationals or certified enclosures only. A claim about the training runs is
*certified* when it holds on every run its hypotheses admit (and some run is admitted), *refuted*
when some admitted run certifiably violates it (the run, step and exact values are the
counterexample), *inconclusive* otherwise (saying which run and why); runs outside the hypotheses
(the loss never certified below the threshold) are counted and named, never counted as support.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from verify.claims.claim import Case
from verify.claims.result import Outcome, Status
from verify.errors import UndecidableError

Checker = Callable[[Case], Outcome]


def _world(case: Case):
    from proofs.paper_b.world import world

    return world(case.settings)


def _combine(per_run: list[tuple[str, str, Any]], what: str, outside: int,
             data: dict[str, Any] | None = None) -> Outcome:
    """One outcome from per-run ``(status, sentence, counterexample)`` (status strings)."""
    counts = {s: sum(1 for p in per_run if p[0] == s) for s in ("certified", "refuted", "inconclusive")}
    extra = {"runs": [[s, msg] for s, msg, _ in per_run], "counts": counts, "not_admitted_runs": outside,
             **(data or {})}
    tail = f" ({outside} run(s) outside the hypotheses)" if outside else ""
    refuted = [p for p in per_run if p[0] == "refuted"]
    if refuted:
        return Outcome(Status.REFUTED, f"{what}: refuted on {len(refuted)} of {len(per_run)} admitted runs: "
                       f"{refuted[0][1]}{tail}", 53, refuted[0][2], extra)
    if not per_run:
        return Outcome(Status.INCONCLUSIVE, f"{what}: no run admitted{tail}", None, None, extra)
    if counts["inconclusive"]:
        first = next(p for p in per_run if p[0] == "inconclusive")
        return Outcome(Status.INCONCLUSIVE, f"{what}: certified on {counts['certified']} of {len(per_run)} admitted "
                       f"runs; inconclusive: {first[1]}{tail}", 53, None, extra)
    return Outcome(Status.CERTIFIED, f"{what}: certified on all {len(per_run)} admitted runs{tail}", 53, None, extra)


def _run_name(run) -> str:
    return f"width {run.width}, init {run.seed}"


# --- Lemma 2.1 -------------------------------------------------------------------------------
def separability_checker(sign: int = 1) -> Checker:
    """Lemma 2.1: an exact rational separator (LP candidate, checked exactly) and the witness
    ``sign * u`` with ``y_i <sign u, x_i> > 0`` on every training point (``sign = -1``: a mutation)."""

    def check(case: Case) -> Outcome:
        from proofs.paper_b.separability import certify_separable, check_witness

        w = _world(case)
        direction = None if sign == 1 else -w.model.u
        wit = check_witness(w.model, w.sample, 0, direction)
        data = {"witness_min_margin": str(wit.min_margin), "witness_over_d": str(wit.over_d)}
        if wit.status == "refuted":
            i = wit.counterexample
            return Outcome(Status.REFUTED, f"y_i <{'u' if sign == 1 else '-u'}, x_i> = {wit.min_margin} <= 0 at "
                           f"training point {i}", None, {"point": str(i), "margin": str(wit.min_margin)}, data)
        sep = certify_separable(w.sample)
        data["separator"] = sep.status
        if sep.status != "certified":
            return Outcome(Status.INCONCLUSIVE, f"witness certified (min y<u,x>/d = {float(wit.over_d):.3f}); "
                           f"LP separator: {sep.reason}", None, None, data)
        return Outcome(Status.CERTIFIED, f"exact separator with min margin {sep.min_margin}; witness u: min "
                       f"y<u,x> = {float(wit.min_margin):.4g} = {float(wit.over_d):.3f} d", None, None, data)

    return check


# --- Theorem 2.1 -----------------------------------------------------------------------------
def _bias_of(run, w):
    """The Theorem-2.1 quantities of a run from its threshold step on (cached on the run)."""
    from proofs.paper_b.bias import trajectory_bias

    if not hasattr(run, "_bias"):
        run._bias = trajectory_bias(run.trajectory, run.reached) if run.reached is not None else []
    return run._bias


def margin_checker(quantity: str = "margin", increasing: bool = True) -> Checker:
    """Theorem 2.1 (Lyu & Li): once the loss is certified below the threshold, the normalized
    margin (``quantity="margin"``) or the smoothed margin (``"smoothed"``) is non-decreasing over the
    recorded steps (``increasing=False``: the mutation "non-increasing")."""

    def check(case: Case) -> Outcome:
        from proofs.paper_b.bias import monotone_verdict

        w = _world(case)
        per_run, outside = [], 0
        for run in w.runs():
            if run.reached is None:
                outside += 1
                continue
            try:
                bs = _bias_of(run, w)
            except UndecidableError as exc:
                per_run.append(("inconclusive", f"{_run_name(run)}: {exc}", None))
                continue
            vals = [(b.t, getattr(b, f"{quantity}_lo"), getattr(b, f"{quantity}_hi")) for b in bs
                    if getattr(b, f"{quantity}_lo") is not None]
            if len(vals) < 2:
                per_run.append(("inconclusive", f"{_run_name(run)}: fewer than two certified steps after the "
                                f"threshold (run {run.summary.status}: {run.summary.reason})", None))
                continue
            status, msg = monotone_verdict(vals, increasing)
            cx = {"width": str(run.width), "init": str(run.seed)} if status == "refuted" else None
            stop = "" if run.trajectory.certified else f"; certified up to step {run.trajectory.steps_done}"
            per_run.append((status, f"{_run_name(run)}: {msg} (steps {vals[0][0]}..{vals[-1][0]}{stop})", cx))
        return _combine(per_run, f"{quantity} {'non-decreasing' if increasing else 'non-increasing'} after L < "
                        f"threshold", outside)

    return check
