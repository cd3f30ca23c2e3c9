"""Paper B's training runs: certified GD on ``N(x) = sum_j v_j relu(<w_j, x> + b_j)``, all of
``w, b, v`` trained, from small random exact-rational inits, on one clustered training set.

The network is the engine's :class:`~verify.model.network.Network` with a *trained* output layer
(``output_weights=None``: the flat parameters are ``(w_1, b_1, ..., w_m, b_m, a_1, ..., a_m)``,
``a_j`` being the paper's ``v_j``); every neuron carries its bias ``b_j``. GD is the engine's
certified step (:func:`verify.dynamics.engines.certified_gd` for one run; the claims' runner stacks
inits through :mod:`verify.dynamics.sweep`): float64 midpoint-radius matrices on the BLAS, a run it
cannot certify (an undecided sign, an overflow, too wide an interval) handed on to Arb; a run that
Arb cannot certify either ends *inconclusive at the step it stops*, with the reason.

What is ours (not fixed by the text), each a setting:

* the init: ``w_j ~ N(0, s^2/d I)``, ``b_j ~ N(0, s^2/d)``, ``v_j ~ N(0, s^2)`` with ``s = init_scale``,
  each value rounded to the dyadic grid ``2^-INIT_BITS`` (so it is an exact double and an exact
  rational), drawn from ``numpy.random.default_rng([seed, width, index])``;
* the step: the problem's step size is ``eta / d`` (``eta`` the engine setting), because the
  curvature of the loss scales with ``||x||^2 ~ d``; gradient flow is what the text analyses;
* the loss threshold of Theorem 2.1 for the *mean* loss ``L = (1/n) sum_i l(y_i N(x_i))``: ``1/n``
  for the exponential loss, ``log(2)/n`` for the logistic loss, entered as the rational lower bound
  ``LOG2_LOW / n`` (so "below the threshold" is certified conservatively).

Invariant: every init is exact; every trajectory step reported is certified (its enclosures contain
the exact iterate); :func:`threshold_step` is the first *recorded* step whose loss enclosure lies
entirely below the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from verify.dynamics.trajectory import Trajectory
from verify.model.network import Dataset, Network, Problem

INIT_BITS = 24
LOG2_LOW = Fraction(6931471805, 10**10)  # < log 2 = 0.69314718055994...


def threshold(loss: str, n: int) -> Fraction:
    """The loss level below which Theorem 2.1 applies (ours: see the module doc), as an exact rational
    no larger than the true level."""
    return Fraction(1, n) if loss == "exponential" else LOG2_LOW / n


def dataset_of(sample: Any) -> Dataset:
    """A :class:`ClusterSample` as the engine's exact dataset (its float64 copy is exact)."""
    return Dataset.from_arrays(np.asarray(sample.Xf, dtype=np.float64), np.asarray(sample.y))


def training_problem(data: Dataset, width: int, eta: Fraction, loss: str) -> Problem:
    """GD on ``data`` for a width-``width`` network with trained output layer, step ``eta / d``."""
    return Problem(Network(width, data.d, None, loss), data, Fraction(eta) / data.d)


def small_init(network: Network, scale: Fraction, seed: int, index: int) -> tuple[Fraction, ...]:
    """A small random exact init (see the module doc), flat in the order of ``param_names``."""
    m, d = network.width, network.dim
    rng = np.random.default_rng([seed, m, index])
    s = float(scale)
    W = rng.normal(0.0, s / np.sqrt(d), size=(m, d))
    b = rng.normal(0.0, s / np.sqrt(d), size=m)
    v = rng.normal(0.0, s, size=m)
    grid = float(2**INIT_BITS)
    flat = np.concatenate([np.hstack([W, b[:, None]]).ravel(), v])
    flat = np.round(flat * grid) / grid  # exact doubles on the dyadic grid
    return tuple(Fraction(float(x)) for x in flat)


