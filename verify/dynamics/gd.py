"""Certified gradient descent ``theta <- theta - eta * grad L(theta)`` on enclosures.

Loss: ``L(theta) = (1/n) sum_i l(y_i N(x_i))`` with ``l(z) = exp(-z)`` (exponential)
or ``log(1 + exp(-z))`` (logistic). With ``z_ij = <w_j, x_i> + b_j`` and
``g_i = l'(y_i N(x_i)) y_i / n`` (the derivative of L in ``N(x_i)``):

    dL/dw_j = a_j sum_i g_i [z_ij > 0] x_i,   dL/db_j = a_j sum_i g_i [z_ij > 0],
    dL/da_j = sum_i g_i relu(z_ij)            (when the output layer trains).

Every step certifies the sign of every ``z_ij``. A neuron that has never been
active keeps its exact initial parameters (its gradient is exactly zero), so its
pattern is decided in exact rational arithmetic — which is how an initial
pre-activation of exactly 0 is certified inactive. Any other enclosure of a
pre-activation that contains 0 makes the step *ambiguous*: the run restarts at
twice the precision, up to ``max_prec``, and then reports *inconclusive at step t*.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

from verify.arith import Backend, get_backend
from verify.arith.base import check_prec
from verify.dynamics.pattern import pattern_string
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.trajectory import COMPLETE, INCONCLUSIVE, StepRecord, Trajectory
from verify.errors import InvalidArgument
from verify.model.network import Problem

Progress = Callable[[int], None]


class Ambiguous(Exception):
    """The sign of a pre-activation (or the finiteness of a value) is undecided."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"step {step}: {what}")
        self.step = step
        self.what = what


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
    """One backend's natives for a problem, and the GD loop on them."""

    def __init__(self, problem: Problem, backend: Backend) -> None:
        self.problem, self.be = problem, backend
        net, data = problem.network, problem.data
        ex = backend.exact
        self.m, self.n, self.d = net.width, data.n, data.d
        # x_ik kept as ints when integral (cheap exact products), natives otherwise
        self.X = [[int(v) if v.denominator == 1 else ex(v) for v in row] for row in data.X]
        self.y = data.y
        self.step_coef = [ex(problem.eta * yi / data.n) for yi in data.y]  # eta * y_i / n
        self.inv_n = ex(Fraction(1, data.n))
        fixed = net.output_weights
        self.a_fixed = None if fixed is None else [int(a) if a.denominator == 1 else ex(a) for a in fixed]
        self.logistic = net.loss == "logistic"

    def run(
        self,
        theta0: Sequence[Fraction],
        steps: int,
        keep: set[int],
        progress: Progress | None,
    ) -> tuple[list[StepRecord], list[tuple[int, str]]]:
        be, m, n, d, X, y = self.be, self.m, self.n, self.d, self.X, self.y
        net = self.problem.network
        exact_z = exact_preactivations(self.problem, theta0)
        frozen = [True] * m  # neuron j still at its exact initial values
        theta = [be.exact(q) for q in theta0]
        W = [theta[net.neuron_slice(j)][:-1] for j in range(m)]
        B = [theta[net.neuron_slice(j).stop - 1] for j in range(m)]
        A = list(self.a_fixed) if self.a_fixed is not None else [theta[net.output_index(j)] for j in range(m)]
        records: list[StepRecord] = []
        phases: list[tuple[int, str]] = []
        sign, exp, log1p = be.sign, be.exp, be.log1p
        zero = be.exact(Fraction(0))
        for t in range(steps + 1):
            # forward pass with certified signs
            Z = [[None] * n for _ in range(m)]
            active = [[False] * n for _ in range(m)]
            for j in range(m):
                wj, bj = W[j], B[j]
                for i in range(n):
                    z = bj
                    xi = X[i]
                    for k in range(d):
                        z = z + wj[k] * xi[k]
                    Z[j][i] = z
                    s = (exact_z[j][i] > 0) - (exact_z[j][i] < 0) if frozen[j] else sign(z)
                    if s is None:
                        raise Ambiguous(t, f"sign of pre-activation of neuron {j + 1} at x_{i + 1}")
                    active[j][i] = s > 0
            expo = []
            for i in range(n):
                out = zero
                for j in range(m):
                    if active[j][i]:
                        out = out + A[j] * Z[j][i]
                expo.append(exp(-(y[i] * out)))  # exp(-y_i N(x_i))
            if self.logistic:
                losses = [log1p(e) for e in expo]
                dl = [e / (1 + e) for e in expo]  # -l'(margin)
            else:
                losses, dl = expo, expo
            pattern = pattern_string(active)
            if not phases or phases[-1][1] != pattern:
                phases.append((t, pattern))
                keep_now = True
            else:
                keep_now = t in keep
            if keep_now:
                loss = losses[0]
                for li in losses[1:]:
                    loss = loss + li
                loss = loss * self.inv_n
                if not be.is_finite(loss):
                    raise Ambiguous(t, "loss enclosure is not finite")
                records.append(StepRecord(t, self._flat(W, B, A), loss, pattern))
            if t == steps:
                break
            if progress is not None and t % 4096 == 0:
                progress(t)
            # backward pass: eta * dL/dN(x_i) = -dl_i * step_coef_i
            G = [dl[i] * self.step_coef[i] for i in range(n)]  # = -eta * g_i
            for j in range(m):
                act = active[j]
                if not any(act):
                    continue  # dead on every point: gradient exactly zero
                frozen[j] = False
                gb = None
                for i in range(n):
                    if act[i]:
                        gb = G[i] if gb is None else gb + G[i]
                aj = A[j]
                wj = W[j]
                new_w = list(wj)
                for k in range(d):
                    gk = None
                    for i in range(n):
                        if act[i]:
                            term = G[i] * X[i][k]
                            gk = term if gk is None else gk + term
                    new_w[k] = wj[k] + aj * gk
                if self.a_fixed is None:
                    ga = None
                    for i in range(n):
                        if act[i]:
                            term = G[i] * Z[j][i]
                            ga = term if ga is None else ga + term
                    A[j] = aj + ga
                B[j] = B[j] + aj * gb
                W[j] = new_w
        return records, phases

    def _flat(self, W, B, A) -> tuple:
        flat: list = []
        for j in range(self.m):
            flat += list(W[j])
            flat.append(B[j])
        if self.a_fixed is None:
            flat += A
        return tuple(flat)


