"""Named quantities of paper A that a claim file may use (besides ``w1, b1, w2, b2``, ``t``, ``eta``, ``L``).

Each maps the parameter enclosures at one step to an enclosure; a geometric case split that is not
certified raises :class:`~verify.errors.UndecidableError` (the claim is then inconclusive there).
"""

from __future__ import annotations

from collections.abc import Mapping

from proofs.paper_a.geometry import GAMMA_STAR, boundary, denominator, numerator, robustness_margin
from verify.arith import Enclosure
from verify.model.network import Problem
from verify.papers import Quantity


def _margin(th: Mapping[str, Enclosure], problem: Problem) -> Enclosure:
    return robustness_margin(problem, [th[n] for n in problem.network.param_names()])


def _gamma_star(th: Mapping[str, Enclosure], problem: Problem) -> Enclosure:
    return next(iter(th.values())) * 0 + GAMMA_STAR


QUANTITIES: dict[str, Quantity] = {q.name: q for q in (
    Quantity("margin", "robustness margin gamma(theta): distance from the data to the decision boundary", _margin,
             show=True),
    Quantity("gamma_star", "the optimal margin gamma* = 1", _gamma_star, expr="1"),
    Quantity("numerator", "b2 - b1", lambda th, p: numerator(th), expr="b2 - b1"),
    Quantity("denominator", "w1 - w2", lambda th, p: denominator(th), expr="w1 - w2"),
    Quantity("x_star", "boundary where both neurons are active: (b2 - b1)/(w1 - w2)", lambda th, p: boundary(th),
             expr="(b2 - b1)/(w1 - w2)"),
    Quantity("u", "w1 + b1 (y1 Phi(x1) in F)", lambda th, p: th["w1"] + th["b1"], expr="w1 + b1"),
    Quantity("v", "b2 - w2 (y2 Phi(x2) in F)", lambda th, p: th["b2"] - th["w2"], expr="b2 - w2"),
    Quantity("c1", "w1 - b1 (conserved in F)", lambda th, p: th["w1"] - th["b1"], expr="w1 - b1"),
    Quantity("c2", "w2 + b2 (conserved in F)", lambda th, p: th["w2"] + th["b2"], expr="w2 + b2"),
)}
