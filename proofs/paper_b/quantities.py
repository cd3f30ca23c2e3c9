"""Named quantities of paper B a claim file may use (besides the parameters, ``t``, ``eta``, ``L``).

Each maps the parameter enclosures at one step (by name: ``w{j}_{i}``, ``b{j}``, ``a{j}`` with
``a_j`` the paper's ``v_j``) to an enclosure; they are sums and products of enclosures, so they
contain the exact value at the exact iterate.
"""

from __future__ import annotations

from collections.abc import Mapping

from verify.arith import Enclosure
from verify.model.network import Problem
from verify.papers import Quantity


def _norm2(th: Mapping[str, Enclosure], problem: Problem) -> Enclosure:
    total = None
    for name in problem.network.param_names():
        sq = th[name] * th[name]
        total = sq if total is None else total + sq
    return total


def _outputs(th: Mapping[str, Enclosure], problem: Problem) -> list[Enclosure]:
    """y_i N(x_i) for every training point (relu of enclosures: sound whatever the sign)."""
    net, data = problem.network, problem.data
    m, d = net.width, net.dim
    qs = []
    for i, x in enumerate(data.X):
        out = None
        for j in range(1, m + 1):
            z = th[f"b{j}"]
            for c in range(d):
                z = z + th[f"w{j}_{c + 1}" if d > 1 else f"w{j}"] * x[c]
            term = th[f"a{j}"] * z.relu()
            out = term if out is None else out + term
        qs.append(out * data.y[i])
    return qs


def _margin_normalized(th: Mapping[str, Enclosure], problem: Problem) -> Enclosure:
    """min_i y_i N(x_i) / ||theta||^2 (the min of enclosures encloses the min)."""
    qs = _outputs(th, problem)
    low = qs[0]
    for q in qs[1:]:
        low = low.min(q)
    return low / _norm2(th, problem)


def _balance_max(th: Mapping[str, Enclosure], problem: Problem) -> Enclosure:
    """max_j |v_j^2 - ||w_j||^2 - b_j^2| (the max of enclosures encloses the max)."""
    net = problem.network
    best = None
    for j in range(1, net.width + 1):
        c = th[f"a{j}"] * th[f"a{j}"] - th[f"b{j}"] * th[f"b{j}"]
        for k in range(1, net.dim + 1):
            w = th[f"w{j}_{k}" if net.dim > 1 else f"w{j}"]
            c = c - w * w
        c = abs(c)
        best = c if best is None else best.max(c)
    return best


QUANTITIES: dict[str, Quantity] = {q.name: q for q in (
    Quantity("norm2", "||theta||^2 (w, b and v)", _norm2),
    Quantity("margin_normalized", "min_i y_i N(x_i) / ||theta||^2 (Theorem 2.1's normalized margin)",
             _margin_normalized, show=True),
    Quantity("balance_max", "max_j |v_j^2 - ||w_j||^2 - b_j^2|: 0 at a KKT point, conserved by gradient flow",
             _balance_max),
)}