def run_gd(
    problem: Problem,
    theta0: Sequence[object],
    steps: int,
    *,
    backend: str | Backend = "arb",
    prec: int = 128,
    max_prec: int = 1024,
    schedule: RecordSchedule | None = None,
    progress: Progress | None = None,
) -> Trajectory:
    """Run ``steps`` certified GD steps from exact ``theta0``, escalating precision.

    Returns a :class:`Trajectory` whose status is ``complete`` (every step's
    pattern certified) or ``inconclusive`` (with the failing step and every
    precision tried).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise InvalidArgument("steps", steps, "must be a non-negative integer")
    theta = problem.network.check_params(theta0)
    be = get_backend(backend, prec) if isinstance(backend, str) else backend.with_prec(prec)
    check_prec(max_prec)
    keep = (schedule or RecordSchedule()).steps(steps)
    tried: list[int] = []
    p = be.prec
    while True:
        be = be.with_prec(p)
        tried.append(p)
        traj = Trajectory(problem, theta, be, steps, precisions_tried=tuple(tried))
        try:
            with be.working_precision():
                traj.records, traj.phases = _Kernel(problem, be).run(theta, steps, keep, progress)
            traj.status = COMPLETE
            return traj
        except Ambiguous as amb:
            if 2 * p > max_prec:
                traj.status = INCONCLUSIVE
                traj.failed_step = amb.step
                traj.reason = f"{amb.what} undecided at step {amb.step} at every precision tried {tried} bits"
                return traj
            p *= 2
