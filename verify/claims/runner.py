"""Check a list of claims over a set of exact inits, sharing one GD trajectory per init.

The inits are lanes of one chunked sweep (:func:`verify.distributed.run_chunks`): a chunk task
(:class:`ClaimTask`) takes lanes ``a .. b - 1`` (the paper's default inits are sampled by index in
the worker, so the driver never holds them all), runs them through the engine
(:func:`verify.dynamics.sweep.run_chunk`: the float64 batch lanes, escalated to Arb), builds for
each init ONE :class:`~verify.claims.claim.Case` whose trajectory every per-init claim reads, and
folds the chunk's outcomes into a summary (:class:`ClaimsFold`); only summaries come back to the
driver, are stored (a :class:`~verify.store.ChunkStore` when one is given: every finished chunk at
once, and a rerun resumes from it) and merged. Two summaries:

* ``keep="all"``: every outcome (what ``results.json`` lists; memory grows with the inits);
* ``keep="examples"``: per claim the counts by status, the counterexample candidate (smallest
  exact L1 norm of the init, then index), the first outcome of each status, and one certified
  outcome per distinct span of steps covered: memory bounded by the claims, not the inits
  (what ``verify check`` uses, e.g. for 10**6 inits).

Where the chunks run (inline, a local process pool, dask), the chunk size, the store and the
progress line come from :class:`~verify.distributed.options.SweepOptions` (an argument, or the
innermost :func:`~verify.distributed.options.use_options` block); none changes a result.
Without a picklable ``lookup`` of the claims by id everything runs in this process.

When a claim is inconclusive on a float64 trajectory, the init is run again on Arb and all its
claims are checked again there (a lane escalated for that reason says so). When a claim reads
every step (``Claim.every_step``, e.g. a claim of the language), every step is recorded
(``RecordSchedule`` stride 1) and chunks hold at most :data:`EVERY_STEP_BLOCK` inits, which bounds
the records held at once. Claims of scope ``"once"`` run a single time on ``Case(settings, None)``.

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
``settings`` and ``inits`` (no wall times, no floats; not the executor, the workers, the chunks or
the store), so ``to_dict()`` is reproducible.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from verify.claims.claim import Case, Claim, always
from verify.claims.result import ClaimResult, InitOutcome, Outcome, Status
from verify.distributed.options import SweepOptions, current_options
from verify.distributed.runner import ChunkOutput, SweepRun, run_chunks
from verify.dynamics import sweep as _sweep
from verify.dynamics.batch import ENGINE as BATCH_ENGINE
from verify.dynamics.schedule import EVERY_STEP
from verify.dynamics.sweep import Lane, SweepResult
from verify.dynamics.trajectory import Trajectory
from verify.errors import UndecidableError
from verify.papers import CaseSpec, Paper
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
                known: Mapping[int, Sequence[Outcome | None]], index: int, traj: Trajectory,
                lane: Lane) -> tuple[Lane | None, list[Outcome]]:
    """Every per-init claim on one init's trajectory (``indices`` maps the sweep's lane index to the
    case index; ``known[index]``: outcomes already decided by lane checkers, None for the others);
    an inconclusive claim on a float64 trajectory sends the init to Arb and checks again (the new
    lane is returned then)."""
    every = any(c.every_step for c in claims)

    def on(trajectory: Trajectory, decided: Sequence[Outcome | None]) -> list[Outcome]:
        case = Case(settings, trajectory.theta0, indices[index], trajectory.problem, every)
        case.__dict__["trajectory"] = trajectory  # the cached property, already computed
        return [out if out is not None else _run_one(claim, case, check_outside)
                for claim, out in zip(claims, decided, strict=True)]

    outcomes = on(traj, known.get(index) or [None] * len(claims))
    if lane.engine == BATCH_ENGINE and any(o.status is Status.INCONCLUSIVE for o in outcomes):
        spec = settings.sweep_spec(EVERY_STEP if every else None, problem=traj.problem)
        return Lane(index, spec.escalation_backend, ESCALATED_FOR_CLAIMS), \
            on(spec.engine_run(traj.theta0), [None] * len(claims))
    return None, outcomes


def _decide_lanes(claims: Sequence[Claim], settings: CheckSettings, indices: Sequence[int], problem: Any,
                  known: dict[int, list[Outcome | None]], run: Any) -> list[tuple[None, tuple[Outcome, ...]] | None]:
    """The claims' lane checkers on a float64 batch ``run`` (:mod:`verify.claims.lanes`): per lane,
    ``(None, outcomes)`` when every claim is decided without its trajectory (hypotheses on the exact
    init, the rest by the lane checker), else None, with what was decided left in ``known``.
    Only completed lanes are decided; a claim without a lane checker decides none. Lanes with the
    same outcomes share one ``(None, outcomes)`` tuple: the chunk task
    folds each such group at once."""
    from verify.claims.lanes import LaneView

    if not any(c.lanes is not None for c in claims):
        return [None] * len(run)
    view = LaneView(run)
    completed = np.flatnonzero(view.completed)
    lanes = completed.tolist()
    cases: dict[int, Case] = {}  # per lane, one case shared by every claim's hypotheses
    columns = [_lane_column(claim, view, lanes, settings, indices, problem, cases) for claim in claims]
    out = np.empty(len(run), object)  # None everywhere
    if not lanes:
        return out.tolist()
    # Lane checkers share one outcome object among the lanes it fits: lanes are grouped by the
    # identities of their outcomes (held alive by ``columns``), and each group gets one shared value.
    ids = np.array([np.fromiter(map(id, column), np.int64, len(lanes)) for column in columns])
    every = (ids != id(None)).all(axis=0)  # per lane: every claim decided
    for pos in np.flatnonzero(~every).tolist():
        known[lanes[pos]] = [column[pos] for column in columns]
    full = np.flatnonzero(every)
    if len(full):
        _, first, group = np.unique(ids[:, full], axis=1, return_index=True, return_inverse=True)
        shared = np.empty(len(first), object)
        for g, pos in enumerate(full[first].tolist()):
            shared[g] = (None, tuple(column[pos] for column in columns))  # shared: immutable
        out[completed[full]] = shared[group.reshape(-1)]
    return out.tolist()


def _lane_column(claim: Claim, view: Any, lanes: list[int], settings: CheckSettings, indices: Sequence[int],
                 problem: Any, cases: dict[int, Case]) -> list[Outcome | None]:
    """One claim on the completed ``lanes`` of ``view``: the lane checker's outcome where the init is
    admitted, not-admitted where it is not (:data:`~verify.claims.lanes.OUTSIDE`, also where the lane
    checker says so: ``admits`` is not asked then), None where the lane checker does not decide or
    the hypotheses are undecided (the checker's path says so, with the message)."""
    from verify.claims.lanes import OUTSIDE

    if claim.lanes is None:
        return [None] * len(lanes)
    fast = claim.lanes(view)
    if claim.admits is always:
        return [fast[k] for k in lanes]
    column: list[Outcome | None] = []
    for k in lanes:
        if fast[k] is OUTSIDE:
            column.append(OUTSIDE)
            continue
        case = cases.get(k)
        if case is None:
            case = cases[k] = Case(settings, view.theta0(k), indices[k], problem)
        try:
            admitted = claim.admits(case)
        except UndecidableError:
            admitted = None
        column.append(fast[k] if admitted else OUTSIDE if admitted is False else None)
    return column


def _groups(cases: Sequence[CaseSpec]) -> list[list[CaseSpec]]:
    """Cases grouped by their (identical) problem object, in order of first appearance."""
    groups: dict[int, list[CaseSpec]] = {}
    for case in cases:
        groups.setdefault(id(case.problem), []).append(case)
    return list(groups.values())


# -- the chunk task ----------------------------------------------------------------------------------

KEEP = ("all", "examples")
MAX_CHUNK = 2048  # lanes per chunk at most (the batch kernels' per-step overhead is small from here)
CHUNK_QUANTUM = 512  # beyond this, chunks are whole multiples of it (a multiple of the batch kernels' block)
MIN_CHUNK = 16


@lru_cache(maxsize=8)
def _default_problem(settings: CheckSettings) -> Any:
    return settings.problem()


def lazy_cases(settings: CheckSettings) -> bool:
    """Whether the paper's cases are its default ones (inits sampled by index on its one problem),
    which a chunk then samples itself instead of the driver holding them all."""
    return type(settings.plugin).cases is Paper.cases


def chunk_groups(settings: CheckSettings, cases: Sequence[CaseSpec] | None, a: int,
                 b: int) -> list[tuple[tuple[int, ...], Any, Any]]:
    """Cases ``a .. b - 1`` (positions) as ``(indices, problem, inits)`` per problem: of ``cases``
    (inits: their exact tuples), or the paper's default inits ``a .. b - 1`` (inits: one float64
    array, whose doubles are the exact values, drawn in this process)."""
    if cases is None:
        from verify.init.schemes import sample_array

        problem = _default_problem(settings)
        return [(tuple(range(a, b)), problem, sample_array(problem.network, settings.scheme, settings.seed, b - a, a))]
    return [(tuple(c.index for c in group), group[0].problem, [c.theta0 for c in group])
            for group in _groups(cases[a:b])]


def exact_texts(theta: Any) -> tuple[str, ...]:
    """The exact values of ``theta`` (Fractions, or doubles) as text, ``str(Fraction(v))`` each."""
    return tuple(f"{n}/{d}" if d != 1 else str(n) for n, d in (v.as_integer_ratio() for v in theta)) \
        if theta and isinstance(theta[0], float) else tuple(str(q) for q in theta)


@dataclass(frozen=True)
class LaneOutcomes:
    """One init after every claim: the lane that certified it, its exact init (Fractions, or the
    doubles that are its exact values; as text: :attr:`texts`), one outcome per claim."""

    lane: Lane
    theta0: tuple[Fraction, ...] | tuple[float, ...]
    outcomes: tuple[Outcome, ...]

    @property
    def texts(self) -> tuple[str, ...]:
        """The exact init as text, ``str(Fraction(v))`` per parameter."""
        return exact_texts(self.theta0)


@dataclass(frozen=True)
class ClaimTask:
    """``task(a, b)``: lanes ``a .. b - 1`` of the check, folded with ``fold`` (picklable when
    ``lookup`` is, with ``claims`` left out)."""

    claim_ids: tuple[str, ...]
    settings: CheckSettings
    fold: Any
    lookup: Callable[[str], Claim] | None = None
    claims: tuple[Claim, ...] | None = None  # only without a lookup (then everything runs inline)
    cases: tuple[CaseSpec, ...] | None = None  # None: the paper's default inits, sampled per chunk
    check_outside: bool = False
    lanes_per_problem: tuple[int, ...] = ()  # the sweep's size per problem (the engine choice depends on it)

    def _claims(self) -> tuple[Claim, ...]:
        if self.claims is not None:
            return self.claims
        assert self.lookup is not None
        return tuple(self.lookup(cid) for cid in self.claim_ids)

    def __call__(self, a: int, b: int) -> ChunkOutput:
        claims = self._claims()
        every = any(c.every_step for c in claims)
        schedule = EVERY_STEP if every else None
        acc = self.fold.empty()
        escalated = 0
        for indices, problem, thetas in chunk_groups(self.settings, self.cases, a, b):
            known: dict[int, list[Outcome | None]] = {}  # by position in the group
            # lanes numbered by their sweep index where the group's indices are consecutive (so
            # run_chunk makes each Lane once), else by position; _check_init takes positions
            start = indices[0] if indices == tuple(range(indices[0], indices[0] + len(indices))) else 0
            check = partial(_check_init, claims, self.settings, self.check_outside, indices, known)

            def reduce(index: int, traj: Trajectory, lane: Lane, check=check, start=start):
                return check(index - start, traj, lane)

            decide = None if self.check_outside else \
                partial(_decide_lanes, claims, self.settings, indices, problem, known)
            spec = self.settings.sweep_spec(schedule, problem=problem)
            size = self._lanes_of(problem)
            pairs = _sweep.run_chunk(spec, start, thetas, reduce, size, decide)
            rows = thetas.tolist() if isinstance(thetas, np.ndarray) else thetas
            alike: dict[int, tuple[Any, list[int]]] = {}  # decided by the lane checkers: positions per shared value
            for pos, (lane, value) in enumerate(pairs):
                if lane is None:
                    group = alike.get(id(value))
                    if group is None:
                        alike[id(value)] = (value, [pos])
                    else:
                        group[1].append(pos)
                    continue
                new_lane, outs = value
                final, index = new_lane or lane, indices[pos]
                if final.index != index:
                    final = Lane(index, final.engine, final.escalated, final.chosen)
                escalated += final.escalated is not None
                acc = self.fold.add(acc, index, LaneOutcomes(final, tuple(rows[pos]), tuple(outs)))
            if alike:
                chosen = spec.choice(size).reason
                for (_, outs), positions in alike.values():
                    acc = self._add_alike(acc, [indices[p] for p in positions], [rows[p] for p in positions],
                                          tuple(outs), chosen)
        return ChunkOutput(acc, escalated)

    def _add_alike(self, acc: Any, indices: list[int], rows: list[Any], outs: tuple[Outcome, ...],
                   chosen: str | None) -> Any:
        """Lanes (``indices``, increasing; exact inits ``rows``) the lane checkers decided alike: the
        batch engine, not escalated, the same ``outs``. Folded at once where the fold can
        (``add_many``; not with a refutation, whose counterexample depends on each init), else one by one."""
        add_many = getattr(self.fold, "add_many", None)
        if add_many is not None and all(o.status is not Status.REFUTED for o in outs):
            return add_many(acc, indices, LaneOutcomes(Lane(indices[0], BATCH_ENGINE, None, chosen), tuple(rows[0]),
                                                       outs))
        for index, theta in zip(indices, rows, strict=True):
            acc = self.fold.add(acc, index, LaneOutcomes(Lane(index, BATCH_ENGINE, None, chosen), tuple(theta), outs))
        return acc

    def _lanes_of(self, problem: Any) -> int:
        if self.cases is None:
            return self.settings.inits
        order: dict[int, int] = {}
        for c in self.cases:
            order.setdefault(id(c.problem), len(order))
        return self.lanes_per_problem[order[id(problem)]]


# -- the folds --------------------------------------------------------------------------------------

def _reason_key(lane: Lane) -> str | None:
    return lane.escalated.split(" at step ")[0] if lane.escalated else None


@dataclass(frozen=True)
class AllOutcomes:
    """Every lane's outcomes, by init index (``keep="all"``); a :class:`~verify.distributed.Fold`."""

    def empty(self) -> dict[int, LaneOutcomes]:
        return {}

    def add(self, acc: dict, index: int, item: LaneOutcomes) -> dict:
        acc[index] = item
        return acc

    def merge(self, acc: dict, other: dict) -> dict:
        acc.update(other)
        return acc

    def finish(self, acc: dict) -> dict[int, LaneOutcomes]:
        return dict(sorted(acc.items()))


@dataclass(frozen=True)
class ClaimsFold:
    """Per claim, what ``verify check`` prints, in memory bounded by the claims (``keep="examples"``).

    Summary: ``{"engines": Counter, "reasons": Counter, "claims": [per claim: {"counts": status ->
    int, "cx": (L1, index, InitOutcome) | None, "first": status -> (index, InitOutcome), "covers":
    span -> (index, InitOutcome), "partial": (index, InitOutcome) | None}]}``, where ``partial`` is
    the first certified outcome that does not claim every t. Every part merges by sums and minima
    under a total order, so the summary does not depend on the chunks (a commutative monoid).
    """

    claims: int

    def empty(self) -> dict[str, Any]:
        return {"engines": Counter(), "reasons": Counter(),
                "claims": [{"counts": Counter(), "cx": None, "first": {}, "covers": {}, "partial": None}
                           for _ in range(self.claims)]}

    def add(self, acc: dict, index: int, item: LaneOutcomes) -> dict:
        return self._keep(self._count(acc, item, 1), index, item)

    def add_many(self, acc: dict, indices: Sequence[int], item: LaneOutcomes) -> dict:
        """:meth:`add` of ``item`` at each of ``indices`` (increasing): lanes with ``item``'s engine,
        escalation and outcomes, none refuted (a refutation is kept by its init's norm, which differs
        per lane). Only the first index can take a kept slot: once it holds one, every later index
        finds it taken."""
        return self._keep(self._count(acc, item, len(indices)), indices[0], item)

    def _count(self, acc: dict, item: LaneOutcomes, n: int) -> dict:
        acc["engines"][item.lane.engine] += n
        if item.lane.escalated:
            acc["reasons"][_reason_key(item.lane)] += n
        for c, out in zip(acc["claims"], item.outcomes, strict=True):
            data = out.data
            c["counts"][_STATUS_VALUE[out.status]] += n
            if data and data.get("gd") == "diverged" and out.status is not Status.NOT_ADMITTED:
                c["counts"]["diverged"] += n
        return acc

    def _keep(self, acc: dict, index: int, item: LaneOutcomes) -> dict:
        """The examples ``item`` at ``index`` may be: first of its status, the counterexample, the
        first cover of its span, the first partial cover."""
        texts: tuple[str, ...] | None = None  # the init as text, made only for a lane that is kept
        for c, out in zip(acc["claims"], item.outcomes, strict=True):
            status, data = _STATUS_VALUE[out.status], out.data
            span = data.get("covers") if data and out.status is Status.CERTIFIED else None
            if out.status is not Status.REFUTED and _taken(c["first"].get(status), index) and \
                    (not span or (_taken(c["covers"].get(span), index) and
                                  (data.get("every_t") or _taken(c["partial"], index)))):
                continue  # nothing of this lane is kept (a refutation may be the counterexample: by L1 norm)
            texts = texts or item.texts
            entry = (index, InitOutcome(index, texts, out))
            c["first"][status] = _least(c["first"].get(status), entry)
            if out.status is Status.REFUTED:
                c["cx"] = _least(c["cx"], (_l1(texts), index, entry[1]))
            if span:
                c["covers"][span] = _least(c["covers"].get(span), entry)
                if not data.get("every_t"):
                    c["partial"] = _least(c["partial"], entry)
        return acc

    def merge(self, acc: dict, other: dict) -> dict:
        acc["engines"].update(other["engines"])
        acc["reasons"].update(other["reasons"])
        for c, o in zip(acc["claims"], other["claims"], strict=True):
            c["counts"].update(o["counts"])
            c["cx"] = _least(c["cx"], o["cx"])
            c["partial"] = _least(c["partial"], o["partial"])
            for part in ("first", "covers"):
                for k, v in o[part].items():
                    c[part][k] = _least(c[part].get(k), v)
        return acc

    def finish(self, acc: dict) -> dict[str, Any]:
        return acc


_STATUS_VALUE = {s: s.value for s in Status}  # (Enum.value is a descriptor call: this is per lane)


def _taken(slot: tuple | None, index: int) -> bool:
    """Whether a kept slot holds a lane before ``index`` (which then cannot take it)."""
    return slot is not None and slot[0] < index


def _least(a: tuple | None, b: tuple | None) -> tuple | None:
    """The smaller of two candidates by their leading keys (``None``: no candidate)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if a[:-1] <= b[:-1] else b


@dataclass(frozen=True)
class FoldedClaimResult(ClaimResult):
    """A :class:`ClaimResult` of a streamed check: ``outcomes`` holds examples only (the
    counterexample, the first outcome of each status, one certified outcome per span covered);
    ``tally`` holds the counts over every init."""

    tally: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {s.value: self.tally.get(s.value, 0) for s in Status}


# -- the driver -------------------------------------------------------------------------------------

def choose_chunk_size(n: int, every_step: bool, unit: int = 1) -> int:
    """Lanes per chunk, a function of the sweep alone, not of the workers, so a rerun on other
    workers meets the same chunks in the store: a quarter of the sweep up to :data:`CHUNK_QUANTUM`
    lanes; beyond, an eighth, rounded to a multiple of the quantum (so of the batch kernels' block,
    whose lanes cost the same however few are used), so that a few workers share the chunks evenly
    (10,000 inits: ten chunks of 1,024, where chunks of 2,048 left one of two workers a third
    chunk to run alone). Between :data:`MIN_CHUNK` and
    :data:`MAX_CHUNK` (:data:`EVERY_STEP_BLOCK` when every step is recorded), a multiple of ``unit``
    (the matrix engine's stack, so its products never depend on the chunking)."""
    top = EVERY_STEP_BLOCK if every_step else MAX_CHUNK
    size = max(MIN_CHUNK, -(-n // 4))
    if size > CHUNK_QUANTUM:
        size = max(CHUNK_QUANTUM, round(n / 8 / CHUNK_QUANTUM) * CHUNK_QUANTUM)
    size = min(top, size)
    return max(unit, -(-size // unit) * unit)


def _claims_identity(claims: Sequence[Claim], lookup: Callable | None) -> str:
    """What the claims' outcomes depend on besides the settings and the engine code: their
    definitions, and the file a lookup reads them from (its content)."""
    parts: list[Any] = [[c.id, c.title, c.statement, c.source, list(c.hypotheses), c.mutation_of, c.scope,
                         c.every_step] for c in claims]
    if isinstance(lookup, partial):
        for arg in lookup.args:
            if isinstance(arg, str) and len(arg) < 4096 and Path(arg).is_file():
                parts.append(hashlib.sha256(Path(arg).read_bytes()).hexdigest())
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _claim_modules(claims: Sequence[Claim], settings: CheckSettings) -> tuple[str, ...]:
    mods = {"verify.claims", type(settings.plugin).__module__.split(".")[0]}
    for c in claims:
        for fn in (c.check, c.admits):
            mod = getattr(fn, "__module__", None) or getattr(getattr(fn, "func", None), "__module__", None)
            if mod and mod != "__main__":
                mods.add(mod.split(".")[0] if not mod.startswith("verify.") else ".".join(mod.split(".")[:2]))
    return tuple(sorted(mods))


def open_store(options: SweepOptions, claims: Sequence[Claim], lookup: Callable | None, settings: CheckSettings,
               cases: Sequence[CaseSpec] | None, keep: str, check_outside: bool) -> Any:
    """The store of this check under ``options.store`` (None without one). Its key: the claims'
    identity, the cases (when not the paper's default inits), what is kept, the settings' digest,
    and the code (engine modules, the claims', the paper's)."""
    if options.store is None:
        return None
    from verify.store import ChunkStore, store_key

    case_id = "default"
    if cases is not None:
        h = hashlib.sha256()
        for c in cases:
            h.update(json.dumps([c.index, [str(q) for q in c.theta0]]).encode())
        case_id = h.hexdigest()[:16]
    task = f"claims:{_claims_identity(claims, lookup)}:cases={case_id}:keep={keep}:outside={int(check_outside)}"
    try:
        key = store_key(task, settings.digest(), _claim_modules(claims, settings))
    except Exception:  # a module without source files (built in a notebook, ...): no store for it
        return None
    meta = {"claims": [c.id for c in claims], "paper": settings.paper, "settings": settings.to_dict(),
            "inits": len(cases) if cases is not None else settings.inits}
    return ChunkStore.open(options.store, key, json.loads(json.dumps(meta, default=str)))


def sweep_claims(per_init: Sequence[Claim], settings: CheckSettings, cases: Sequence[CaseSpec] | None, *,
                 keep: str, check_outside: bool, lookup: Callable[[str], Claim] | None, workers: int | None,
                 options: SweepOptions, progress: Callable[[int], None] | None = None) -> SweepRun:
    """The per-init claims over the cases as one chunked sweep (see the module doc)."""
    n = len(cases) if cases is not None else settings.inits
    every = any(c.every_step for c in per_init)
    fold: Any = AllOutcomes() if keep == "all" else ClaimsFold(len(per_init))
    sizes: tuple[int, ...] = ()
    if cases is not None:
        count: dict[int, int] = {}
        for c in cases:
            count[id(c.problem)] = count.get(id(c.problem), 0) + 1
        sizes = tuple(count.values())
    first_problem = cases[0].problem if cases else _default_problem(settings)
    spec = settings.sweep_spec(EVERY_STEP if every else None, problem=first_problem)
    unit = _sweep.matrix_stack(first_problem) if spec.choice(n).engine == _sweep.eng.MATRIX else 1
    chunk = options.chunk_size or choose_chunk_size(n, every, unit)
    task = ClaimTask(tuple(c.id for c in per_init), settings, fold, lookup,
                     tuple(per_init) if lookup is None else None, tuple(cases) if cases is not None else None,
                     check_outside, sizes)
    if lookup is None:
        workers = 1
    store = open_store(options, per_init, lookup, settings, cases, keep, check_outside)
    executor = options.executor
    if lookup is None:
        executor = "inline"
    elif executor is None and options.scheduler is None and spec.choice(n).engine == _sweep.BATCH:
        _sweep.bt.step_kernels(first_problem)  # compile (or load) once here, so forked workers inherit it
    return run_chunks(task, n, fold, chunk_size=chunk, store=store, executor=executor, scheduler=options.scheduler,
                      workers=workers, progress=options.progress, on_chunk=progress, resume=not options.fresh)


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
    keep: str | None = None,
    options: SweepOptions | None = None,
) -> list[ClaimResult]:
    """Check every claim; per-init claims on ``cases`` (default: the paper's
    :meth:`~verify.papers.Paper.cases`, or ``inits`` on the paper's problem when given).
    ``progress(k)`` is called as inits finish.

    ``lookup`` (a picklable function mapping a claim id to its claim) lets worker processes find
    the claims; without it everything runs in this process. ``workers`` defaults to every core.
    ``keep``: ``"all"`` outcomes, or ``"examples"`` only (bounded memory: :class:`FoldedClaimResult`);
    default: the options'. ``options``: executor, chunks, store, progress (default: the innermost
    :func:`~verify.distributed.options.use_options` block's, except for an ad-hoc ``inits`` list,
    e.g. one Hypothesis example: that never goes to a store; else inline/pool without a store).
    """
    if options is None:
        options = current_options() if inits is None else None
        options = options or SweepOptions()
    keep = options.keep if keep is None else keep
    if keep not in KEEP:
        from verify.errors import InvalidArgument

        raise InvalidArgument("keep", keep, f"must be one of {list(KEEP)}")
    per_init = [c for c in claims if c.scope != ONCE]
    once = {c.id: _run_one(c, Case(settings, None, 0), check_outside) for c in claims if c.scope == ONCE}
    config = settings.to_dict()
    summary: Any = None
    run = None
    if per_init:
        if cases is None and inits is not None:
            problem = settings.problem()
            cases = [CaseSpec(k, problem, tuple(theta)) for k, theta in enumerate(inits)]
        if cases is None and not lazy_cases(settings):
            cases = settings.plugin.cases(settings)
        run = sweep_claims(per_init, settings, cases, keep=keep, check_outside=check_outside, lookup=lookup,
                           workers=workers, options=options, progress=progress)
        summary = run.value
    results: list[ClaimResult] = []
    for claim in claims:
        common = dict(claim_id=claim.id, title=claim.title, statement=claim.statement, source=claim.source,
                      hypotheses=tuple(claim.hypotheses), depends_on=tuple(claim.depends_on),
                      mutation_of=claim.mutation_of, config=config)
        if claim.scope == ONCE:
            outs = (InitOutcome(0, (), once[claim.id]),)
            results.append(ClaimResult(**common, outcomes=outs, counterexample=smallest_refutation(outs)))
            continue
        position = per_init.index(claim)
        if keep == "all":
            outs = tuple(InitOutcome(i, lo.texts, lo.outcomes[position]) for i, lo in summary.items())
            engines = SweepResult([lo.lane for lo in summary.values()], []).summary()
            results.append(ClaimResult(**common, outcomes=outs, counterexample=smallest_refutation(outs),
                                       engines=engines))
        else:
            c = summary["claims"][position]
            examples = {e[1].index: e[1] for e in [*c["first"].values(), *c["covers"].values(),
                                                   *(x for x in (c["partial"],) if x)]}
            if c["cx"] is not None:
                examples[c["cx"][1]] = c["cx"][2]
            engines = {"inits": run.lanes, "engines": dict(sorted(summary["engines"].items())),
                       "escalated": sum(summary["reasons"].values()),
                       "escalation_reasons": dict(sorted(summary["reasons"].items()))}
            results.append(FoldedClaimResult(**common, outcomes=tuple(v for _, v in sorted(examples.items())),
                                             counterexample=c["cx"][2] if c["cx"] else None, engines=engines,
                                             tally=dict(c["counts"])))
    return results
