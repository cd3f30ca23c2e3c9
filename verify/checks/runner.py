"""Check a list of claims over a set of exact inits, sharing one GD trajectory per init.

The inits go through one sweep (:mod:`verify.dynamics.sweep`: the float64 batch backend, with
escalation to Arb, in worker processes when a picklable ``lookup`` of the claims by id is
given). For each init the runner builds ONE :class:`~verify.checks.claim.Case` holding its
trajectory; every per-init claim reads it, so each GD run happens once whatever the number of
claims. When a claim is inconclusive on a float64 trajectory, the init is run again on Arb and
all its claims are checked again there (a lane escalated for that reason says so). Claims of
scope ``"once"`` run a single time on ``Case(settings, None)``.

Per claim and init the outcome is:

* ``not-admitted`` when ``claim.admits(case)`` is False (the checker is not run, unless
  ``check_outside`` is set: then the checker's status, detail and counterexample are kept in
  ``data["outside_status"]``, ``detail`` and ``data["outside_counterexample"]``, and the outcome
  still counts as not-admitted, so it never changes a claim's verdict);
* ``inconclusive`` (with the message) when the checker, or ``admits``, raises
  :class:`~verify.errors.UndecidableError`;
* otherwise the checker's own three-valued outcome.

The counterexample of a :class:`~verify.checks.result.ClaimResult` is the refuted outcome whose
init has the smallest exact L1 norm (ties: smallest index). Invariant: results depend only on
``settings`` and ``inits`` (no wall times, no floats), so ``to_dict()`` is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction
from functools import partial

from verify.checks.claim import Case, Claim
from verify.checks.result import ClaimResult, InitOutcome, Outcome, Status
from verify.checks.settings import CheckSettings
from verify.dynamics.batch import ENGINE as BATCH_ENGINE
from verify.dynamics.sweep import Lane, sweep
from verify.dynamics.trajectory import Trajectory
from verify.errors import UndecidableError
from verify.init.schemes import sample_inits

ONCE = "once"


def _run_one(claim: Claim, case: Case, check_outside: bool) -> Outcome:
    try:
        admitted = claim.admits(case)
    except UndecidableError as exc:
        return Outcome(Status.INCONCLUSIVE, f"hypotheses undecided: {exc}")
    if not admitted and not check_outside:
        return Outcome(Status.NOT_ADMITTED, "outside the claim's hypotheses")
    try:
        out = claim.check(case)
    except UndecidableError as exc:
        prec = case.trajectory.prec if case.theta0 is not None and "trajectory" in case.__dict__ else None
        out = Outcome(Status.INCONCLUSIVE, f"undecided: {exc}", prec)
    if not admitted:  # counted as not-admitted; the checker's own verdict is kept for inspection
        out = replace(out, status=Status.NOT_ADMITTED, counterexample=None,
                      data={**out.data, "outside": True, "outside_status": out.status.value,
                            "outside_counterexample": out.counterexample})
    return out


def _l1(theta: tuple[str, ...]) -> Fraction:
    return sum((abs(Fraction(q)) for q in theta), Fraction(0))


def smallest_refutation(outcomes: Sequence[InitOutcome]) -> InitOutcome | None:
    """The refuted outcome with the smallest exact L1 norm of ``theta_0`` (ties: lowest index)."""
    refuted = [o for o in outcomes if o.outcome.status is Status.REFUTED]
    if not refuted:
        return None
    return min(refuted, key=lambda o: (_l1(o.theta0), o.index))


ESCALATED_FOR_CLAIMS = "a claim was inconclusive on the float64 enclosures"


def _check_init(claims: Sequence[Claim], settings: CheckSettings, check_outside: bool, index: int,
                traj: Trajectory, lane: Lane) -> tuple[Lane | None, list[Outcome]]:
    """Every per-init claim on one init's trajectory; an inconclusive claim on a float64
    trajectory sends the init to Arb and checks again (the new lane is returned then)."""
    def on(trajectory: Trajectory) -> list[Outcome]:
        case = Case(settings, trajectory.theta0, index)
        case.__dict__["trajectory"] = trajectory  # the cached property, already computed
        return [_run_one(claim, case, check_outside) for claim in claims]

    outcomes = on(traj)
    if lane.engine == BATCH_ENGINE and any(o.status is Status.INCONCLUSIVE for o in outcomes):
        spec = settings.sweep_spec()
        return Lane(index, spec.escalation_backend, ESCALATED_FOR_CLAIMS), on(spec.engine_run(traj.theta0))
    return None, outcomes


def _check_init_by_id(claim_ids: tuple[str, ...], lookup: Callable[[str], Claim], settings: CheckSettings,
                      check_outside: bool, index: int, traj: Trajectory, lane: Lane) -> tuple[Lane | None, list]:
    return _check_init([lookup(cid) for cid in claim_ids], settings, check_outside, index, traj, lane)


def check_claims(
    claims: list[Claim],
    settings: CheckSettings,
    inits: list[tuple[Fraction, ...]] | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    check_outside: bool = False,
    lookup: Callable[[str], Claim] | None = None,
    workers: int | None = None,
) -> list[ClaimResult]:
    """Check every claim; per-init claims on ``inits`` (default: ``settings.inits`` samples of
    ``settings.scheme`` under ``settings.seed``). ``progress(k)`` is called as inits finish.

    ``lookup`` (a module-level function mapping a claim id to its claim) lets worker processes
    find the claims; without it everything runs in this process. ``workers`` defaults to every
    core.
    """
    per_init = [c for c in claims if c.scope != ONCE]
    outcomes: dict[str, list[InitOutcome]] = {c.id: [] for c in claims}
    for claim in claims:
        if claim.scope == ONCE:
            outcomes[claim.id].append(InitOutcome(0, (), _run_one(claim, Case(settings, None, 0), check_outside)))
    engines = None
    if per_init:
        if inits is None:
            problem = settings.problem()
            inits = sample_inits(problem.network, settings.scheme, settings.seed, settings.inits)
        if lookup is None:
            reduce = partial(_check_init, tuple(per_init), settings, check_outside)
            workers = 1
        else:
            reduce = partial(_check_init_by_id, tuple(c.id for c in per_init), lookup, settings, check_outside)
        result = sweep(settings.sweep_spec(), inits, reduce, workers=workers, progress=progress)
        for k, (lane, (new_lane, outs)) in enumerate(zip(result.lanes, result.values, strict=True)):
            result.lanes[k] = new_lane or lane
            names = tuple(str(q) for q in inits[k])
            for claim, out in zip(per_init, outs, strict=True):
                outcomes[claim.id].append(InitOutcome(k, names, out))
        engines = result.summary()
    config = settings.to_dict()
    results = []
    for claim in claims:
        outs = tuple(outcomes[claim.id])
        results.append(ClaimResult(
            claim_id=claim.id, title=claim.title, statement=claim.statement, source=claim.source,
            hypotheses=tuple(claim.hypotheses), depends_on=tuple(claim.depends_on), mutation_of=claim.mutation_of,
            config=config, outcomes=outs, counterexample=smallest_refutation(outs),
            engines=engines if claim.scope != ONCE else None,
        ))
    return results
