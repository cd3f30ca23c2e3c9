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
or trigger an escalation to Arb. For a claim with hypotheses (``Claim.admits``), the runner asks
``admits`` on each lane's exact init and uses the lane checker's outcome only where it holds; a lane
checker may answer :data:`OUTSIDE` (this very object) for a lane whose init ``admits`` certainly
rejects, which is the runner's own outcome there, so the runner need not build the init and ask
(tested: ``admits`` is False on every such lane).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np

from verify.arith.f64 import enclose
from verify.claims.result import Outcome, Status
from verify.dynamics import batch_layout as bl
from verify.dynamics.batch import F64_PREC, BatchRun

ARB_SLACK = 2.0**-20  # relative widening that covers Arb's radius rounding (30-bit radii) over a few operations
TINY = 2.0**-1000  # absolute widening (the relative one vanishes at 0)

Interval = tuple[np.ndarray, np.ndarray]

OUTSIDE = Outcome(Status.NOT_ADMITTED, "outside the claim's hypotheses")  # the runner's outcome where admits fails


def merge_plan(lanes: int, rec_steps: np.ndarray, log_lane: np.ndarray, log_t: np.ndarray) -> tuple[np.ndarray, ...]:
    """Where the change-log entries go among the scheduled rows.

    Scheduled rows: ``lanes * R`` rows, lane by lane, each lane's at the ``R`` sorted steps
    ``rec_steps``. Log entries: ``(log_lane[e], log_t[e])``, at most one per (lane, step).
    The merged rows are the scheduled rows plus the log entries whose step is not scheduled, sorted
    by (lane, step), a log entry after the scheduled rows of its lane before its step and, among log
    entries of one (lane, step), in log order (what ``np.insert`` of the entries, sorted stably by
    (lane, step), at their ``searchsorted`` positions gives; ``tests/test_lane_checks.py``).

    Returns ``(extra, keep, at_extra, per_lane)``: the log entries merged (indices, in merged order),
    a mask over the merged rows that is True on scheduled rows (in their order), the merged rows of
    the entries, and the number of merged rows of each lane."""
    R = len(rec_steps)
    extra = np.flatnonzero(~np.isin(log_t, rec_steps))  # a change at a scheduled step is its row
    e_lane, e_t = log_lane[extra], log_t[extra]
    order = np.lexsort((e_t, e_lane))  # stable: by lane, then step, then log order
    extra, e_lane, e_t = extra[order], e_lane[order], e_t[order]
    at = e_lane * R + np.searchsorted(rec_steps, e_t)  # the scheduled row each goes before
    at_extra = at + np.arange(len(extra))
    keep = np.ones(lanes * R + len(extra), bool)
    keep[at_extra] = False
    per_lane = R + np.bincount(e_lane, minlength=lanes)
    return extra, keep, at_extra, per_lane


