"""The record of one certified GD run.

Invariant: for each recorded step ``t``, ``theta`` and ``loss`` are enclosures of
the exact real iterate ``theta_t`` and of ``L(theta_t)``, and ``pattern`` is the
activation pattern of ``theta_t``, certified. ``phases`` run-length encodes the
certified pattern of *every* step 0..steps_done, not only the recorded ones.
An inconclusive run keeps what its last (highest-precision) attempt certified:
records and phases of the steps before ``failed_step``. A diverged run
(:mod:`verify.dynamics.divergence`) stops at ``failed_step``, the step at which the loss or a
parameter was certified beyond the divergence bound, and always records its last certified step
(``failed_step`` when the loss crossed, the step before when a parameter did; a float64 batch lane,
whose forward pass at ``failed_step`` was certified before the crossing was seen, keeps
``failed_step`` in both cases).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from verify.arith import Backend, Enclosure
from verify.dynamics.records import PackedParams
from verify.model.network import Problem

COMPLETE = "complete"
INCONCLUSIVE = "inconclusive"
DIVERGED = "diverged"  # = verify.dynamics.divergence.DIVERGED


class StepRecord:
    """Enclosures of ``theta_t`` and ``L(theta_t)``, and the certified pattern.

    ``theta`` is given as a tuple of scalar enclosures (small networks) or as
    :class:`~verify.dynamics.records.PackedParams` (any network: compact arrays); :attr:`theta`
    always reads as the tuple, built on first use, and :attr:`params` as the packed arrays when
    there are some. ``pattern`` is a string, or a :class:`~verify.dynamics.pattern.PackedPattern`.
    """

    __slots__ = ("t", "_theta", "params", "loss", "pattern")

    def __init__(self, t: int, theta: tuple[Any, ...] | PackedParams, loss: Any, pattern: Any) -> None:
        self.t = t
        self.params = theta if isinstance(theta, PackedParams) else None
        self._theta = None if isinstance(theta, PackedParams) else tuple(theta)
        self.loss = loss
        self.pattern = pattern

    @property
    def theta(self) -> tuple[Any, ...]:
        if self._theta is None:
            self._theta = self.params.natives()
        return self._theta

    def __repr__(self) -> str:
        return f"StepRecord(t={self.t}, pattern={str(self.pattern)[:32]!r})"


@dataclass
class Trajectory:
    """A certified GD run from exact ``theta0``; see the module invariant."""

    problem: Problem
    theta0: tuple[Fraction, ...]
    backend: Backend
    steps_requested: int
    status: str = COMPLETE
    reason: str | None = None
    failed_step: int | None = None
    precisions_tried: tuple[int, ...] = ()
    engine: str | None = None  # what computed the enclosures, when not ``backend`` itself (e.g. "batch-f64")
    engine_reason: str | None = None  # why that engine was chosen (verify.dynamics.engines.choose)
    escalated: str | None = None  # why a float64 engine handed the run on, when it did
    records: list[StepRecord] = field(default_factory=list)
    phases: list[tuple[int, str]] = field(default_factory=list)

    @property
    def prec(self) -> int:
        """The precision the enclosures were computed at (53 for the float64 batch backend)."""
        return self.precisions_tried[-1] if self.precisions_tried else self.backend.prec

    @property
    def certified(self) -> bool:
        return self.status == COMPLETE

    @property
    def diverged(self) -> bool:
        """Certified divergent at :attr:`failed_step` (see :mod:`verify.dynamics.divergence`)."""
        return self.status == DIVERGED

    @property
    def final(self) -> StepRecord:
        return self.records[-1]

    @property
    def steps_done(self) -> int:
        """Last step whose pattern is certified (-1 when none is)."""
        if self.status == DIVERGED:  # its last certified step is recorded (failed_step or the one before)
            return self.records[-1].t if self.records else -1
        if self.failed_step is not None:
            return self.failed_step - 1
        return self.records[-1].t if self.records else -1

    def pattern_sequence(self) -> list[str]:
        """The certified patterns in the order visited (consecutive repeats merged)."""
        return [p for _, p in self.phases]

    def enclosures(self, record: StepRecord) -> dict[str, Enclosure]:
        """``theta_t`` by parameter name, as :class:`Enclosure` values."""
        names = self.problem.network.param_names()
        return {n: Enclosure(self.backend, v) for n, v in zip(names, record.theta, strict=True)}

    def loss(self, record: StepRecord) -> Enclosure:
        return Enclosure(self.backend, record.loss)

    def max_width(self, record: StepRecord | None = None) -> Fraction:
        """Widest parameter enclosure at ``record`` (default: the last); for packed records an upper
        bound read from the arrays (exact for float64 records), without building a scalar per parameter."""
        rec = record or self.final
        if rec.params is not None and rec._theta is None:
            Theta, A = rec.params.arrays()
            ar = rec.params.ar
            widths = [float(ar.width(Theta).max())] + ([float(ar.width(A).max())] if A is not None else [])
            return Fraction(max(widths))
        return max(self.backend.width(v) for v in rec.theta)

    def summary(self) -> dict[str, Any]:
        """JSON-ready facts about the run (no floats used for decisions)."""
        return {
            "status": self.status,
            "reason": self.reason,
            "failed_step": self.failed_step,
            "backend": self.engine or self.backend.name,
            "engine_reason": self.engine_reason,
            "escalated": self.escalated,
            "prec": self.prec,
            "precisions_tried": list(self.precisions_tried),
            "steps_requested": self.steps_requested,
            "steps_done": self.steps_done,
            "phases": [[t, p] for t, p in self.phases],
        }
