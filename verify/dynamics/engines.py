"""Which engine certifies a GD run, and why: one choice for users.

The engines compute the same certified GD (:mod:`verify.dynamics.step`):

* ``"batch"``: float64 interval lanes on numba kernels unrolled for the network's shape
  (:mod:`verify.dynamics.batch`): the fastest for paper A's tiny networks over many inits
  (``benchmarks/bench_batch.py``: 0.77x a plain numpy loop on 10,000 inits);
* ``"matrix"``: float64 midpoint-radius matrices on the BLAS (:mod:`verify.dynamics.wide`,
  :mod:`verify.arith.midrad`), several inits stacked in one product: for every other size
  (``benchmarks/bench_wide.py``: 0.52x the throughput of a plain numpy GD at m = 100, d = 2,000,
  n = 400; 0.39x at m = d = n = 256);
* ``"arb"`` / ``"mpmath"``: arbitrary precision (:func:`verify.dynamics.gd.run_gd`), doubling the
  precision up to ``max_prec`` while a sign is undecided.

:func:`choose` picks per shape for ``engine="auto"``: the unrolled lanes while the network has at
most :data:`~verify.dynamics.batch_codegen.MAX_UNROLLED_TERMS` terms (``width x points x (d+1)``),
the lane loops up to :data:`LOOP_MAX_TERMS` terms when there are at least :data:`LOOP_MIN_LANES` inits,
else the matrix engine. A float64 run hands on to Arb what it cannot certify (an undecided sign,
an overflow, an interval wider than ``width_limit``), and refuses to run at all in a process whose
floating-point environment breaks its assumptions (:mod:`verify.arith.fenv`); the trajectory says
which engine certified it, why that engine was chosen (``engine_reason``) and why a float64 run
was escalated (``escalated``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from verify.arith import fenv
from verify.arith.arrays import get_arithmetic
from verify.dynamics.batch_codegen import MAX_UNROLLED_TERMS, unrolled_size
from verify.dynamics.divergence import DEFAULT_DIVERGENCE_BOUND
from verify.dynamics.gd import run_gd
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.trajectory import Trajectory
from verify.dynamics.wide import Monitor, run_matrix
from verify.errors import InvalidArgument
from verify.model.network import Problem

AUTO, BATCH, MATRIX = "auto", "batch", "matrix"
ARBITRARY = ("arb", "mpmath")
CHOICES = (AUTO, BATCH, MATRIX, *ARBITRARY)
BATCH_ENGINE, MATRIX_ENGINE = "batch-f64", "matrix-f64"  # the names results carry
FLOAT64_ENGINES = (BATCH_ENGINE, MATRIX_ENGINE)
DEFAULT_WIDTH_LIMIT = 2.0**-26  # a wider float64 parameter interval goes to Arb
# Beyond the unrolled sizes the lane loops (verify.dynamics.batch_loops) beat the matrix engine only
# with many lanes of small networks (benchmarks/bench_wide.py (f), 512 lanes: 2.1x at 270 terms,
# 2.2x at 1,152 terms, 0.83x at 4,352 terms), measured with 512 lanes; fewer inits go to the matrix
# engine.
LOOP_MAX_TERMS = 2048
LOOP_MIN_LANES = 512


@dataclass(frozen=True)
class EngineChoice:
    """The engine to start with and the reason, in words, for the results."""

    engine: str  # one of BATCH, MATRIX, "arb", "mpmath"
    reason: str


def choose(problem: Problem, engine: str = AUTO, lanes: int = 1) -> EngineChoice:
    """The engine for ``lanes`` inits of ``problem``: ``engine`` itself unless it is ``"auto"``;
    see the module doc."""
    if engine not in CHOICES:
        raise InvalidArgument("engine", engine, f"must be one of {list(CHOICES)}")
    terms = unrolled_size(problem)
    if engine != AUTO:
        return EngineChoice(engine, f"requested ({terms} terms)")
    if terms <= MAX_UNROLLED_TERMS:
        return EngineChoice(BATCH, f"{terms} terms <= {MAX_UNROLLED_TERMS}: float64 lanes unrolled for the shape")
    if terms <= LOOP_MAX_TERMS and lanes >= LOOP_MIN_LANES:
        return EngineChoice(BATCH, f"{terms} terms <= {LOOP_MAX_TERMS} and {lanes} inits: float64 lane loops")
    return EngineChoice(MATRIX, f"{terms} terms > {MAX_UNROLLED_TERMS}" + (
        f", {lanes} inits" if terms <= LOOP_MAX_TERMS else "") + ": float64 interval matrices on the BLAS")


def float64_refusal() -> str | None:
    """Why float64 engines must not run in this process (None: they may)."""
    try:
        fenv.require_float64()
    except fenv.UnsafeFloatEnvironment as exc:
        return str(exc)
    return None


def certified_gd(
    problem: Problem,
    theta0: Sequence[object] | np.ndarray,
    steps: int,
    *,
    engine: str = AUTO,
    prec: int = 128,
    max_prec: int = 1024,
    schedule: RecordSchedule | None = None,
    width_limit: float = DEFAULT_WIDTH_LIMIT,
    monitor: Monitor | None = None,
    progress: Callable[[int], None] | None = None,
    divergence_bound: object = DEFAULT_DIVERGENCE_BOUND,
) -> Trajectory:
    """One certified GD run from the exact ``theta0`` (a flat vector in the order of
    :meth:`~verify.model.network.Network.param_names`, or a float64 array of exact doubles),
    on the chosen engine, escalated to Arb (``prec`` doubling up to ``max_prec``) when float64
    cannot certify it. The trajectory's ``engine``, ``engine_reason`` and ``escalated`` say what
    happened. A run certified divergent (``divergence_bound``, :mod:`verify.dynamics.divergence`) ends
    with status ``diverged`` (on the float64 engines too, when their enclosures certify it); a
    float64 lane that overflows first is escalated to Arb, which certifies the divergence."""
    choice = choose(problem, engine)
    escalated = None
    if choice.engine in (BATCH, MATRIX):
        escalated = float64_refusal()
        if escalated is None:
            traj = _float64_run(problem, theta0, steps, choice.engine, schedule, width_limit, monitor, progress,
                                divergence_bound)
            if traj.certified or traj.status not in ("inconclusive",):
                traj.engine_reason = choice.reason
                return traj
            escalated = traj.reason
    backend = choice.engine if choice.engine in ARBITRARY else "arb"
    traj = run_gd(problem, theta0, steps, backend=backend, prec=prec, max_prec=max_prec, schedule=schedule,
                  monitor=monitor, progress=progress, divergence_bound=divergence_bound)
    traj.engine = backend
    traj.engine_reason = choice.reason
    traj.escalated = escalated
    return traj


def _float64_run(problem, theta0, steps, engine, schedule, width_limit, monitor, progress,
                 divergence_bound=DEFAULT_DIVERGENCE_BOUND) -> Trajectory:
    if engine == BATCH:
        from verify.dynamics.batch import run_batch

        batch = run_batch(problem, [theta0] if not isinstance(theta0, np.ndarray) else theta0[None, :], steps,
                          schedule=schedule, width_limit=width_limit, progress=progress,
                          divergence_bound=divergence_bound)
        if batch.completed(0) or batch.diverged(0):  # certified either way
            return batch.trajectory(0)
        traj = Trajectory(problem, batch.init(0), get_arithmetic("f64").scalar, steps, engine=BATCH_ENGINE,
                          status="inconclusive", reason=batch.escalation_reason(0),
                          failed_step=int(batch.fail_step[0]), precisions_tried=(53,))
        return traj
    ar = get_arithmetic("f64")
    run = run_matrix(problem, [theta0] if not isinstance(theta0, np.ndarray) else theta0[None, :], steps, ar,
                     schedule=schedule, width_limit=width_limit, monitor=monitor, progress=progress,
                     divergence_bound=divergence_bound)
    return run.trajectory(0, backend=_arb_reader(), engine=MATRIX_ENGINE, precisions_tried=(53,))


def _arb_reader():
    from verify.arith.arb_backend import ArbBackend

    return ArbBackend(128)
