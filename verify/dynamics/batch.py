"""The batch backend: certified GD on many exact inits at once, in float64 intervals.

:func:`run_batch` encloses each exact init (and the data, output weights and ``eta/n``) in the
tightest double intervals, decides each init's initial signs exactly, and steps every lane with
the compiled kernels of :mod:`verify.dynamics.batch_codegen` (unrolled for the network's shape
while it is small, :mod:`verify.dynamics.batch_loops` beyond) and a vectorized ``exp`` with a proved
error bound (:func:`verify.arith.f64.exp_array`), all driven
by one compiled loop (:func:`verify.dynamics.batch_kernel.drive`). Per step ``t``
(the conventions of :mod:`verify.dynamics.gd`):

* ``z_ji = <w_j, x_i> + b_j``; neuron ``j`` is active at ``x_i`` iff ``z_ji > 0``, certified by
  the interval's ``lo > 0`` (inactive: ``hi <= 0``); a neuron never active so far keeps its
  exact initial values, so its pattern is its exact initial sign;
* ``e_i = exp(-y_i N(x_i))`` and ``G_i = (eta/n) e_i`` (exponential loss) or
  ``(eta/n) e_i / (1 + e_i)`` (logistic);
* ``b_j += a_j sum_i [z_ji > 0] y_i G_i``, ``w_jk += a_j sum_i [z_ji > 0] y_i x_ik G_i`` and,
  when the output layer trains, ``a_j += sum_i [z_ji > 0] y_i G_i z_ji``, all with the old ``a_j``.

A lane stops at the first step it cannot certify (an undecided sign, an overflow, a parameter
interval wider than ``width_limit``); :class:`BatchRun`
says which step and why, and the sweep (:mod:`verify.dynamics.sweep`) escalates it to the
arbitrary-precision engine. A lane stops as well, *diverged* (:mod:`verify.dynamics.divergence`), at
the first step ``t`` whose loss lower bound is certified above ``divergence_bound`` (exponentials
finite) or where a parameter of ``theta_t`` is certified farther than it from its init: a certified
fact, which reads as a trajectory with status ``diverged`` (:meth:`BatchRun.trajectory`). The check
runs after each step's record pass on the state arrays (a necessary condition on all lanes, one compiled
pass; on the lanes it lets through, the exact comparison of the parameters and an Arb
enclosure of the loss), so the step kernels are unchanged.
A loss crossing gives the step of :func:`verify.dynamics.gd.run_gd`; on a parameter crossing the
lane's last record is ``t`` itself (its forward pass at ``t`` was certified here), where ``run_gd``
stops before that forward pass and keeps ``t - 1``. A completed lane reads as an ordinary
:class:`~verify.dynamics.trajectory.Trajectory` whose enclosures are Arb balls holding its
double intervals exactly.

Invariant: for each completed lane and each recorded step ``t``, the intervals contain the
exact ``theta_t`` and ``L(theta_t)`` of :func:`verify.dynamics.gd.run_gd` on the same exact
init, and the recorded patterns are certified. The steps recorded are those of ``schedule``,
every pattern change, and the last step, as in the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property, lru_cache

import numpy as np
from flint import arb

from verify.arith import Backend, fenv, get_backend
from verify.arith.f64 import LIBM_ABS, LIBM_REL, enclose
from verify.dynamics import batch_layout as bl
from verify.dynamics.batch_codegen import step_kernels
from verify.dynamics.divergence import DEFAULT_DIVERGENCE_BOUND, check_bound, loss_reason, param_reason
from verify.dynamics.gd import exact_preactivations
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.trajectory import COMPLETE, DIVERGED, StepRecord, Trajectory
from verify.errors import InvalidArgument
from verify.model.network import Problem

F64_PREC = 53
ENGINE = "batch-f64"
DEFAULT_WIDTH_LIMIT = 2.0**-26  # ~1.5e-8: a wider lane goes to the arbitrary-precision engine

DIVERGED_CODE = 4  # lane status (beside verify.dynamics.batch_layout's): certified divergent, not escalated
REASONS = {
    bl.AMBIGUOUS: "the sign of a pre-activation is undecided in float64",
    bl.NONFINITE: "a value overflowed float64",
    bl.TOO_WIDE: "a parameter interval grew wider than the width limit",
    DIVERGED_CODE: "GD was certified divergent",
}

Inits = Sequence[Sequence[object]] | np.ndarray


@dataclass
class BatchRun:
    """Per-lane outputs of a batch run, and their reading as trajectories."""

    problem: Problem
    theta0: np.ndarray | list[tuple[Fraction, ...]]  # exact: float64 rows, or Fractions
    steps: int
    rec_steps: np.ndarray  # (R,) the scheduled steps, recorded for every lane
    status: np.ndarray  # (L,) int8 status codes (verify.dynamics.batch_layout)
    fail_step: np.ndarray  # (L,) first uncertified step, -1 when complete
    fail_at: np.ndarray  # (L,) j * n + i of the undecided pre-activation, -1 if none
    log: ChangeLog  # every step at which a lane's pattern differs from its previous step's
    rec_P: np.ndarray  # (2, L, R, p) theta at each scheduled step
    rec_L: np.ndarray  # (2, L, R)
    # lane -> (reason, step t, theta_t lo, theta_t hi, L(theta_t) as an Arb ball) of the lanes certified divergent
    divergent: dict[int, tuple[str, int, list, list, object]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.status)

    def init(self, k: int) -> tuple[Fraction, ...]:
        """The exact ``theta_0`` of lane ``k``."""
        row = self.theta0[k]
        return tuple(Fraction(v) for v in row.tolist()) if isinstance(self.theta0, np.ndarray) else row

    def completed(self, k: int) -> bool:
        return int(self.status[k]) == bl.COMPLETE

    def diverged(self, k: int) -> bool:
        """Lane ``k`` stopped certified divergent at ``fail_step[k]``: a certified result (read it
        with :meth:`trajectory`), not a reason to escalate."""
        return int(self.status[k]) == DIVERGED_CODE

    def escalation_reason(self, k: int) -> str | None:
        """Why lane ``k`` left the batch (``None`` when every step was certified in float64)."""
        code = int(self.status[k])
        if code == bl.COMPLETE:
            return None
        where = ""
        if code == DIVERGED_CODE:
            return f"{self.divergent[k][0]} at step {int(self.fail_step[k])}"
        if code == bl.AMBIGUOUS and self.fail_at[k] >= 0:
            j, i = divmod(int(self.fail_at[k]), self.problem.data.n)
            where = f" (neuron {j + 1} at x_{i + 1})"
        return f"{REASONS[code]}{where} at step {int(self.fail_step[k])}"

    def phases(self, k: int) -> list[tuple[int, str]]:
        """The certified pattern changes of lane ``k``: ``(first step, pattern)``."""
        v = self._lists
        return [(v["t"][e], v["pat"][e]) for e in v["entries"][k]]

    def trajectory(self, k: int, prec: int = 128) -> Trajectory:
        """Lane ``k`` as a trajectory: Arb balls at ``prec`` bits holding its double intervals (status
        ``complete``, or ``diverged`` at ``fail_step[k]`` with that step recorded)."""
        diverged = self.diverged(k)
        if not (self.completed(k) or diverged):
            raise ValueError(f"lane {k} was not certified in float64: {self.escalation_reason(k)}")
        be, v = _arb(prec), self._lists
        rows = dict(zip(v["rec_steps"], zip(v["rec_lo"][k], v["rec_hi"][k], v["rec_L_lo"][k], v["rec_L_hi"][k],
                                            strict=True), strict=True))
        if diverged:
            why, last, lo, hi, loss = self.divergent[k]
            rows = {t: row for t, row in rows.items() if t < last}
            rows[last] = (lo, hi, loss, None)
        entries = v["entries"][k]
        rows.update((v["t"][e], (v["P_lo"][e], v["P_hi"][e], v["L_lo"][e], v["L_hi"][e])) for e in entries)
        phases = [(v["t"][e], v["pat"][e]) for e in entries]
        traj = Trajectory(self.problem, self.init(k), be, self.steps, precisions_tried=(F64_PREC,), engine=ENGINE)
        traj.phases.extend(phases)
        c = 0
        with be.working_precision():
            for t in sorted(rows):
                while c + 1 < len(phases) and phases[c + 1][0] <= t:
                    c += 1
                lo, hi, loss_lo, loss_hi = rows[t]
                theta = tuple(map(be.from_doubles, lo, hi))
                loss = be.from_doubles(loss_lo, loss_hi) if loss_hi is not None else loss_lo  # an Arb ball
                traj.records.append(StepRecord(t, theta, loss, phases[c][1]))
        traj.status = COMPLETE
        if diverged:
            traj.status, traj.failed_step = DIVERGED, last
            traj.reason = f"{why} at step {last} at {F64_PREC} bits (float64)"
        return traj

    def lanes(self, ids: np.ndarray) -> BatchRun:
        """The run of lanes ``ids`` only (distinct, increasing), numbered ``0 .. len(ids) - 1`` in that
        order: every per-lane array at those lanes and the change log's entries of those lanes, in
        their log order. Lane ``j`` of the result reads exactly as lane ``ids[j]`` of this run."""
        ids = np.asarray(ids, np.int64)
        number = np.full(len(self), -1, np.int64)
        number[ids] = np.arange(len(ids))
        theta0 = self.theta0[ids] if isinstance(self.theta0, np.ndarray) else [self.theta0[k] for k in ids.tolist()]
        return BatchRun(self.problem, theta0, self.steps, self.rec_steps, self.status[ids], self.fail_step[ids],
                        self.fail_at[ids], self.log.of_lanes(number), self.rec_P[:, ids], self.rec_L[:, ids],
                        {int(number[k]): v for k, v in self.divergent.items() if number[k] >= 0})

    @cached_property
    def _lists(self) -> dict[str, list]:
        """Every lane's records as Python lists, converted once (reading lanes one by one is then cheap)."""
        log, used = self.log, self.log.used
        order = np.argsort(log.lane[:used], kind="stable")  # appended in step order
        starts = np.searchsorted(log.lane[:used][order], np.arange(len(self) + 1)).tolist()
        order = order.tolist()
        return {
            "rec_steps": self.rec_steps.tolist(),
            "rec_lo": self.rec_P[0].tolist(), "rec_hi": self.rec_P[1].tolist(),
            "rec_L_lo": self.rec_L[0].tolist(), "rec_L_hi": self.rec_L[1].tolist(),
            "t": log.t[:used].tolist(), "P_lo": log.P[0, :used].tolist(), "P_hi": log.P[1, :used].tolist(),
            "L_lo": log.L[0, :used].tolist(), "L_hi": log.L[1, :used].tolist(),
            "pat": ["".join(map(str, bits)) for bits in log.pat[:used].tolist()],
            "entries": [order[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)],
        }


