"""Claims of the verified papers as checkable lemmas.

``PAPERS`` maps a paper key to an object with ``title``, ``CLAIMS`` and ``MUTATIONS`` (dicts of
:class:`verify.checks.claim.Claim` by id). It is built lazily, so ``python -m
proofs.paper_a.derivations`` does not import the catalog first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verify.checks.claim import Claim


@dataclass(frozen=True)
class Paper:
    """One paper's catalog: true claims (dependency order) and deliberately false variants."""

    key: str
    title: str
    CLAIMS: dict[str, Claim]
    MUTATIONS: dict[str, Claim]


def _papers() -> dict[str, Paper]:
    from proofs.paper_a import catalog

    return {"paper_a": Paper("paper_a", catalog.TITLE, catalog.CLAIMS, catalog.MUTATIONS)}


def find_claim(claim_id: str) -> Claim:
    """The claim or mutation with this id, in any paper (a picklable lookup for worker processes)."""
    papers = globals().get("PAPERS") or __getattr__("PAPERS")
    for paper in papers.values():
        for registry in (paper.CLAIMS, paper.MUTATIONS):
            if claim_id in registry:
                return registry[claim_id]
    raise KeyError(claim_id)


def __getattr__(name: str) -> Any:
    if name == "PAPERS":
        papers = _papers()
        globals()["PAPERS"] = papers
        return papers
    raise AttributeError(f"module 'proofs' has no attribute {name!r}")


__all__ = ["PAPERS", "Paper", "find_claim"]
