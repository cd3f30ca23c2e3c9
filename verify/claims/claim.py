"""A claim of a paper, as data plus a checker.

A :class:`Claim` states its id, words, source in the paper, hypotheses and the
claims it depends on. Its ``check`` maps a :class:`Case` (one exact init under
one :class:`~verify.settings.CheckSettings`) to an
:class:`~verify.claims.result.Outcome`. ``admits`` says whether the init lies
inside the hypotheses; outside them the runner still runs ``check`` when asked
(``check_claims(..., check_outside=True)``; tests assert it then refutes or stays
inconclusive).

Claims with ``scope == "once"`` do not depend on the init (e.g. the limit
network); the runner calls them once with ``case.theta0 = None``.

``lanes`` (optional) decides many inits at once on the float64 batch engine's records, without
building a trajectory per init; where it decides, its outcome equals ``check``'s
(:mod:`verify.claims.lanes`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING

from verify.claims.result import Outcome
from verify.dynamics.schedule import EVERY_STEP
from verify.dynamics.sweep import certified_run
from verify.dynamics.trajectory import Trajectory
from verify.model.network import Problem
from verify.settings import CheckSettings

if TYPE_CHECKING:
    from verify.claims.lanes import LaneView


@dataclass
class Case:
    """One exact init of one problem under one setting; the GD trajectory is computed once (on
    first use) and shared by every claim. ``problem`` defaults to the paper's problem."""

    settings: CheckSettings
    theta0: tuple[Fraction, ...] | None
    index: int = 0
    problem: Problem | None = None
    every_step: bool = False  # record every step (a claim that reads every step asks for it)

    def __post_init__(self) -> None:
        if self.problem is None:
            self.problem = self.settings.problem()

    @cached_property
    def trajectory(self) -> Trajectory:
        if self.theta0 is None:
            raise ValueError("a claim of scope 'once' has no trajectory")
        schedule = EVERY_STEP if self.every_step else None
        return certified_run(self.settings.sweep_spec(schedule, problem=self.problem), self.theta0)[1]

    def theta0_strings(self) -> tuple[str, ...]:
        return tuple(str(q) for q in self.theta0) if self.theta0 is not None else ()


def always(case: Case) -> bool:
    """The hypotheses of a claim without any: every init is admitted."""
    return True


@dataclass(frozen=True)
class Claim:
    """A checkable statement of a paper (or a deliberately false variant of one)."""

    id: str
    title: str
    statement: str
    source: str
    hypotheses: tuple[str, ...]
    check: Callable[[Case], Outcome]
    admits: Callable[[Case], bool] = always
    depends_on: tuple[str, ...] = ()
    mutation_of: str | None = None
    scope: str = "per-init"
    every_step: bool = False  # the checker reads every step: the runner records them all (stride 1)
    # decides lanes of a float64 batch at once, equal to ``check`` where it decides, or answers
    # ``verify.claims.lanes.OUTSIDE`` where ``admits`` certainly rejects the init (verify.claims.lanes)
    lanes: Callable[[LaneView], Sequence[Outcome | None]] | None = None
