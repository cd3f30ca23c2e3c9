"""Claims decided on a chunk's float64 lanes at once, without building a trajectory per lane.

A sweep on the batch engine (:func:`verify.dynamics.batch.run_batch`) holds every lane's records
as double intervals in a few arrays. Turning each lane into a :class:`~verify.dynamics.trajectory.Trajectory`
of Arb balls and running a claim's checker on it costs milliseconds per lane, a hundred times the
GD itself. A claim may therefore offer a *lane checker* (``Claim.lanes``): a function of a
:class:`LaneView` returning, per lane, the :class:`~verify.claims.result.Outcome` its checker would
return on that lane's trajectory, or ``None`` where it cannot tell cheaply (the runner then builds
the trajectory and runs the checker, as without a lane checker).

Contract (tested for every lane checker, ``tests/test_lane_checks.py``): where a lane checker
returns an outcome, it is *equal* to ``claim.check`` on the trajectory ``BatchRun.trajectory(k)``
(status, detail, precision, data). So a result never depends on which path decided it. Lane
checkers decide from the double intervals with directed rounding, in one of two modes:

* *outer*: a superset of what the Arb checker computes. The Arb ball holding a double interval
  ``[lo, hi]`` is a little larger than it (its radius has 30 bits), and every Arb operation may add
  to the radius, so inputs and results are widened by :data:`ARB_SLACK` relative to their size. A
  comparison decided on outer intervals is decided the same way on the Arb balls.
* *inner*: a subset of the exact interval image of the double intervals, hence of the Arb ball
  (Arb's results contain the exact image of their inputs). Two inner intervals that overlap, or an
  inner interval that contains a point, mean the same holds for the Arb balls.

Lane checkers decide the outcomes that need no counterexample (certified, not-admitted) and leave
refutations and inconclusive outcomes to the checker (``None``): those carry exact counterexamples
or trigger an escalation to Arb.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np

from verify.arith.f64 import enclose
from verify.dynamics import batch_layout as bl
from verify.dynamics.batch import F64_PREC, BatchRun

ARB_SLACK = 2.0**-20  # relative widening that covers Arb's radius rounding (30-bit radii) over a few operations
TINY = 2.0**-1000  # absolute widening (the relative one vanishes at 0)

Interval = tuple[np.ndarray, np.ndarray]


class LaneView:
    """The lanes of one :class:`~verify.dynamics.batch.BatchRun`, read as flat arrays.

    Rows: one per recorded step of each lane (scheduled steps and pattern changes, without
    duplicates), sorted by lane then step, i.e. each lane's rows are its trajectory's records in
    order. ``lane[r]``, ``t[r]``; ``lo[r, q]``/``hi[r, q]`` the double interval of parameter ``q``;
    ``loss_lo[r]``/``loss_hi[r]``. Rows of lanes that did not complete hold whatever the batch
    wrote; only ``completed`` lanes are meaningful. Phases: each lane's certified pattern changes
    ``(t, pattern)`` in step order (:meth:`phases`).
    """

    def __init__(self, run: BatchRun) -> None:
        self.run = run
        L = len(run)
        self.n_lanes = L
        self.prec = F64_PREC
        self.completed = run.status == bl.COMPLETE
        log, used = run.log, run.log.used
        porder = np.argsort(log.lane[:used], kind="stable")  # the log is appended in step order
        self.phase_lane = log.lane[:used][porder]
        self.phase_t = log.t[:used][porder]
        self.phase_pat = ["".join(map(str, bits)) for bits in log.pat[:used][porder].tolist()]
        self.phase_start = np.searchsorted(self.phase_lane, np.arange(L + 1))

    @cached_property
    def _rows(self) -> dict[str, np.ndarray]:
        run, L = self.run, self.n_lanes
        R, p = len(run.rec_steps), run.rec_P.shape[-1]
        log, used = run.log, run.log.used
        extra = np.flatnonzero(~np.isin(log.t[:used], run.rec_steps))  # a change at a scheduled step is its row
        span = int(run.steps) + 1
        sched_key = (np.arange(L)[:, None] * span + run.rec_steps[None, :]).reshape(-1)
        extra_key = log.lane[:used][extra] * span + log.t[:used][extra]
        order = np.argsort(extra_key, kind="stable")
        extra, extra_key = extra[order], extra_key[order]
        at = np.searchsorted(sched_key, extra_key)  # scheduled rows are sorted by (lane, step) already
        rows = {"lane": np.insert(np.repeat(np.arange(L), R), at, log.lane[:used][extra]),
                "t": np.insert(np.tile(run.rec_steps, L), at, log.t[:used][extra]),
                "lo": np.insert(run.rec_P[0].reshape(L * R, p), at, log.P[0, :used][extra], axis=0),
                "hi": np.insert(run.rec_P[1].reshape(L * R, p), at, log.P[1, :used][extra], axis=0),
                "loss_lo": np.insert(run.rec_L[0].reshape(L * R), at, log.L[0, :used][extra]),
                "loss_hi": np.insert(run.rec_L[1].reshape(L * R), at, log.L[1, :used][extra])}
        rows["row_start"] = np.searchsorted(rows["lane"], np.arange(L + 1))
        return rows

    lane = property(lambda self: self._rows["lane"], doc="the lane of each row")
    t = property(lambda self: self._rows["t"], doc="the step of each row")
    lo = property(lambda self: self._rows["lo"], doc="(rows, p) lower ends of the parameters")
    hi = property(lambda self: self._rows["hi"], doc="(rows, p) upper ends of the parameters")
    loss_lo = property(lambda self: self._rows["loss_lo"], doc="lower ends of the loss")
    loss_hi = property(lambda self: self._rows["loss_hi"], doc="upper ends of the loss")
    row_start = property(lambda self: self._rows["row_start"], doc="lane k's rows: row_start[k] .. row_start[k+1]-1")

    def first_phase(self, pattern: str) -> tuple[np.ndarray, np.ndarray]:
        """Per lane: the first step whose certified pattern is ``pattern`` (-1: never), and whether the
        lane keeps it to its end (it is the lane's last phase)."""
        hits = np.flatnonzero(np.array([p == pattern for p in self.phase_pat], bool))
        t = np.full(self.n_lanes, -1, np.int64)
        last = np.zeros(self.n_lanes, bool)
        lanes, at = np.unique(self.phase_lane[hits], return_index=True)
        entry = hits[at]
        t[lanes] = self.phase_t[entry]
        last[lanes] = entry == self.phase_start[lanes + 1] - 1
        return t, last

    def __len__(self) -> int:
        return self.n_lanes

    def theta0(self, k: int) -> tuple[Fraction, ...]:
        """The exact init of lane ``k``."""
        return self.run.init(k)

    def phases(self, k: int) -> list[tuple[int, str]]:
        """Lane ``k``'s certified pattern changes ``(first step, pattern)``, as ``Trajectory.phases``."""
        a, b = self.phase_start[k], self.phase_start[k + 1]
        return list(zip(self.phase_t[a:b].tolist(), self.phase_pat[a:b], strict=True))

    def last_step(self, k: int) -> int:
        """The last recorded step of lane ``k`` (``Trajectory.steps_done`` for a completed lane)."""
        return int(self.run.rec_steps[-1])  # the schedule always keeps the horizon

    # -- per-lane reductions over rows ------------------------------------------------------------
    def every(self, mask: np.ndarray) -> np.ndarray:
        """Per lane: whether ``mask`` holds on every one of its rows (True for a lane without rows)."""
        return np.bincount(self.lane[~mask], minlength=self.n_lanes) == 0

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Per lane: on how many of its rows ``mask`` holds."""
        return np.bincount(self.lane[mask], minlength=self.n_lanes)

    def first(self, mask: np.ndarray) -> np.ndarray:
        """Per lane: the first of its rows where ``mask`` holds, or -1."""
        rows = np.flatnonzero(mask)
        out = np.full(self.n_lanes, -1, np.int64)
        lanes, at = np.unique(self.lane[rows], return_index=True)
        out[lanes] = rows[at]
        return out

    def param(self, q: int) -> Interval:
        """Parameter ``q`` at every row, as ``(lo, hi)``."""
        return self.lo[:, q], self.hi[:, q]


LaneChecker = Callable[[LaneView], Sequence[Any]]  # per lane: an Outcome, or None (the checker decides)


# -- directed rounding on double intervals (numpy rounds to nearest: one step outward is a bound) ----
def _down(x: np.ndarray) -> np.ndarray:
    return np.nextafter(x, -np.inf)


def _up(x: np.ndarray) -> np.ndarray:
    return np.nextafter(x, np.inf)


def widen(a: Interval) -> Interval:
    """``a`` widened by :data:`ARB_SLACK` of its magnitude: contains the Arb ball of ``a`` and the
    rounding of a few Arb operations on it (outer mode)."""
    lo, hi = a
    pad = ARB_SLACK * (np.abs(lo) + np.abs(hi)) + TINY
    return _down(lo - pad), _up(hi + pad)


def outer_add(a: Interval, b: Interval) -> Interval:
    return _down(a[0] + b[0]), _up(a[1] + b[1])


def outer_scale(a: Interval, c: float) -> Interval:
    """``c * a`` for a double ``c``."""
    x, y = a[0] * c, a[1] * c
    return _down(np.minimum(x, y)), _up(np.maximum(x, y))


def outer_relu(a: Interval) -> Interval:
    return np.maximum(a[0], 0.0), np.maximum(a[1], 0.0)


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``s = fl(a + b)`` and its exact error ``e = (a + b) - s`` (Knuth's TwoSum; finite inputs)."""
    with np.errstate(invalid="ignore", over="ignore"):
        s = a + b
        bb = s - a
        return s, (a - (s - bb)) + (b - bb)


def _linear(terms: Sequence[tuple[int, Interval]], inner: bool) -> Interval:
    lo = hi = None
    for c, (a_lo, a_hi) in terms:
        if c not in (1, -1):
            raise ValueError("linear combinations of intervals take coefficients +1 and -1 only")
        t_lo, t_hi = (a_lo, a_hi) if c == 1 else (-a_hi, -a_lo)
        if lo is None:
            lo, hi = t_lo, t_hi
            continue
        s, e = _two_sum(lo, t_lo)  # the exact lower end is s + e
        lo = np.where(e > 0, _up(s), s) if inner else np.where(e < 0, _down(s), s)
        s, e = _two_sum(hi, t_hi)
        hi = np.where(e < 0, _down(s), s) if inner else np.where(e > 0, _up(s), s)
    assert lo is not None and hi is not None
    return lo, hi


def inner_linear(terms: Sequence[tuple[int, Interval]]) -> Interval:
    """``sum c * a`` for coefficients ``c`` in {+1, -1}, inner mode: a subset of the exact image.
    Each partial sum's bound moves one step inward only when the addition was inexact (its exact
    error, from TwoSum, points outward), so a sum of exact doubles stays a point."""
    return _linear(terms, inner=True)


def outer_linear(terms: Sequence[tuple[int, Interval]]) -> Interval:
    """``sum c * a`` for coefficients ``c`` in {+1, -1}, outer mode on the exact image: each partial
    sum's bound moves one step outward only when the addition was inexact (TwoSum), so a sum of
    exact doubles that is itself a double stays a point."""
    return _linear(terms, inner=False)


def inner_overlaps(a: Interval, b: Interval) -> np.ndarray:
    """Whether the inner intervals ``a`` and ``b`` (non-empty, finite) share a point."""
    ok = (a[0] <= a[1]) & (b[0] <= b[1]) & np.isfinite(a[0]) & np.isfinite(a[1]) & np.isfinite(b[0]) \
        & np.isfinite(b[1])
    return ok & (np.maximum(a[0], b[0]) <= np.minimum(a[1], b[1]))


def below(a: Interval, q: Fraction) -> np.ndarray:
    """Rows where the Arb comparison ``a < q`` is certainly TRUE (``a`` an outer interval)."""
    q_lo, _ = enclose(q)
    return a[1] < float(_down(np.float64(q_lo)))


def not_below(a: Interval, q: Fraction) -> np.ndarray:
    """Rows where the Arb comparison ``a < q`` is certainly FALSE (``a`` an outer interval)."""
    _, q_hi = enclose(q)
    return a[0] >= float(_up(np.float64(q_hi)))


def positive(a: Interval) -> np.ndarray:
    """Rows where the Arb comparison ``a > 0`` is certainly TRUE (``a`` an outer interval)."""
    return a[0] > 0