def loss_upper(traj: Trajectory, record: Any) -> Fraction:
    """An exact rational upper bound of the loss enclosure of ``record``."""
    return Fraction(traj.backend.upper(record.loss))


def threshold_step(traj: Trajectory, level: Fraction | None = None) -> int | None:
    """The first recorded step whose loss is certified below ``level`` (default: the run's
    :func:`threshold`), or None."""
    if level is None:
        level = threshold(traj.problem.network.loss, traj.problem.data.n)
    for rec in traj.records:
        if loss_upper(traj, rec) < level:
            return rec.t
    return None


@dataclass(frozen=True)
class RunSummary:
    """One training run, as JSON-ready exact facts."""

    width: int
    seed: int
    status: str
    reason: str | None
    failed_step: int | None
    engine: str | None
    steps: int
    threshold_step: int | None
    final_loss_upper: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def summarize(traj: Trajectory, width: int, seed: int) -> RunSummary:
    """The facts of ``traj``: certified or where it stopped and why, and when the loss went below
    the threshold."""
    last = traj.records[-1] if traj.records else None
    return RunSummary(width, seed, traj.status, traj.reason, traj.failed_step, traj.engine or traj.backend.name,
                      traj.steps_requested, threshold_step(traj),
                      str(loss_upper(traj, last)) if last is not None else None)


def init_stack(network: Network, scale: Fraction, seed: int, count: int) -> list[tuple[Fraction, ...]]:
    """Inits ``0 .. count - 1`` of :func:`small_init`."""
    return [small_init(network, scale, seed, i) for i in range(count)]


def widths_ok(widths: Sequence[int]) -> bool:
    return all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths)


# --- the training runs of one setting, shared by every claim (computed once per process) ----------
@dataclass
class TrainedRun:
    """One certified training run: its width, init index and trajectory (a certified prefix when it
    stopped), with its summary."""

    width: int
    seed: int
    trajectory: Trajectory
    summary: RunSummary

    @property
    def reached(self) -> int | None:
        """The first recorded step with the loss certified below the threshold, or None."""
        return self.summary.threshold_step


def run_width(data: Dataset, width: int, eta: Fraction, loss: str, scale: Fraction, seed: int, count: int,
              steps: int, per_decade: int = 20, escalate: bool = False, prec: int = 128,
              max_prec: int = 1024) -> list[TrainedRun]:
    """``count`` inits of one width, stacked on the float64 matrix engine
    (:func:`verify.dynamics.wide.run_matrix`); a lane it cannot certify keeps its certified prefix and
    says at which step and why it stopped, or (``escalate``) is run again from its exact init on Arb
    (:func:`verify.dynamics.engines.certified_gd`)."""
    from verify.arith.arrays import get_arithmetic
    from verify.dynamics.engines import DEFAULT_WIDTH_LIMIT, MATRIX_ENGINE, _arb_reader, certified_gd, float64_refusal
    from verify.dynamics.schedule import RecordSchedule
    from verify.dynamics.wide import run_matrix

    problem = training_problem(data, width, eta, loss)
    inits = init_stack(problem.network, scale, seed, count)
    schedule = RecordSchedule(stride=max(1, steps // 100), per_decade=per_decade)
    trajs: list[Trajectory] = []
    if float64_refusal() is None:
        run = run_matrix(problem, inits, steps, get_arithmetic("f64"), schedule=schedule,
                         width_limit=DEFAULT_WIDTH_LIMIT)
        trajs = [run.trajectory(k, backend=_arb_reader(), engine=MATRIX_ENGINE, precisions_tried=(53,))
                 for k in range(len(inits))]
    else:
        escalate = True
        trajs = [None] * len(inits)
    out = []
    for k, traj in enumerate(trajs):
        if escalate and (traj is None or not traj.certified):
            traj = certified_gd(problem, inits[k], steps, engine="arb", prec=prec, max_prec=max_prec,
                                schedule=schedule)
        out.append(TrainedRun(width, k, traj, summarize(traj, width, k)))
    return out
