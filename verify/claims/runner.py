"""Check a list of claims over a set of exact inits, sharing one GD trajectory per init.

The inits go through one sweep (:mod:`verify.dynamics.sweep`: the float64 batch backend, with
escalation to Arb, in worker processes when a picklable ``lookup`` of the claims by id is
given). For each init the runner builds ONE :class:`~verify.claims.claim.Case` holding its
trajectory; every per-init claim reads it, so each GD run happens once whatever the number of
claims. When a claim is inconclusive on a float64 trajectory, the init is run again on Arb and
all its claims are checked again there (a lane escalated for that reason says so). When a claim
reads every step (``Claim.every_step``, e.g. a claim of the language), every step is recorded
(``RecordSchedule`` stride 1) and the inits go through the sweep in blocks of
:data:`EVERY_STEP_BLOCK`, which bounds the records held at once. Claims of
scope ``"once"`` run a single time on ``Case(settings, None)``.

Per claim and init the outcome is:

* ``not-admitted`` when ``claim.admits(case)`` is False (the checker is not run, unless
  ``check_outside`` is set: then the checker's status, detail and counterexample are kept in
  ``data["outside_status"]``, ``detail`` and ``data["outside_counterexample"]``, and the outcome
  still counts as not-admitted, so it never changes a claim's verdict);
* ``inconclusive`` (with the message) when the checker, or ``admits``, raises
  :class:`~verify.errors.UndecidableError`;
* otherwise the checker's own three-valued outcome.

The counterexample of a :class:`~verify.claims.result.ClaimResult` is the refuted outcome whose
init has the smallest exact L1 norm (ties: smallest index). Invariant: results depend only on
``settings`` and ``inits`` (no wall times, no floats), so ``to_dict()`` is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction
from functools import partial

from verify.claims.claim import Case, Claim
from verify.claims.result import ClaimResult, InitOutcome, Outcome, Status
from verify.dynamics.batch import ENGINE as BATCH_ENGINE
from verify.dynamics.schedule import EVERY_STEP
from verify.dynamics.sweep import Lane, SweepResult, sweep
from verify.dynamics.trajectory import Trajectory
from verify.errors import UndecidableError
from verify.papers import CaseSpec
from verify.settings import CheckSettings

ONCE = "once"
EVERY_STEP_BLOCK = 256  # inits per sweep when every step is recorded (bounds the records held at once)


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
    if case.theta0 is not None and "trajectory" in case.__dict__ and case.trajectory.diverged:
        out = replace(out, data={**out.data, "gd": "diverged", "diverged_at": case.trajectory.failed_step})
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


def _check_init(claims: Sequence[Claim], settings: CheckSettings, check_outside: bool, indices: Sequence[int],
                index: int, traj: Trajectory, lane: Lane) -> tuple[Lane | None, list[Outcome]]:
    """Every per-init claim on one init's trajectory (``indices`` maps the sweep's lane index to the
    case index); an inconclusive claim on a float64 trajectory sends the init to Arb and checks again
    (the new lane is returned then)."""
    every = any(c.every_step for c in claims)

    def on(trajectory: Trajectory) -> list[Outcome]:
        case = Case(settings, trajectory.theta0, indices[index], trajectory.problem, every)
        case.__dict__["trajectory"] = trajectory  # the cached property, already computed
        return [_run_one(claim, case, check_outside) for claim in claims]

    outcomes = on(traj)
    if lane.engine == BATCH_ENGINE and any(o.status is Status.INCONCLUSIVE for o in outcomes):
        spec = settings.sweep_spec(EVERY_STEP if every else None, problem=traj.problem)
        return Lane(index, spec.escalation_backend, ESCALATED_FOR_CLAIMS), on(spec.engine_run(traj.theta0))
    return None, outcomes


def _check_init_by_id(claim_ids: tuple[str, ...], lookup: Callable[[str], Claim], settings: CheckSettings,
                      check_outside: bool, indices: Sequence[int], index: int, traj: Trajectory,
                      lane: Lane) -> tuple[Lane | None, list]:
    return _check_init([lookup(cid) for cid in claim_ids], settings, check_outside, indices, index, traj, lane)


def _groups(cases: Sequence[CaseSpec], block: int | None = None) -> list[list[CaseSpec]]:
    """Cases grouped by their (identical) problem object, in order of first appearance (and cut into
    blocks of at most ``block`` cases)."""
    groups: dict[int, list[CaseSpec]] = {}
    for case in cases:
        groups.setdefault(id(case.problem), []).append(case)
    if block is None:
        return list(groups.values())
    return [g[k:k + block] for g in groups.values() for k in range(0, len(g), block)]


def check_claims(
    claims: list[Claim],
    settings: CheckSettings,
    inits: list[tuple[Fraction, ...]] | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    cases: Sequence[CaseSpec] | None = None,
    check_outside: bool = False,
    lookup: Callable[[str], Claim] | None = None,
    workers: int | None = None,
) -> list[ClaimResult]:
    """Check every claim; per-init claims on ``cases`` (default: the paper's
    :meth:`~verify.papers.Paper.cases`, or ``inits`` on the paper's problem when given).
    ``progress(k)`` is called as inits finish.

    ``lookup`` (a picklable function mapping a claim id to its claim) lets worker processes find
    the claims; without it everything runs in this process. ``workers`` defaults to every core.
    """
    per_init = [c for c in claims if c.scope != ONCE]
    outcomes: dict[str, list[InitOutcome]] = {c.id: [] for c in claims}
    for claim in claims:
        if claim.scope == ONCE:
            outcomes[claim.id].append(InitOutcome(0, (), _run_one(claim, Case(settings, None, 0), check_outside)))
    engines = None
    if per_init:
        if cases is None:
            if inits is None:
                cases = settings.plugin.cases(settings)
            else:
                problem = settings.problem()
                cases = [CaseSpec(k, problem, tuple(theta)) for k, theta in enumerate(inits)]
        if lookup is None:
            workers = 1
        lanes: list[Lane] = []
        per_case: dict[int, list[Outcome]] = {}
        done = 0
        every = any(c.every_step for c in per_init)
        schedule = EVERY_STEP if every else None
        for group in _groups(cases, EVERY_STEP_BLOCK if every else None):
            indices = tuple(c.index for c in group)
            if lookup is None:
                reduce = partial(_check_init, tuple(per_init), settings, check_outside, indices)
            else:
                reduce = partial(_check_init_by_id, tuple(c.id for c in per_init), lookup, settings, check_outside,
                                 indices)
            step = None if progress is None else (lambda k, base=done: progress(base + k))
            result = sweep(settings.sweep_spec(schedule, problem=group[0].problem), [c.theta0 for c in group], reduce,
                           workers=workers, progress=step)
            for case, lane, (new_lane, outs) in zip(group, result.lanes, result.values, strict=True):
                lanes.append(replace(new_lane or lane, index=case.index))
                per_case[case.index] = outs
            done += len(group)
        for case in sorted(cases, key=lambda c: c.index):
            names = tuple(str(q) for q in case.theta0)
            for claim, out in zip(per_init, per_case[case.index], strict=True):
                outcomes[claim.id].append(InitOutcome(case.index, names, out))
        engines = SweepResult(sorted(lanes, key=lambda lane: lane.index), []).summary()
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