@lru_cache(maxsize=8)
def _arb(prec: int) -> Backend:
    return get_backend("arb", prec)


class ChangeLog:
    """Append-only log of pattern changes, one entry per (lane, step): memory grows with the
    number of changes, whatever their spread over the lanes."""

    def __init__(self, capacity: int, patterns: int, p: int) -> None:
        self.used = 0
        self.lane = np.zeros(capacity, np.int64)
        self.t = np.zeros(capacity, np.int64)
        self.pat = np.zeros((capacity, patterns), np.int8)
        self.P = np.zeros((2, capacity, p))
        self.L = np.zeros((2, capacity))

    def of_lanes(self, number: np.ndarray) -> ChangeLog:
        """The entries of the lanes with ``number[lane] >= 0``, in log order, their lanes renumbered
        to ``number[lane]`` (a log of exactly that size)."""
        used = self.used
        keep = np.flatnonzero(number[self.lane[:used]] >= 0)
        out = ChangeLog(0, self.pat.shape[1], self.P.shape[2])
        out.used = len(keep)
        out.lane, out.t, out.pat = number[self.lane[keep]], self.t[keep], self.pat[keep]
        out.P, out.L = self.P[:, keep], self.L[:, keep]
        return out

    def reserve(self, more: int) -> None:
        """Room for ``more`` entries past ``used`` (doubling the capacity when it runs out)."""
        need = self.used + more
        if need <= len(self.lane):
            return
        size = max(need, 2 * len(self.lane))
        for name in ("lane", "t", "pat"):
            old = getattr(self, name)
            new = np.zeros((size, *old.shape[1:]), old.dtype)
            new[:self.used] = old[:self.used]
            setattr(self, name, new)
        for name in ("P", "L"):
            old = getattr(self, name)
            new = np.zeros((2, size, *old.shape[2:]))
            new[:, :self.used] = old[:, :self.used]
            setattr(self, name, new)


