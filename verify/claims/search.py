"""Search for a refuting init with Hypothesis, and shrink it to a simple one.

:func:`search_refutation` lets Hypothesis draw exact inits (:func:`verify.strategies.inits`), checks
the claim on each through the certified engine (the runner, one init at a time: the float64 lanes
escalated to Arb as usual), and asks :func:`hypothesis.find` for a refuted one -- Hypothesis then
*shrinks* it with its own machinery (towards small rationals such as ``(1/2, 0, -1/4, 0)``). The
shrunk init is run again from scratch through the runner and must come out ``refuted`` (it is
re-certified); only then is it reported, with the commands that replay it.

Invariant: a reported refutation is an outcome of the ordinary runner on the exact shrunk init; the
search only chooses which init to try. No database is written (``database=None``) and the search
is deterministic for a given ``seed``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from hypothesis import HealthCheck, Phase, find
from hypothesis import settings as hsettings
from hypothesis.errors import NoSuchExample, Unsatisfiable

from verify.claims.claim import Case, Claim
from verify.claims.result import Outcome, Status
from verify.claims.runner import check_claims
from verify.errors import UndecidableError
from verify.settings import CheckSettings
from verify.strategies import inits


@dataclass(frozen=True)
class SearchResult:
    """What a search found: the inits tried, the shrunk refuting init (or ``None``) and its re-certified outcome."""

    tried: int
    init: tuple[Fraction, ...] | None = None
    outcome: Outcome | None = None

    @property
    def refuted(self) -> bool:
        """A refutation was found and re-certified on the shrunk init."""
        return self.init is not None and self.outcome is not None and self.outcome.status is Status.REFUTED


def outcome_on(claim: Claim, settings: CheckSettings, theta0: tuple[Fraction, ...]) -> Outcome:
    """The claim on one exact init, through the runner (in this process)."""
    (result,) = check_claims([claim], settings, inits=[theta0], workers=1)
    return result.outcomes[0].outcome


def init_hypotheses(claim: Claim, settings: CheckSettings) -> Callable[[tuple[Fraction, ...]], bool] | None:
    """For a claim of the language, its ``when`` as a function of the init alone (no run needed), else ``None``."""
    from verify.claims.language.forms import Program

    program = getattr(claim.admits, "__self__", None)
    if not isinstance(program, Program):
        return None

    def admitted(theta0: tuple[Fraction, ...]) -> bool:
        try:
            return program.admits(Case(settings, tuple(theta0)))
        except UndecidableError:
            return True  # undecided here: let the run report it

    return admitted


def search_refutation(claim: Claim, settings: CheckSettings, examples: int, *, seed: int = 0,
                      scheme: str | None = None, strategy=None) -> SearchResult:
    """Up to ``examples`` Hypothesis-drawn inits (then shrinking); see the module docstring. For a claim of
    the language the inits are drawn inside its hypotheses (``when``, a function of the init)."""
    source = strategy if strategy is not None else inits(settings.paper, scheme, settings=settings)
    hypotheses = init_hypotheses(claim, settings)
    if hypotheses is not None:
        source = source.filter(hypotheses)
    seen: dict[tuple[Fraction, ...], Outcome] = {}

    def refutes(theta0: tuple[Fraction, ...]) -> bool:
        key = tuple(theta0)
        if key not in seen:
            seen[key] = outcome_on(claim, settings, key)
        return seen[key].status is Status.REFUTED

    config = hsettings(max_examples=examples, database=None, deadline=None, derandomize=False,
                       phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))
    try:
        found = find(source, refutes, settings=config, random=random.Random(seed))
    except (NoSuchExample, Unsatisfiable):
        return SearchResult(len(seen))
    found = tuple(found)
    return SearchResult(len(seen), found, outcome_on(claim, settings, found))  # re-certified from scratch
