"""The matrix engine: certified GD on stacked lanes in any array arithmetic.

:func:`run_matrix` runs the step of :mod:`verify.dynamics.step` from exact inits of one problem,
every lane in one stack (so each big product serves them all), in the arithmetic given
(float64 midpoint-radius on the BLAS, Arb, mpmath). A lane stops at the first step it cannot
certify: a pre-activation whose sign is undecided (at step ``t``: ``theta_t`` is enclosed but
its pattern is not certified), a loss or exponential that is not finite (at ``t``), a parameter
interval wider than ``width_limit`` (at ``t + 1``: ``theta_{t+1}`` was computed but is too wide
to be worth continuing in this arithmetic), or a check of ``monitor`` (:data:`Monitor`). A lane
whose loss (pattern certified) is certified beyond ``divergence_bound``, or a parameter farther than
it from its init, at step
``t`` stops there with status ``diverged`` (:mod:`verify.dynamics.divergence`), its step ``t``
recorded. Stopped lanes leave the stack; the others go on.

For each lane, the result keeps the records of the steps of ``schedule``, of the last step, and
(when ``record_changes``) of every pattern change, with packed parameters
(:class:`~verify.dynamics.records.PackedParams`), and the run-length encoded pattern of every
step (:attr:`~verify.dynamics.trajectory.Trajectory.phases`).

Invariant (from the step's): for a lane, every recorded enclosure contains the exact iterate's
``theta_t`` and ``L(theta_t)``, and every pattern in its phases is certified, for each step before
its failure step.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from verify.arith import fenv
from verify.arith.arrays import Arr, ArrayArithmetic
from verify.arith.base import Backend
from verify.dynamics.divergence import DEFAULT_DIVERGENCE_BOUND, DIVERGED, check_bound, loss_reason, param_reason
from verify.dynamics.pattern import lane_pattern
from verify.dynamics.records import PackedParams
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.step import GDStep, exact_signs, split_params
from verify.dynamics.trajectory import COMPLETE, INCONCLUSIVE, StepRecord, Trajectory
from verify.errors import InvalidArgument, VerifyError
from verify.model.network import Problem

# stop codes of a lane (as the batch backend's)
AMBIGUOUS = "ambiguous"
NONFINITE = "nonfinite"
TOO_WIDE = "too_wide"
CHANGE_RECORD_LIMIT = 4096  # record every pattern change while theta has at most this many entries


@dataclass(frozen=True)
class StepState:
    """What a :data:`Monitor` sees after the forward pass of step ``t`` (every lane still running)."""

    t: int
    lanes: np.ndarray  # (L,) indices of the running lanes
    Theta: Arr  # (L, m, d + 1)
    A: Arr | None  # (L, m)
    loss: Arr  # (L,) enclosures of L(theta_t)
    ar: ArrayArithmetic


Monitor = Callable[[StepState], "dict[int, tuple[str, str]] | None"]
"""A per-step check: returns ``{position in state.lanes: (status, reason)}`` for lanes to stop at ``t``
(for instance certified divergence), or None."""


class TooLarge(VerifyError):
    """A run that would not fit in memory: said before starting."""


@dataclass
class LaneResult:
    """One lane of a :class:`MatrixRun`."""

    theta0: Any  # the exact init: a float64 (p,) array, or a tuple of Fractions
    status: str = COMPLETE  # COMPLETE, AMBIGUOUS, NONFINITE, TOO_WIDE, or a monitor's status
    fail_step: int | None = None
    what: str | None = None  # what was not certified, e.g. "the sign of the pre-activation of neuron 1 at x_2"
    reason: str | None = None  # the whole sentence, with the step and the arithmetic
    records: list[StepRecord] = field(default_factory=list)
    phases: list[tuple[int, Any]] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.status == COMPLETE


@dataclass
class MatrixRun:
    """Per-lane results of :func:`run_matrix`, and their reading as trajectories."""

    problem: Problem
    ar: ArrayArithmetic
    steps: int
    lanes: list[LaneResult]

    def __len__(self) -> int:
        return len(self.lanes)

    def trajectory(self, k: int, backend: Backend | None = None, engine: str | None = None,
                   precisions_tried: tuple[int, ...] | None = None) -> Trajectory:
        """Lane ``k`` as a :class:`Trajectory` (status ``complete``, or ``inconclusive`` with its
        failure step and reason; the records before the failure are kept). Its enclosures are
        ``backend``'s natives (by default the arithmetic's scalar backend)."""
        lane = self.lanes[k]
        be = backend or self.ar.scalar
        traj = Trajectory(self.problem, lane.theta0, be, self.steps,
                          precisions_tried=precisions_tried or (self.ar.prec,), engine=engine)
        traj.records.extend(lane.records)
        traj.phases.extend(lane.phases)
        if lane.completed:
            traj.status = COMPLETE
        else:
            traj.status = lane.status if lane.status not in (AMBIGUOUS, NONFINITE, TOO_WIDE) else INCONCLUSIVE
            traj.failed_step = lane.fail_step
            traj.reason = lane.reason
        return traj


def exact_inits(problem: Problem, inits: Sequence[Sequence[object]] | np.ndarray) -> tuple[np.ndarray, list]:
    """The inits as one exact array ``(L, p)`` (float64 when every value is a double, else an object
    array of Fractions) and as the per-lane exact values kept in the results."""
    net = problem.network
    if isinstance(inits, np.ndarray) and inits.dtype == np.float64:
        if inits.ndim == 1:
            inits = inits[None, :]
        if inits.ndim != 2 or inits.shape[1] != net.n_params:
            raise InvalidArgument("inits", f"array {inits.dtype} {inits.shape}",
                                  f"must be a float64 array of shape (L, {net.n_params})")
        if not np.isfinite(inits).all():
            raise InvalidArgument("inits", "array", "must be finite (no NaN or infinity)")
        return inits, [row for row in inits]
    exact = [net.check_params(theta, f"inits[{k}]") for k, theta in enumerate(inits)]
    doubles = [[_double(q) for q in theta] for theta in exact]
    if all(v is not None for row in doubles for v in row):
        return np.array(doubles, dtype=np.float64).reshape(len(exact), net.n_params), exact
    return np.array(exact, dtype=object).reshape(len(exact), net.n_params), exact


def _double(q: Fraction) -> float | None:
    try:
        f = q.numerator / q.denominator
    except OverflowError:
        return None
    return f if Fraction(f) == q else None


def estimate_bytes(problem: Problem, lanes: int, records: int, ar: ArrayArithmetic) -> int:
    """A generous estimate of the memory a run needs: the data, about a dozen working copies of
    the parameters and of the ``(n, L, m)`` activations, and the records."""
    net, data = problem.network, problem.data
    per = 16 if ar.name == "f64" else (48 + 2 * ar.prec // 8 + 64)  # bytes per enclosure
    params = lanes * net.n_params
    acts = data.n * lanes * net.width
    return per * (3 * data.n * (data.d + 1) + 12 * params + 12 * acts + records * params)


def available_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(problem: Problem, lanes: int, records: int, ar: ArrayArithmetic) -> None:
    """Raise :class:`TooLarge` before starting when the run would not fit in the available memory."""
    need, have = estimate_bytes(problem, lanes, records, ar), available_bytes()
    if have is not None and need > have:
        net, data = problem.network, problem.data
        raise TooLarge(f"a run of {lanes} lane(s) of width {net.width} on {data.n} points in R^{data.d} "
                       f"({net.n_params:,} parameters, {records} records) in {ar.name} arithmetic needs about "
                       f"{need / 2**30:.1f} GiB; {have / 2**30:.1f} GiB are available")


def run_matrix(
    problem: Problem,
    inits: Sequence[Sequence[object]] | np.ndarray,
    steps: int,
    ar: ArrayArithmetic,
    *,
    schedule: RecordSchedule | None = None,
    width_limit: float | None = None,
    record_changes: bool | None = None,
    monitor: Monitor | None = None,
    progress: Callable[[int], None] | None = None,
    divergence_bound: object = DEFAULT_DIVERGENCE_BOUND,
) -> MatrixRun:
    """Certified GD from every exact init (one lane each, stacked), in arithmetic ``ar``; see the
    module doc. ``record_changes`` (default: while ``theta`` has at most
    :data:`CHANGE_RECORD_LIMIT` entries) keeps a record at every pattern change. ``divergence_bound``
    (default ``2**100``, None: no check): see the module doc."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise InvalidArgument("steps", steps, "must be a non-negative integer")
    if width_limit is not None and not 0 < width_limit:
        raise InvalidArgument("width_limit", width_limit, "must be a positive number")
    bound = check_bound(divergence_bound)
    theta0, exact = exact_inits(problem, inits)
    L = theta0.shape[0]
    net = problem.network
    keep = (schedule or RecordSchedule()).steps(steps)
    if record_changes is None:
        record_changes = net.n_params <= CHANGE_RECORD_LIMIT
    check_memory(problem, L, len(keep), ar)
    if ar.name == "f64":
        fenv.require_float64()
    run = MatrixRun(problem, ar, steps, [LaneResult(exact[k]) for k in range(L)])
    if L == 0:
        return run
    Theta0, A0 = split_params(problem, theta0)
    act0 = exact_signs(problem, Theta0) > 0  # (n, L, m): the pattern of step 0, exact
    with ar.working_precision():
        _Loop(problem, ar, run, keep, width_limit, record_changes, monitor, progress, bound).run(Theta0, A0, act0)
    return run


