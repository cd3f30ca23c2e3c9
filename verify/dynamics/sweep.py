"""Certified GD over a batch of inits: per-init trajectories in, per-init results out.

:func:`sweep` splits the inits into chunks and runs them in worker processes (both cores by
default). The engine is chosen per problem by :func:`verify.dynamics.engines.choose`
(``"auto"``), or named: with ``"batch"`` a chunk runs on the float64 lane kernels
(:mod:`verify.dynamics.batch`), with ``"matrix"`` on float64 interval matrices with the chunk's
inits stacked (:mod:`verify.dynamics.wide`); every lane a float64 engine cannot certify to the end
(an undecided sign, an overflow, an interval wider than the width limit, or a floating-point
environment that breaks its assumptions) is *escalated*: run again from its exact init by the
arbitrary-precision engine (:func:`verify.dynamics.gd.run_gd` on Arb, which itself doubles its
precision before it gives up). With ``"arb"`` or ``"mpmath"`` every init runs on that engine.
Each init's trajectory is handed to ``reduce(index, trajectory, lane)`` in the worker, and only
what ``reduce`` returns (it must be picklable) comes back, in index order, with a :class:`Lane`
saying which engine certified it, why that engine was chosen, and why it was escalated.

Invariant: the results depend on the inits and the settings only, not on the number of workers
or on how the inits were chunked (each lane's arithmetic is independent of the other lanes').
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Generic, TypeVar

from verify.arith import BACKENDS
from verify.arith.arrays import get_arithmetic
from verify.dynamics import batch as bt
from verify.dynamics import batch_layout as bl
from verify.dynamics import engines as eng
from verify.dynamics.divergence import DEFAULT_DIVERGENCE_BOUND, DIVERGED
from verify.dynamics.gd import run_gd
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.trajectory import Trajectory
from verify.errors import InvalidArgument
from verify.model.network import Problem

BATCH = eng.BATCH
MIN_BATCH_CHUNK = 2048
ENGINES = (BATCH, eng.AUTO, eng.MATRIX, *sorted(BACKENDS))
MATRIX_STACK_BYTES = 2**26  # the matrix engine stacks inits up to about this many bytes of parameters
R = TypeVar("R")
Reduce = Callable[[int, Trajectory, "Lane"], Any]


@dataclass(frozen=True)
class Lane:
    """How init ``index`` was run: the engine whose trajectory it got, and why it was escalated."""

    index: int
    engine: str  # "batch-f64", "matrix-f64", "arb" or "mpmath"
    escalated: str | None = None  # why a float64 engine handed it on (None: it did not)
    chosen: str | None = None  # why the sweep started it on the engine it chose


@dataclass(frozen=True)
class SweepSpec:
    """What every lane of a sweep shares (picklable, sent to the workers)."""

    problem: Problem
    steps: int
    engine: str = BATCH
    prec: int = 128
    max_prec: int = 1024
    schedule: RecordSchedule = field(default_factory=RecordSchedule)
    width_limit: float = bt.DEFAULT_WIDTH_LIMIT
    divergence_bound: int | Fraction | None = DEFAULT_DIVERGENCE_BOUND  # verify.dynamics.divergence

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise InvalidArgument("backend", self.engine, f"must be one of {list(ENGINES)}")

    @property
    def escalation_backend(self) -> str:
        """The arbitrary-precision engine a float64 lane is handed to."""
        return self.engine if self.engine in BACKENDS else "arb"

    def choice(self, lanes: int = 1) -> eng.EngineChoice:
        """The engine this spec starts each of ``lanes`` inits on, and why."""
        return eng.choose(self.problem, self.engine, lanes)

    def engine_run(self, theta0: Sequence[Fraction]) -> Trajectory:
        """One init on the arbitrary-precision engine."""
        return run_gd(self.problem, theta0, self.steps, backend=self.escalation_backend, prec=self.prec,
                      max_prec=self.max_prec, schedule=self.schedule, divergence_bound=self.divergence_bound)


@dataclass
class SweepResult(Generic[R]):
    """Per-init lanes and reduced values, in index order."""

    lanes: list[Lane]
    values: list[R]

    def summary(self) -> dict[str, Any]:
        """Counts by engine and by escalation reason (the reason's words, without its step)."""
        reasons = Counter(lane.escalated.split(" at step ")[0] for lane in self.lanes if lane.escalated)
        return {
            "inits": len(self.lanes),
            "engines": dict(sorted(Counter(lane.engine for lane in self.lanes).items())),
            "escalated": sum(reasons.values()),
            "escalation_reasons": dict(sorted(reasons.items())),
        }


def run_chunk(spec: SweepSpec, start: int, inits: Sequence[Sequence[Fraction]],
              reduce: Reduce, lanes: int | None = None,
              decide: Callable[[bt.BatchRun], Sequence[Any]] | None = None) -> list[tuple[Lane, Any]]:
    """Lanes ``start .. start + len(inits) - 1``: their trajectories, reduced in this process.
    ``lanes``: the size of the whole sweep, which the engine choice depends on (default: this chunk).
    ``decide`` (batch engine only): given the batch run, the reduced value of each lane it can reduce
    from the float64 records alone (``None`` for the others); a completed lane with a value skips
    its trajectory and ``reduce``, and comes as ``(None, value)``: no :class:`Lane` is made for it
    (it is the batch engine's, not escalated, started for ``spec.choice(lanes).reason``; see
    :mod:`verify.claims.lanes`)."""
    out = []
    choice = spec.choice(len(inits) if lanes is None else lanes)
    refusal = eng.float64_refusal() if choice.engine in (eng.BATCH, eng.MATRIX) else None
    if choice.engine in BACKENDS or refusal:
        for k, theta0 in enumerate(inits):
            engine = spec.escalation_backend
            lane = Lane(start + k, engine, refusal, choice.reason)
            out.append((lane, reduce(start + k, spec.engine_run(theta0), lane)))
        return out
    if choice.engine == eng.BATCH:
        batch = bt.run_batch(spec.problem, inits, spec.steps, schedule=spec.schedule, width_limit=spec.width_limit,
                             divergence_bound=spec.divergence_bound)
        decided = decide(batch) if decide is not None else [None] * len(batch)
        completed = (batch.status == bl.COMPLETE).tolist()
        for k in range(len(batch)):
            if completed[k] and decided[k] is not None:  # its lane: the batch engine, not escalated, choice.reason
                out.append((None, decided[k]))
                continue
            if completed[k] or batch.diverged(k):  # certified either way
                lane, traj = Lane(start + k, bt.ENGINE, None, choice.reason), batch.trajectory(k, spec.prec)
            else:
                lane, traj = Lane(start + k, spec.escalation_backend, batch.escalation_reason(k), choice.reason), \
                    spec.engine_run(batch.init(k))
            out.append((lane, reduce(start + k, traj, lane)))
        return out
    stack = matrix_stack(spec.problem)
    for a in range(0, len(inits), stack):
        run = run_matrix_f64(spec, inits[a:a + stack])
        for k, result in enumerate(run.lanes):
            index = start + a + k
            if result.completed or result.status == DIVERGED:  # certified either way
                lane = Lane(index, eng.MATRIX_ENGINE, None, choice.reason)
                traj = run.trajectory(k, backend=eng._arb_reader(), engine=eng.MATRIX_ENGINE, precisions_tried=(53,))
            else:
                lane = Lane(index, spec.escalation_backend, result.reason, choice.reason)
                traj = spec.engine_run(inits[a + k])
            out.append((lane, reduce(index, traj, lane)))
    return out


def matrix_stack(problem: Problem) -> int:
    """How many inits the matrix engine stacks in one product: about :data:`MATRIX_STACK_BYTES` of
    parameters (1 for networks of more than 4 million parameters)."""
    return max(1, MATRIX_STACK_BYTES // (16 * problem.network.n_params))


def run_matrix_f64(spec: SweepSpec, inits: Sequence[Sequence[Fraction]]):
    """The float64 matrix engine on ``inits``, stacked (:func:`verify.dynamics.wide.run_matrix`)."""
    from verify.dynamics.wide import run_matrix

    return run_matrix(spec.problem, inits, spec.steps, get_arithmetic("f64"), schedule=spec.schedule,
                      width_limit=spec.width_limit, divergence_bound=spec.divergence_bound)


def certified_run(spec: SweepSpec, theta0: Sequence[object]) -> tuple[Lane, Trajectory]:
    """One init, in this process, on the spec's engine (escalating like a sweep)."""
    theta = spec.problem.network.check_params(theta0)
    return run_chunk(spec, 0, [theta], _keep)[0][1]


def _keep(index: int, traj: Trajectory, lane: Lane) -> tuple[Lane, Trajectory]:
    return lane, traj


def default_workers() -> int:
    """Both cores (every core this process may use)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def sweep(
    spec: SweepSpec,
    inits: Sequence[Sequence[Fraction]],
    reduce: Reduce,
    *,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """Every init through ``spec``'s engine, ``reduce`` applied in the workers; see the module doc.

    ``progress(k)`` is called in this process as chunks finish, with the number of inits done.
    """
    workers = default_workers() if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidArgument("workers", workers, "must be a positive integer")
    inits = [spec.problem.network.check_params(theta, f"inits[{k}]") for k, theta in enumerate(inits)]
    n = len(inits)
    engine = spec.choice(n).engine
    batched = engine == BATCH
    if batched:  # chunks of at least MIN_BATCH_CHUNK lanes keep the per-step overhead small
        pieces = max(workers, min(workers * 4, n // MIN_BATCH_CHUNK))
    else:
        pieces = workers * 16
    # the matrix engine's stacks start at multiples of its stack size, whatever the chunks: the
    # products (and so the enclosures) of a lane then never depend on the number of workers
    unit = matrix_stack(spec.problem) if engine == eng.MATRIX else 1
    units = -(-n // unit)
    pieces = min(units, pieces) or 1
    bounds = [(min(n, unit * (units * k // pieces)), min(n, unit * (units * (k + 1) // pieces))) for k in range(pieces)]
    bounds = [(a, b) for a, b in bounds if b > a]
    if batched:
        bt.step_kernels(spec.problem)  # compile (or load) once here, so forked workers inherit it
    results: list[tuple[Lane, Any]] = []
    done = 0
    if workers == 1 or len(bounds) <= 1:
        for a, b in bounds:
            results += run_chunk(spec, a, inits[a:b], reduce, n)
            done += b - a
            if progress is not None:
                progress(done)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run_chunk, spec, a, inits[a:b], reduce, n): b - a for a, b in bounds}
            for future in as_completed(futures):
                results += future.result()
                done += futures[future]
                if progress is not None:
                    progress(done)
    results.sort(key=lambda pair: pair[0].index)
    return SweepResult([lane for lane, _ in results], [value for _, value in results])
