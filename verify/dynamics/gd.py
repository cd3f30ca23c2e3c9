"""Certified gradient descent ``theta <- theta - eta * grad L(theta)`` on enclosures.

Loss: ``L(theta) = (1/n) sum_i l(y_i N(x_i))`` with ``l(z) = exp(-z)`` (exponential)
or ``log(1 + exp(-z))`` (logistic). With ``z_ij = <w_j, x_i> + b_j`` and
``g_i = l'(y_i N(x_i)) y_i / n`` (the derivative of L in ``N(x_i)``):

    dL/dw_j = a_j sum_i g_i [z_ij > 0] x_i,   dL/db_j = a_j sum_i g_i [z_ij > 0],
    dL/da_j = sum_i g_i relu(z_ij)            (when the output layer trains).

Every step (:mod:`verify.dynamics.step`) certifies the sign of every ``z_ij``. A neuron that has never been
active keeps its exact initial parameters (its gradient is exactly zero), so its
pattern is decided in exact rational arithmetic — which is how an initial
pre-activation of exactly 0 is certified inactive. Any other enclosure of a
pre-activation that contains 0 makes the step *ambiguous*: the run restarts at
twice the precision, up to ``max_prec``, and then reports *inconclusive at step t*.

A run whose loss is certified to exceed ``divergence_bound`` at step ``t`` (or a parameter of
``theta_t`` to have moved farther than it) stops there with status ``diverged``
(:mod:`verify.dynamics.divergence`), the record of the last step whose pattern is certified kept
(``t``, or ``t - 1`` when a parameter crossed): the enclosures beyond grow without bound. With the
output layer fixed, both checks are skipped while a running bound on how far the exact iterates can
have moved stays within the bound (:class:`~verify.dynamics.divergence.MoveBudget`: two ball
comparisons a step for paper A instead of the loss and eight); the step found is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

from verify.arith import Backend, get_backend
from verify.arith.arrays import get_arithmetic
from verify.arith.base import check_prec
from verify.dynamics.compile import Ambiguous, compile_step
from verify.dynamics.divergence import (
    DEFAULT_DIVERGENCE_BOUND,
    DIVERGED,
    Diverged,
    MoveBudget,
    check_bound,
    loss_reason,
    param_reason,
)
from verify.dynamics.pattern import pattern_string
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.trajectory import COMPLETE, INCONCLUSIVE, StepRecord, Trajectory
from verify.dynamics.wide import AMBIGUOUS, NONFINITE, Monitor, exact_inits, run_matrix
from verify.errors import InvalidArgument
from verify.model.network import Problem

Progress = Callable[[int], None]
KERNELS = ("auto", "matrix", "compiled")
# The straight-line step of verify.dynamics.compile beats the matrix step on Arb for the tiniest
# networks only (benchmarks/bench_wide.py (c), per step at 128 bits, median of 5: 8 terms (paper A)
# 10 us against 182 us; 27 terms 31 against 157; 60 terms 52 against 196; 160 terms 127 against
# 245), and cannot compile large ones (2.4 s for 20 steps at 66,560 terms; RecursionError beyond).
COMPILED_MAX_TERMS = 160


def exact_preactivations(problem: Problem, theta: Sequence[Fraction]) -> list[list[Fraction]]:
    """``z[j][i] = <w_j, x_i> + b_j`` in exact rational arithmetic."""
    net, data = problem.network, problem.data
    z = []
    for j in range(net.width):
        params = theta[net.neuron_slice(j)]
        w, b = params[:-1], params[-1]
        z.append([b + sum((wk * xk for wk, xk in zip(w, x, strict=True)), Fraction(0)) for x in data.X])
    return z


class _Kernel:
    """The GD loop for one problem on one backend: compiled steps plus bookkeeping."""

    def __init__(self, problem: Problem, backend: Backend, bound: Fraction | None = None) -> None:
        self.problem, self.be = problem, backend
        self.step = compile_step(problem, backend)
        self.inv_n = backend.exact(Fraction(1, problem.data.n))
        self.logistic = problem.network.loss == "logistic"
        self.log1p = backend.kernel("log1p")
        self.bound_q = bound
        self.bound = None if bound is None else backend.exact(bound)
        self.names = problem.network.param_names()

    def diverged(self, loss: object) -> str | None:
        """Why step ``t`` is certified divergent by its loss (beyond the bound), or None."""
        return loss_reason(self.bound_q) if self.be.outside(loss, None, self.bound) else None

    def loss_might_exceed(self, expo: Sequence) -> bool:
        """A necessary condition for :meth:`diverged`, without computing the loss: some
        ``e_i = exp(-y_i N_i)`` certified beyond the bound. The computed enclosures have
        ``lower(L) <= (1/n) sum_i lower(l(e_i)) <= max_i lower(e_i)`` (sums and products round
        outward, ``log1p(e) <= e``), so a loss certified ``> B`` has some ``e_i`` certified ``> B``:
        skipping the loss otherwise never changes the step at which divergence is found."""
        bound = self.bound
        if self.be.name == "arb":  # Arb's ball comparisons are certified: inline them
            for e in expo:
                if e > bound:
                    return True
            return False
        outside = self.be.outside
        return any(outside(e, None, bound) for e in expo)

    def thresholds(self, theta0: Sequence[Fraction]) -> tuple[list, list]:
        """``(-T_k)`` and ``(T_k)`` with ``T_k = bound + |theta0[k]|``: ``|theta[k]| > T_k`` certifies
        ``|theta[k] - theta0[k]| > bound`` by comparing balls, without arithmetic."""
        be = self.be
        return [be.exact(-self.bound_q - abs(q)) for q in theta0], [be.exact(self.bound_q + abs(q)) for q in theta0]

    def moved_too_far(self, P: Sequence, T: tuple[list, list]) -> str | None:
        """Why ``theta_{t+1}`` (``P``) is certified divergent: a parameter beyond its threshold
        (:meth:`thresholds`), or None."""
        lows, highs = T
        if self.be.name == "arb":  # the hot path: Arb's ball comparisons are certified, inline them
            for p, lo, hi in zip(P, lows, highs, strict=True):
                if p > hi or p < lo:
                    return self.param_reason(P, T)
            return None
        outside = self.be.outside
        if any(outside(p, lo, hi) for p, lo, hi in zip(P, lows, highs, strict=True)):
            return self.param_reason(P, T)
        return None

    def param_reason(self, P: Sequence, T: tuple[list, list]) -> str:
        """The reason naming the first parameter beyond its threshold (one is)."""
        outside = self.be.outside
        k = next(k for k, (p, lo, hi) in enumerate(zip(P, *T, strict=True)) if outside(p, lo, hi))
        return param_reason(self.names[k], self.bound_q)

    def loss(self, expo: Sequence) -> object:
        """``L = (1/n) sum_i l(y_i N_i)`` from the enclosures ``expo_i = exp(-y_i N_i)``."""
        terms = [self.log1p(e) for e in expo] if self.logistic else list(expo)
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total * self.inv_n

    def run(
        self,
        theta0: Sequence[Fraction],
        steps: int,
        keep: set[int],
        progress: Progress | None,
        records: list[StepRecord],
        phases: list[tuple[int, str]],
    ) -> None:
        """Append to ``records`` and ``phases`` as steps are certified (kept up to an ambiguity);
        raise :class:`~verify.dynamics.divergence.Diverged` after recording a divergent step."""
        be, step = self.be, self.step
        exact_sign = [[(z > 0) - (z < 0) for z in row] for row in exact_preactivations(self.problem, theta0)]
        frozen = [True] * self.problem.network.width  # neuron j still at its exact initial values
        P = [be.exact(q) for q in theta0]
        T = self.thresholds(theta0) if self.bound is not None else None
        budget = MoveBudget(self.problem, be, self.bound_q) if self.bound is not None else None
        last_mask = -1
        for t in range(steps + 1):
            P_next, mask, active, expo = step(P, frozen, exact_sign, t)
            if mask != last_mask:
                last_mask = mask
                phases.append((t, pattern_string(active)))
                keep_now = True
            else:
                keep_now = t in keep
            loss, why, at = None, None, t
            if budget is not None and not budget.advance(expo):  # within budget: neither check can fire
                if self.loss_might_exceed(expo):  # else the loss cannot be certified beyond the bound
                    loss = self.loss(expo)
                    why = self.diverged(loss)
                if why is None and t < steps:  # theta_{t+1} already beyond: stop before its forward pass
                    why, at = self.moved_too_far(P_next, T), t + 1
            if keep_now or t == steps or why:
                if loss is None:
                    loss = self.loss(expo)
                if why is None and not be.is_finite(loss):
                    raise Ambiguous(t, "loss enclosure is not finite")
                records.append(StepRecord(t, tuple(P), loss, phases[-1][1]))
                if why:
                    raise Diverged(at, why)
            if progress is not None and t % 4096 == 0:
                progress(t)
            P = P_next


def compiled_terms(problem: Problem) -> int:
    """``width x points x (d + 1)``: the size of the straight-line step :mod:`verify.dynamics.compile` writes."""
    return problem.network.width * problem.data.n * (problem.data.d + 1)


def run_gd(
    problem: Problem,
    theta0: Sequence[object] | np.ndarray,
    steps: int,
    *,
    backend: str | Backend = "arb",
    prec: int = 128,
    max_prec: int = 1024,
    schedule: RecordSchedule | None = None,
    progress: Progress | None = None,
    monitor: Monitor | None = None,
    kernel: str = "auto",
    divergence_bound: object = DEFAULT_DIVERGENCE_BOUND,
) -> Trajectory:
    """Run ``steps`` certified GD steps from exact ``theta0``, escalating precision.

    Returns a :class:`Trajectory` whose status is ``complete`` (every step's
    pattern certified), ``inconclusive`` (with the failing step and every
    precision tried) or ``diverged`` (at ``failed_step`` the loss or a parameter's magnitude is
    certified ``> divergence_bound``, default ``2**100``; ``None`` disables the check). The step is
    the matrix step of :mod:`verify.dynamics.step` in the backend's array arithmetic
    (:func:`verify.arith.arrays.get_arithmetic`), for any size; networks of at most
    :data:`COMPILED_MAX_TERMS` terms (paper A) run on the straight-line step of
    :mod:`verify.dynamics.compile` instead (``kernel="auto"``; ``"matrix"`` or ``"compiled"`` force
    one). ``monitor`` (matrix step only) is called once per step (:data:`verify.dynamics.wide.Monitor`).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise InvalidArgument("steps", steps, "must be a non-negative integer")
    if kernel not in KERNELS:
        raise InvalidArgument("kernel", kernel, f"must be one of {list(KERNELS)}")
    name = backend if isinstance(backend, str) else backend.name
    be = get_backend(name, prec) if isinstance(backend, str) else backend.with_prec(prec)
    check_prec(max_prec)
    bound = check_bound(divergence_bound)
    compiled = kernel == "compiled" or (kernel == "auto" and monitor is None
                                        and compiled_terms(problem) <= COMPILED_MAX_TERMS)
    if compiled:
        theta = problem.network.check_params(theta0)
    else:
        theta = exact_inits(problem, [theta0] if not isinstance(theta0, np.ndarray) else theta0[None, :])[0]
    keep = (schedule or RecordSchedule()).steps(steps)
    tried: list[int] = []
    p = be.prec
    while True:
        be = be.with_prec(p)
        tried.append(p)
        if compiled:
            traj = Trajectory(problem, theta, be, steps, precisions_tried=tuple(tried))
            try:
                with be.working_precision():
                    _Kernel(problem, be, bound).run(theta, steps, keep, progress, traj.records, traj.phases)
                traj.status = COMPLETE
                return traj
            except Diverged as div:
                traj.status, traj.failed_step = DIVERGED, div.step
                traj.reason = f"{div.what} at step {div.step} at {p} bits"
                return traj
            except Ambiguous as amb:
                failed, what = amb.step, amb.what
        else:
            ar = get_arithmetic(name, p)
            run = run_matrix(problem, theta, steps, ar, schedule=schedule, monitor=monitor, progress=progress,
                             divergence_bound=bound)
            traj = run.trajectory(0, backend=be, precisions_tried=tuple(tried))
            lane = run.lanes[0]
            if lane.completed or lane.status not in (AMBIGUOUS, NONFINITE):
                return traj
            failed, what = lane.fail_step, lane.what
        if 2 * p > max_prec:
            traj.status = INCONCLUSIVE
            traj.failed_step = failed
            traj.reason = f"{what} undecided at step {failed} at every precision tried {tried} bits"
            return traj
        p *= 2