class _Loop:
    """The step loop over the stacked lanes (one object per run, for its bookkeeping)."""

    def __init__(self, problem, ar, run, keep, width_limit, record_changes, monitor, progress, bound=None) -> None:
        self.problem, self.ar, self.run_ = problem, ar, run
        self.keep, self.width_limit, self.record_changes = keep, width_limit, record_changes
        self.monitor, self.progress = monitor, progress
        self.step = GDStep(problem, ar)
        self.bound_q = bound
        self.bound = None if bound is None else ar.constant(bound)

    def stop(self, lane: int, status: str, t: int, what: str) -> None:
        res = self.run_.lanes[lane]
        res.status, res.fail_step, res.what = status, t, what
        res.reason = f"{what} at step {t} in {self.ar.name} arithmetic" + (
            f" at {self.ar.prec} bits" if self.ar.name != "f64" else "")

    def run(self, Theta0: np.ndarray, A0: np.ndarray | None, act0: np.ndarray) -> None:
        ar, step = self.ar, self.step
        steps = self.run_.steps
        Theta = ar.exact(Theta0)
        A = None if A0 is None else ar.exact(A0)
        self.start = self._thresholds(Theta0, A0)  # per parameter bound + |theta_0| (divergence)
        lanes = np.arange(Theta0.shape[0])
        live = act0.any(axis=0)  # (L, m): neurons active at step 0; the others never move
        prev = None
        for t in range(steps + 1):
            fw = step.forward(Theta, A, live, act0 if t == 0 else None)
            loss = step.loss(fw.E)
            diverged = self._diverged(lanes, fw, loss)
            stopped = self._failures(t, lanes, fw, loss, diverged)
            if self.monitor is not None:
                extra = self.monitor(StepState(t, lanes, Theta, A, loss, ar)) or {}
                for pos, (status, reason) in extra.items():
                    if pos not in stopped:
                        self.stop(int(lanes[pos]), status, t, reason)
                        stopped[pos] = True
            if t < steps:
                Theta_next, A_next, _ = step.backward(fw, Theta, A)
                for pos, why in self._moved_too_far(Theta_next, A_next, stopped).items():
                    self.stop(int(lanes[pos]), DIVERGED, t + 1, why)  # theta_{t+1}: step t is its last
                    stopped[pos] = True
                    diverged[pos] = why
            changed = np.ones(len(lanes), bool) if prev is None else (fw.act != prev).any(axis=(0, 2))
            scheduled = t in self.keep or t == steps
            for pos, lane in enumerate(lanes.tolist()):
                if pos in stopped and pos not in diverged:
                    continue
                res = self.run_.lanes[lane]
                if changed[pos]:
                    res.phases.append((t, lane_pattern(fw.act[:, pos, :])))
                if scheduled or (changed[pos] and self.record_changes) or pos in diverged:
                    theta_l = ar.take(Theta, pos)
                    a_l = None if A is None else ar.take(A, pos)
                    pattern = res.phases[-1][1]
                    res.records.append(StepRecord(t, PackedParams(ar, theta_l, a_l),
                                                  ar.natives(ar.take(loss, slice(pos, pos + 1)))[0], pattern))
            if t == steps:
                break
            if self.width_limit is not None:
                widths = ar.max_width(Theta_next, axes=(1, 2))
                if A_next is not None:
                    widths = np.maximum(widths, ar.max_width(A_next, axes=(1,)))
                for pos in np.flatnonzero(~(widths <= self.width_limit)).tolist():
                    if pos not in stopped:
                        self.stop(int(lanes[pos]), TOO_WIDE, t + 1,
                                  f"a parameter interval grew wider than the width limit {self.width_limit:g}")
                        stopped[pos] = True
            Theta, A, prev = Theta_next, A_next, fw.act
            if stopped:
                keep = np.array([pos not in stopped for pos in range(len(lanes))])
                if not keep.any():
                    return
                idx = np.flatnonzero(keep)
                Theta = ar.take(Theta, idx)
                A = None if A is None else ar.take(A, idx)
                if self.start is not None:
                    T0, A0s = self.start
                    self.start = (ar.take(T0, idx), None if A0s is None else ar.take(A0s, idx))
                lanes, live, prev, act0 = lanes[idx], live[idx], prev[:, idx], act0[:, idx]
            if self.progress is not None and t % 64 == 0:
                self.progress(t)

    def _diverged(self, lanes: np.ndarray, fw, loss) -> dict[int, str]:
        """``{position: reason}`` of the lanes whose loss is certified beyond the bound at this step
        (only where the pattern is certified, which the loss relies on)."""
        if self.bound is None:
            return {}
        ar = self.ar
        by_loss = ar.positive(ar.sub(loss, self.bound)) & ~fw.undecided.any(axis=(0, 2))
        return {pos: loss_reason(self.bound_q) for pos in np.flatnonzero(by_loss).tolist()}

    def _thresholds(self, Theta0: np.ndarray, A0: np.ndarray | None) -> tuple[Arr, Arr | None] | None:
        """``bound + |theta_0|`` per parameter, enclosed: ``|theta| >`` it certifies that the parameter
        moved farther than the bound (the criterion of :func:`verify.dynamics.gd.run_gd` too)."""
        if self.bound is None:
            return None
        ar, b = self.ar, self.bound_q

        def thr(a: np.ndarray) -> Arr:
            return ar.exact(np.vectorize(lambda v: b + abs(Fraction(v)), otypes=[object])(a))

        return thr(Theta0), (None if A0 is None else thr(A0))

    def _moved_too_far(self, Theta, A, stopped) -> dict[int, str]:
        """``{position: reason}`` of the running lanes a parameter of which (in ``theta_{t+1}``) is
        certified beyond ``bound + |theta_0|``: it moved farther than the bound."""
        if self.bound is None:
            return {}
        ar = self.ar
        T0, A0 = self.start
        L = ar.shape(Theta)[0]
        big = ar.exceeds(Theta, T0).reshape(L, -1)
        if A is not None:
            big = np.concatenate([big, ar.exceeds(A, A0).reshape(L, -1)], axis=1)
        names = self.problem.network.param_names()
        return {pos: param_reason(names[int(np.argmax(big[pos]))], self.bound_q)
                for pos in np.flatnonzero(big.any(axis=1)).tolist() if pos not in stopped}

    def _failures(self, t: int, lanes: np.ndarray, fw, loss, diverged=None) -> dict[int, bool]:
        """Stop the lanes whose step ``t`` is not certified or is certified divergent; return their
        stack positions."""
        ar = self.ar
        stopped: dict[int, bool] = {}
        for pos, why in (diverged or {}).items():
            self.stop(int(lanes[pos]), DIVERGED, t, why)
            stopped[pos] = True
        undecided = fw.undecided.any(axis=(0, 2))
        finite = ar.finite(loss) & ar.finite(fw.E).all(axis=1)
        for pos in np.flatnonzero(undecided | ~finite).tolist():
            if pos in stopped:
                continue
            lane = int(lanes[pos])
            if undecided[pos]:
                j, i = np.argwhere(fw.undecided[:, pos, :].T)[0]  # first in neuron-major order
                self.stop(lane, AMBIGUOUS, t, f"the sign of the pre-activation of neuron {j + 1} at x_{i + 1} "
                                              "is undecided")
            else:
                self.stop(lane, NONFINITE, t, "a loss term is not finite")
            stopped[pos] = True
        return stopped