def _enter(problem: Problem, inits: Inits) -> tuple[np.ndarray | list[tuple[Fraction, ...]], np.ndarray, np.ndarray]:
    """Exact inits and their tightest double enclosures ``(lo, hi)``, each ``(L, p)``."""
    net = problem.network
    if isinstance(inits, np.ndarray):
        if inits.dtype != np.float64 or inits.ndim != 2 or inits.shape[1] != net.n_params:
            raise InvalidArgument("inits", f"array {inits.dtype} {inits.shape}",
                                  f"must be a float64 array of shape (L, {net.n_params})")
        if not np.isfinite(inits).all():
            raise InvalidArgument("inits", "array", "must be finite (no NaN or infinity)")
        return inits, inits, inits  # every double is an exact rational: a point enclosure
    exact = [net.check_params(theta, f"inits[{k}]") for k, theta in enumerate(inits)]
    lo = np.empty((len(exact), net.n_params))
    hi = np.empty_like(lo)
    for k, theta in enumerate(exact):
        for q, value in enumerate(theta):
            lo[k, q], hi[k, q] = enclose(value)
    return exact, lo, hi


def initial_signs(problem: Problem, theta0: np.ndarray | list, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``sign(z_ji)`` at ``theta_0``, exactly, as int8 ``(m, n, L)``.

    Decided by an outward-rounded double enclosure where it excludes 0; the rest (a
    pre-activation at or near 0) in exact rational arithmetic.
    """
    net, data = problem.network, problem.data
    m, n, d, L = net.width, data.n, data.d, lo.shape[0]
    signs = np.zeros((m, n, L), np.int8)
    undecided = np.zeros(L, bool)
    X = [[enclose(v) for v in row] for row in data.X]
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(m):
            for i in range(n):
                b = j * (d + 1) + d
                zl, zh = lo[:, b].copy(), hi[:, b].copy()
                for k in range(d):
                    (xl, xh), wl, wh = X[i][k], lo[:, j * (d + 1) + k], hi[:, j * (d + 1) + k]
                    products = np.stack([xl * wl, xl * wh, xh * wl, xh * wh])
                    zl = np.nextafter(zl + np.nextafter(products.min(axis=0), -np.inf), -np.inf)
                    zh = np.nextafter(zh + np.nextafter(products.max(axis=0), np.inf), np.inf)
                signs[j, i] = np.where(zl > 0, 1, np.where(zh < 0, -1, 0))
                undecided |= ~((zl > 0) | (zh < 0))
    for k in np.flatnonzero(undecided):
        theta = theta0[k] if isinstance(theta0, list) else tuple(Fraction(v) for v in theta0[k].tolist())
        for j, row in enumerate(exact_preactivations(problem, theta)):
            for i, z in enumerate(row):
                signs[j, i, k] = (z > 0) - (z < 0)
    return signs


def run_batch(
    problem: Problem,
    inits: Inits,
    steps: int,
    *,
    schedule: RecordSchedule | None = None,
    width_limit: float = DEFAULT_WIDTH_LIMIT,
    progress: Callable[[int], None] | None = None,
    kernel: str = "auto",
    divergence_bound: object = DEFAULT_DIVERGENCE_BOUND,
) -> BatchRun:
    """Certified GD in float64 intervals from every exact init (one lane each).

    ``inits`` is a sequence of exact parameter vectors (anything :func:`verify.exact.to_exact`
    takes) or a float64 array of shape ``(L, p)`` whose doubles are the exact values. ``kernel``
    picks the step kernels (:func:`verify.dynamics.batch_codegen.step_kernels`): unrolled for the
    shape, loops, or ``"auto"`` (unrolled while small). Raises
    :class:`~verify.arith.fenv.UnsafeFloatEnvironment` when this process's floating-point
    environment breaks the float64 assumptions (the sweep then escalates every lane).
    ``divergence_bound`` (default ``2**100``, ``None``: no check) stops a lane certified divergent
    (:meth:`BatchRun.diverged`; :mod:`verify.dynamics.divergence`).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise InvalidArgument("steps", steps, "must be a non-negative integer")
    if isinstance(width_limit, bool) or not isinstance(width_limit, float | int) or \
            not 0 < width_limit < float("inf"):
        raise InvalidArgument("width_limit", width_limit, "must be a positive finite number")
    net, data = problem.network, problem.data
    bound = check_bound(divergence_bound)
    fenv.require_float64()  # round-to-nearest, subnormals kept, libm within its bound: else refuse
    if data.n > 2**53:  # the loss divides by n in doubles (verify.arith.f64.div_int)
        raise InvalidArgument("data", f"{data.n} points", "must hold at most 2**53 points")
    theta0, lo, hi = _enter(problem, inits)
    compiled = step_kernels(problem, kernel)
    kernels, C, lay = compiled.module, compiled.C, compiled.layout
    H = np.array(lay.header())
    L, p, m, n = lo.shape[0], lay.p, lay.m, lay.n
    rec_steps = np.array(sorted((schedule or RecordSchedule()).steps(steps)), np.int64)
    R = len(rec_steps)
    run = BatchRun(
        problem, theta0, steps, rec_steps,
        status=np.zeros(L, np.int8), fail_step=np.full(L, -1, np.int64), fail_at=np.full(L, -1, np.int64),
        log=ChangeLog(4 * L, m * n, p), rec_P=np.zeros((2, L, R, p)), rec_L=np.zeros((2, L, R)),
    )
    if L == 0:
        return run
    blocks = -(-L // bl.BLOCK)
    X = np.ones((blocks, lay.x_rows, bl.BLOCK))  # padding lanes: dead, at a harmless 1.0
    F = np.zeros((blocks, lay.f_rows, bl.BLOCK), np.int8)
    _scatter(X, 0, np.concatenate([lo.T, hi.T]), L)
    _scatter(F, lay.sign0(0, 0), initial_signs(problem, theta0, lo, hi).reshape(m * n, L), L)
    _scatter(F, lay.frozen(0), np.ones((m, L), np.int8), L)
    _scatter(F, lay.alive, np.ones((1, L), np.int8), L)
    changes, logistic, limit = np.zeros(blocks, np.int64), net.loss == "logistic", float(width_limit)
    watch = None if bound is None else _Divergence(problem, lay, bound, X.shape, logistic)
    flags = watch.flags if watch is not None else np.zeros((1, 1), np.bool_)
    b_down, t_down = (watch.b_down, watch.t_down) if watch is not None else (0.0, 0.0)
    log, t, r = run.log, 0, 0
    while t <= steps:  # the compiled loop (batch_kernel.drive) returns only for what needs Python
        boundary = -(-t // PROGRESS_EVERY) * PROGRESS_EVERY
        t_end = steps + 1 if progress is None else min(steps + 1, boundary + 1)
        t, r, log.used, why = kernels.drive(t, t_end, rec_steps, r, logistic, limit, watch is not None, b_down,
                                            t_down, flags, H, C, X, F, changes, run.fail_step, run.fail_at,
                                            log.used, log.lane, log.t, log.pat, log.P, log.L, run.rec_P, run.rec_L)
        if why == bl.NEED_ROOM:
            log.reserve(L)  # each step appends at most one entry per lane
            continue
        if why == bl.DIVERGING:
            watch.stop(t - 1, np.flatnonzero(flags.reshape(-1)), X, F, run)
            flags[:] = False  # scan writes the flags of blocks with a hit only
        elif why == bl.ALL_STOPPED:
            break
        if progress is not None and (t - 1) % PROGRESS_EVERY == 0:
            progress(t - 1)
    run.status[:] = _gather(F, lay.status, L)[0]
    return run


PROGRESS_EVERY = 1024  # steps between calls of run_batch's progress callback


LOSS_PREC = 128  # the divergence check's loss enclosures (Arb, independent of libm)


class _Divergence:
    """The divergence check of :func:`run_batch` after each step ``t`` (state: ``theta_t`` and the
    exponentials of its forward pass). The compiled loop's :func:`~verify.dynamics.batch_kernel.scan`
    flags (in ``flags``) the lanes that meet a necessary condition: a certified ``L > B`` needs some
    exponential ``> B`` (``l(e) <= e`` and the enclosures' lower ends lie below the kernels'
    ``exp`` values), and a certified ``|theta_k| > T_k`` (``T_k = B + |theta_0[k]|``) needs an interval end
    beyond ``B`` (rounded down) in magnitude.
    :meth:`stop` decides on the running lanes (parameters: exact rationals; loss: an Arb ball, see
    :meth:`loss`) and stops those certified divergent."""

    def __init__(self, problem: Problem, lay: bl.Layout, bound: Fraction, shape: tuple, logistic: bool) -> None:
        self.bound, self.lay, self.logistic = bound, lay, logistic
        self.reason, self.names = loss_reason(bound), problem.network.param_names()
        self.b_down = enclose(bound)[0] * (1 - 2.0**-30)  # below B by far more than exp's error
        self.bound_arb = _arb(LOSS_PREC).exact(bound)
        self.t_down = enclose(bound)[0]  # <= B <= every T_k
        self.flags = np.zeros((shape[0], shape[2]), np.bool_)

    def stop(self, t: int, lanes: np.ndarray, X: np.ndarray, F: np.ndarray, run: BatchRun) -> None:
        """Stop each of ``lanes`` certified divergent at step ``t`` (exact comparisons)."""
        lay = self.lay
        p, n, e0, span0, block = lay.p, lay.n, lay.e(0), lay.span(0), X.shape[2]
        for k in lanes.tolist():
            bk, lane = divmod(k, block)
            lo, hi = X[bk, :p, lane].tolist(), X[bk, p:2 * p, lane].tolist()
            T = [self.bound + abs(q) for q in run.init(k)]
            why = next((param_reason(self.names[q], self.bound) for q in range(p)
                        if Fraction(lo[q]) > T[q] or Fraction(hi[q]) < -T[q]), None)
            loss = self.loss(X[bk, e0:e0 + n, lane].tolist(), X[bk, span0:span0 + n, lane].tolist())
            finite = bool(loss.is_finite())
            if why is None and finite and loss > self.bound_arb:
                why = self.reason
            if why is None or not finite:  # an overflowed loss: the record pass or the next step stops it
                continue
            run.divergent[k] = (why, t, lo, hi, loss)
            run.fail_step[k] = t
            F[bk, lay.alive, lane] = 0
            F[bk, lay.status, lane] = DIVERGED_CODE
            X[bk, :2 * p, lane] = 1.0  # parked as the kernels park (verify.dynamics.batch_kernel._park)
            F[bk, lay.sign0(0, 0):lay.sign0(0, 0) + lay.m * n, lane] = -1
            F[bk, lay.frozen(0):lay.frozen(0) + lay.m, lane] = 1

    def loss(self, exps: list[float], spans: list[float]) -> object:
        """``L`` enclosed in an Arb ball (:data:`LOSS_PREC` bits) from the kernels' ``exp(l_i)`` of the
        exponent arguments' lower ends and the bounds of their widths: ``exp([l_i, l_i + span_i])`` lies
        in ``[e_i (1 - r) - a, (e_i (1 + r) + a) exp(span_i)]`` under the error bound of the
        kernels' ``exp`` (:func:`verify.arith.f64.widen_exp`: ``r = LIBM_REL``, ``a = LIBM_ABS``)."""
        be = _arb(LOSS_PREC)
        with be.working_precision():
            rel, tiny, zero = arb(LIBM_REL), arb(LIBM_ABS), arb(0)
            total = zero
            for e, w in zip(exps, spans, strict=True):
                lo = (arb(e) * (1 - rel) - tiny).max(zero)
                hi = (arb(e) * (1 + rel) + tiny) * arb(w).exp()
                term = lo.union(hi)
                total += term.log1p() if self.logistic else term
            return total / len(exps)


def _scatter(state: np.ndarray, row: int, values: np.ndarray, L: int) -> None:
    """Write ``values[r, k]`` into rows ``row + r`` of lanes ``k < L`` of the blocked ``state``."""
    block = state.shape[2]
    for b in range(-(-L // block)):
        lanes = slice(b * block, min((b + 1) * block, L))
        state[b, row:row + values.shape[0], :lanes.stop - lanes.start] = values[:, lanes]


def _gather(state: np.ndarray, row: int, L: int, rows: int = 1) -> np.ndarray:
    """Rows ``row .. row + rows - 1`` of lanes ``0 .. L - 1`` as a ``(rows, L)`` array."""
    return state[:, row:row + rows, :].transpose(1, 0, 2).reshape(rows, -1)[:, :L]