def _scatter(keep: np.ndarray, at_extra: np.ndarray, sched: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """The merged rows: ``sched`` on the rows ``keep`` marks, ``extra`` on ``at_extra`` (rows of
    ``sched.dtype``, 1-D or 2-D; 2-D rows are moved as whole records, which is faster)."""
    out = np.empty((len(keep), *sched.shape[1:]), sched.dtype)
    if sched.ndim == 2:  # one void record per row
        rec = np.dtype((np.void, sched.shape[1] * sched.itemsize))
        o, s = out.view(rec).reshape(len(keep)), np.ascontiguousarray(sched).view(rec).reshape(len(sched))
        e = np.ascontiguousarray(extra, sched.dtype).view(rec).reshape(len(extra))
        o[keep], o[at_extra] = s, e
        return out
    out[keep], out[at_extra] = sched, extra
    return out


def _pattern_codes(bits: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The distinct rows of ``bits`` (one activation pattern per row) as strings of their digits, and
    each row's index into them. Rows of 0/1 bits are packed into integers first (far faster than
    ``np.unique`` over rows)."""
    n = bits.shape[1]
    if len(bits) == 0:
        return [], np.zeros(0, np.int64)
    if 1 <= n <= 62 and bool(((bits == 0) | (bits == 1)).all()):
        packed = bits.astype(np.int64) @ (np.int64(1) << np.arange(n - 1, -1, -1, dtype=np.int64))
        uniq, code = np.unique(packed, return_inverse=True)
        return [format(c, f"0{n}b") for c in uniq.tolist()], code.reshape(-1)
    rows, code = np.unique(bits, axis=0, return_inverse=True)
    return ["".join(map(str, row)) for row in rows.tolist()], code.reshape(-1)


class LaneView:
    """The lanes of one :class:`~verify.dynamics.batch.BatchRun`, read as flat arrays.

    Rows: one per recorded step of each lane (scheduled steps and pattern changes, without
    duplicates), sorted by lane then step, i.e. each lane's rows are its trajectory's records in
    order. ``lane[r]``, ``t[r]``; ``lo[r, q]``/``hi[r, q]`` the double interval of parameter ``q``;
    ``loss_lo[r]``/``loss_hi[r]``. Rows of lanes that did not complete hold whatever the batch
    wrote; only ``completed`` lanes are meaningful. Each row array is built on first use. Phases:
    each lane's certified pattern changes ``(t, pattern)`` in step order (:meth:`phases`), as flat
    arrays ``phase_lane``, ``phase_t`` and ``phase_code`` (an index into ``patterns``, the distinct
    patterns as strings). ``memo``: where lane checkers keep what several of them derive from the
    same view (e.g. the widened loss), by a key of their own.
    """

    def __init__(self, run: BatchRun) -> None:
        self.run = run
        L = len(run)
        self.n_lanes = L
        self.prec = F64_PREC
        self.completed = run.status == bl.COMPLETE
        self.memo: dict[object, object] = {}  # what lane checkers derive from this view and share (by key)
        log, used = run.log, run.log.used
        porder = np.argsort(log.lane[:used], kind="stable")  # the log is appended in step order
        self.phase_lane = log.lane[:used][porder]
        self.phase_t = log.t[:used][porder]
        self.patterns, self.phase_code = _pattern_codes(log.pat[:used][porder])
        self.phase_start = np.searchsorted(self.phase_lane, np.arange(L + 1))

    @cached_property
    def phase_pat(self) -> list[str]:
        """The pattern of each phase entry, as a string."""
        return [self.patterns[c] for c in self.phase_code.tolist()]

    def code_of(self, pattern: str) -> int:
        """The code of ``pattern`` in ``phase_code`` (-1 when no lane visits it)."""
        return self.patterns.index(pattern) if pattern in self.patterns else -1

    def codes_where(self, test: Callable[[str], bool]) -> np.ndarray:
        """Per pattern code: whether ``test(pattern)`` holds."""
        return np.array([bool(test(p)) for p in self.patterns], bool)

    @cached_property
    def _merge(self) -> tuple[np.ndarray, ...]:
        run, log = self.run, self.run.log
        return merge_plan(self.n_lanes, run.rec_steps, log.lane[:log.used], log.t[:log.used])

    def _merged(self, sched: np.ndarray, logged: np.ndarray) -> np.ndarray:
        extra, keep, at_extra, _ = self._merge
        return _scatter(keep, at_extra, sched, logged[extra])

    @cached_property
    def lane(self) -> np.ndarray:
        """The lane of each row."""
        return np.repeat(np.arange(self.n_lanes), self._merge[3])

    @cached_property
    def row_start(self) -> np.ndarray:
        """Lane k's rows: ``row_start[k] .. row_start[k+1]-1``."""
        return np.concatenate([[0], np.cumsum(self._merge[3])])

    @cached_property
    def t(self) -> np.ndarray:
        """The step of each row."""
        run = self.run
        return self._merged(np.tile(run.rec_steps, self.n_lanes), run.log.t[:run.log.used])

    @cached_property
    def lo(self) -> np.ndarray:
        """(rows, p) lower ends of the parameters."""
        run, used = self.run, self.run.log.used
        return self._merged(run.rec_P[0].reshape(-1, run.rec_P.shape[-1]), run.log.P[0, :used])

    @cached_property
    def hi(self) -> np.ndarray:
        """(rows, p) upper ends of the parameters."""
        run, used = self.run, self.run.log.used
        return self._merged(run.rec_P[1].reshape(-1, run.rec_P.shape[-1]), run.log.P[1, :used])

    @cached_property
    def loss_lo(self) -> np.ndarray:
        """Lower ends of the loss."""
        run = self.run
        return self._merged(run.rec_L[0].reshape(-1), run.log.L[0, :run.log.used])

    @cached_property
    def loss_hi(self) -> np.ndarray:
        """Upper ends of the loss."""
        run = self.run
        return self._merged(run.rec_L[1].reshape(-1), run.log.L[1, :run.log.used])

    def first_entry(self, codes: np.ndarray) -> np.ndarray:
        """Per lane: its first phase entry (an index into ``phase_t``, ``phase_code``) whose pattern
        code ``codes`` marks (a bool per code, :meth:`codes_where`), or -1."""
        hits = np.flatnonzero(codes[self.phase_code]) if len(self.phase_code) else np.zeros(0, np.int64)
        out = np.full(self.n_lanes, -1, np.int64)
        lane = self.phase_lane[hits]
        first = np.ones(len(hits), bool)
        first[1:] = lane[1:] != lane[:-1]  # the entries are sorted by lane, then step
        out[lane[first]] = hits[first]
        return out

    def last_entry(self) -> np.ndarray:
        """Per lane: its last phase entry, or -1 (no phase)."""
        a, b = self.phase_start[:-1], self.phase_start[1:]
        return np.where(b > a, b - 1, -1)

    def first_phase(self, pattern: str) -> tuple[np.ndarray, np.ndarray]:
        """Per lane: the first step whose certified pattern is ``pattern`` (-1: never), and whether the
        lane keeps it to its end (it is the lane's last phase)."""
        entry = self.first_entry(np.array([p == pattern for p in self.patterns], bool))
        seen = entry >= 0
        t = np.where(seen, self.phase_t[entry], -1) if len(self.phase_t) else entry
        return t.astype(np.int64), seen & (entry == self.last_entry())

    def phase_paths(self) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        """Each lane's sequence of patterns (its phases without their steps) as an index into a list
        of the distinct sequences, in order of first appearance."""
        codes, starts = self.phase_code.tolist(), self.phase_start.tolist()
        ids: dict[tuple[int, ...], int] = {}
        path = np.array([ids.setdefault(tuple(codes[a:b]), len(ids)) for a, b in zip(starts[:-1], starts[1:],
                                                                                      strict=True)], np.int64)
        return path, [tuple(self.patterns[c] for c in seq) for seq in ids]

    def __len__(self) -> int:
        return self.n_lanes

    def theta0(self, k: int) -> tuple[Fraction, ...]:
        """The exact init of lane ``k`` (``BatchRun.init``)."""
        theta = self.init_doubles()
        if theta is not None:  # doubles: their exact values (as BatchRun.init, without Fraction(float)'s checks)
            return tuple(Fraction(*v.as_integer_ratio()) for v in theta[k].tolist())
        return self.run.init(k)

    def init_doubles(self) -> np.ndarray | None:
        """The exact inits as an (L, p) float64 array when they are doubles (else None)."""
        theta = self.run.theta0
        return theta if isinstance(theta, np.ndarray) and theta.dtype == np.float64 else None

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
        lane = self.lane[rows]
        first = np.ones(len(rows), bool)
        first[1:] = lane[1:] != lane[:-1]  # rows are sorted by lane: the first of each run
        out[lane[first]] = rows[first]
        return out

    def param(self, q: int) -> Interval:
        """Parameter ``q`` at every row, as ``(lo, hi)``."""
        return self.lo[:, q], self.hi[:, q]


def pick(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values[at]`` where ``at >= 0``, -1 where ``at < 0`` (e.g. a row or phase entry per lane)."""
    out = np.full(len(at), -1, values.dtype)
    hit = at >= 0
    out[hit] = values[at[hit]]
    return out


LaneChecker = Callable[[LaneView], Sequence[Any]]  # per lane: an Outcome, or None (the checker decides)


# -- directed rounding on double intervals (numpy rounds to nearest: one step outward is a bound) ----
# ``np.nextafter`` bit for bit, from the IEEE bit patterns: for float64 the int64 of the bits is
# monotone in the value on each sign, so the next double up is ``bits + 1`` for a sign bit 0 and
# ``bits - 1`` for a sign bit 1 (and down the reverse). The cases where that is wrong (zeros, the
# infinity in the direction of travel, NaNs) go through ``np.nextafter``; six times faster on large
# arrays (tests/test_lane_checks.py compares the two on every bit pattern class).
def _step(x: np.ndarray, up: bool) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype != np.float64 or x.ndim == 0:
        return np.nextafter(x, np.inf if up else -np.inf)
    bits = x.view(np.int64)
    sign = bits >> 63  # 0 or -1
    sign |= 1  # +1 for a sign bit 0, -1 for a sign bit 1
    out = (np.add if up else np.subtract)(bits, sign, out=sign).view(np.float64)
    bad = ~(x < np.inf) if up else ~(x > -np.inf)  # NaN, and the infinity we move towards
    bad |= x == 0
    if bad.any():
        out[bad] = np.nextafter(x[bad], np.inf if up else -np.inf)
    return out


def _down(x: np.ndarray) -> np.ndarray:
    """The next double below each of ``x`` (``np.nextafter(x, -inf)``)."""
    return _step(x, up=False)


def _up(x: np.ndarray) -> np.ndarray:
    """The next double above each of ``x`` (``np.nextafter(x, inf)``)."""
    return _step(x, up=True)


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
