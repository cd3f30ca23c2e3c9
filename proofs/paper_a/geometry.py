"""Paper A's boundary quantities for ``theta = (w1, b1, w2, b2)``, output weights (+1, -1).

Where both neurons are active the boundary is ``x* = (b2 - b1) / (w1 - w2)``;
inside the final phase the margin deficit is ``gamma* - gamma = |x*|`` with
``gamma* = 1``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from verify.arith import Enclosure
from verify.geometry.line import Neuron, decision_set, margin
from verify.model.network import Problem

GAMMA_STAR = 1
THETA_STAR = ("0.5", "0.5", "-0.5", "0.5")


def neurons_of(problem: Problem, theta: Sequence[Enclosure]) -> list[Neuron]:
    """``(w_j, b_j, a_j)`` per neuron for a 1-D network (fixed or trained output)."""
    net = problem.network
    if net.dim != 1:
        raise ValueError("line geometry needs input dimension 1")
    out = []
    for j in range(net.width):
        w, b = theta[net.neuron_slice(j)]
        idx = net.output_index(j)
        a = theta[idx] if idx is not None else w * 0 + net.output_weights[j]
        out.append((w, b, a))
    return out


def numerator(th: Mapping[str, Enclosure]) -> Enclosure:
    """``b2 - b1``."""
    return th["b2"] - th["b1"]


def denominator(th: Mapping[str, Enclosure]) -> Enclosure:
    """``w1 - w2``."""
    return th["w1"] - th["w2"]


def boundary(th: Mapping[str, Enclosure]) -> Enclosure:
    """``x* = (b2 - b1) / (w1 - w2)``."""
    return numerator(th) / denominator(th)


def robustness_margin(problem: Problem, theta: Sequence[Enclosure]) -> Enclosure:
    """``gamma(theta)`` for the problem's data."""
    xs = [row[0] for row in problem.data.X]
    return margin(neurons_of(problem, theta), xs, problem.data.y)


def zero_set(problem: Problem, theta: Sequence[Enclosure]):
    """Components of ``{Phi = 0}`` (see :func:`verify.geometry.line.decision_set`)."""
    return decision_set(neurons_of(problem, theta))
