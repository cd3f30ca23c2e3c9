"""Paper A as a plug-in of :mod:`verify.papers` (registered as ``a`` through an entry point).

Smorodinsky, Gimpleson, Safran, *On the Rate of Convergence of GD in Non-linear Neural Networks:
An Adversarial Robustness Perspective* (arXiv 2603.02095). The problem, claims, named quantities,
the all-t tail certificate and the report's figures live in this package; the catalog and the
sympy derivations are imported lazily, so listing papers stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from verify.errors import InvalidArgument
from verify.papers import Paper, PaperRun, Quantity, RunContext, Section

TITLE = "On the Rate of Convergence of GD in Non-linear Neural Networks (Smorodinsky, Gimpleson, Safran)"
MUTATION_SCHEMES = ("he", "pytorch", "normal")


@dataclass(frozen=True)
class PaperAOptions:
    """Paper A's own settings: the size of the Figure 2/3 sweeps and of the rate plot (0 skips them)."""

    fig3_inits: int = 10_000
    rate_steps: int = 100_000

    def __post_init__(self) -> None:
        for name in ("fig3_inits", "rate_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidArgument(name, value, "must be an integer >= 0")


class PaperA(Paper):
    id = "a"
    title = TITLE
    citation = "arXiv 2603.02095 (March 2026)"
    options_type = PaperAOptions

    def problem(self, settings):
        from proofs.paper_a.problem import paper_a_problem

        return paper_a_problem(settings.eta, settings.loss)

    def claims(self):
        from proofs.paper_a.catalog import CLAIMS

        return CLAIMS

    def mutations(self):
        from proofs.paper_a.catalog import MUTATIONS

        return MUTATIONS

    def mutation_settings(self, settings):
        """Mutations the configured scheme cannot exercise are tried on these schemes too."""
        return [settings.with_(scheme=s) for s in MUTATION_SCHEMES if s != settings.scheme]

    def quantities(self) -> dict[str, Quantity]:
        from proofs.paper_a.quantities import QUANTITIES

        return QUANTITIES

    def init_strategies(self, problem):
        """Zero-bias inits in F and inits with w1(0) + w2(0) near 0 (proofs/paper_a/strategies.py)."""
        from proofs.paper_a.strategies import init_strategies

        return init_strategies(problem)

    def tail_certificate(self, trajectory):
        """Every step beyond a run that ends in F, from the closed-form bands (proofs/paper_a/tail.py)."""
        from proofs.paper_a.tail import tail_certificate

        return tail_certificate(trajectory)

    def run_extras(self, settings, ctx: RunContext) -> PaperRun:
        from proofs.paper_a.figures import run_figures

        return run_figures(settings, ctx)

    def sections(self, data: Mapping[str, Any]) -> list[Section]:
        from proofs.paper_a.figures import figure3_section

        return [s for s in (figure3_section(data),) if s is not None]

    def findings(self, data: Mapping[str, Any]) -> list[str]:
        from proofs.paper_a.figures import findings

        return findings(data)

    def engine_lines(self, data: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        schemes = data.get("figure3", {}).get("schemes", {})
        return [(f"Figure 3 ({scheme})", s.get("engines")) for scheme, s in schemes.items() if s.get("engines")]


PAPER = PaperA()
