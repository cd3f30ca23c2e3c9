"""Claim results as frozen, JSON-round-trippable records; report writers only read them.

A claim checked on one init has one :class:`Outcome`, with a closed set of
statuses:

* ``certified``    -- holds on the whole enclosure;
* ``refuted``      -- fails on the whole enclosure; ``counterexample`` holds exact values;
* ``inconclusive`` -- the enclosure straddles; ``prec`` says the precision tried;
* ``not-admitted`` -- the init lies outside the claim's hypotheses (not counted).

Invariant: every number in a record is an exact rational written as a string
(``"3/8"``, ``"-2"``) or an int, so that ``results.json`` is byte-identical across
runs with the same seed and config. Wall times live apart (``timings.json``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = 2


class Status(StrEnum):
    CERTIFIED = "certified"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"
    NOT_ADMITTED = "not-admitted"


@dataclass(frozen=True)
class Outcome:
    """One claim on one init."""

    status: Status
    detail: str
    prec: int | None = None
    counterexample: dict[str, str] | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Outcome:
        return cls(Status(d["status"]), d["detail"], d.get("prec"), d.get("counterexample"), d.get("data", {}))


@dataclass(frozen=True)
class InitOutcome:
    """An outcome with the exact init it was obtained on."""

    index: int
    theta0: tuple[str, ...]
    outcome: Outcome

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "theta0": list(self.theta0), "outcome": self.outcome.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InitOutcome:
        return cls(d["index"], tuple(d["theta0"]), Outcome.from_dict(d["outcome"]))


@dataclass(frozen=True)
class ClaimResult:
    """A claim checked over a set of inits: counts, every outcome, and the smallest refutation."""

    claim_id: str
    title: str
    statement: str
    source: str
    hypotheses: tuple[str, ...]
    depends_on: tuple[str, ...]
    mutation_of: str | None
    config: dict[str, Any]
    outcomes: tuple[InitOutcome, ...]
    counterexample: InitOutcome | None = None
    engines: dict[str, Any] | None = None  # which engines certified the inits, and why any were escalated

    @property
    def counts(self) -> dict[str, int]:
        c = {s.value: 0 for s in Status}
        for o in self.outcomes:
            c[o.outcome.status.value] += 1
        return c

    @property
    def diverged(self) -> int:
        """Admitted inits whose GD run was certified divergent (:mod:`verify.dynamics.divergence`),
        whatever the claim's outcome on them. A folded result (whose ``outcomes`` are examples only)
        gives the count its fold tallied under ``"diverged"``, when it tallied one."""
        tally = getattr(self, "tally", None)
        if tally is not None and "diverged" in tally:
            return int(tally["diverged"])
        return sum(1 for o in self.outcomes
                   if o.outcome.data.get("gd") == "diverged" and o.outcome.status is not Status.NOT_ADMITTED)

    @property
    def verdict(self) -> Status:
        """Refuted if any admitted init refutes; certified if all admitted certify."""
        c = self.counts
        if c[Status.REFUTED.value]:
            return Status.REFUTED
        if c[Status.INCONCLUSIVE.value] or not c[Status.CERTIFIED.value]:
            return Status.INCONCLUSIVE
        return Status.CERTIFIED

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "title": self.title,
            "statement": self.statement,
            "source": self.source,
            "hypotheses": list(self.hypotheses),
            "depends_on": list(self.depends_on),
            "mutation_of": self.mutation_of,
            "config": self.config,
            "counts": self.counts,
            "diverged": self.diverged,
            "verdict": self.verdict.value,
            "counterexample": self.counterexample.to_dict() if self.counterexample else None,
            "engines": self.engines,
            "outcomes": [o.to_dict() for o in self.outcomes],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClaimResult:
        cx = d.get("counterexample")
        return cls(
            d["claim_id"], d["title"], d["statement"], d["source"], tuple(d["hypotheses"]),
            tuple(d["depends_on"]), d.get("mutation_of"), d["config"],
            tuple(InitOutcome.from_dict(o) for o in d["outcomes"]),
            InitOutcome.from_dict(cx) if cx else None,
            d.get("engines"),
        )
