"""The independent reference: N(x) = sum_j v_j relu(<w_j, x> + b_j) in pure ``Fraction`` arithmetic.

Deliberately naive (Python loops over ``Fraction``, no numpy, no shared code with
:mod:`proofs.paper_b.net`): it re-checks, on a sample, every sign the fast integer-matrix path
certifies (a flip, a classification, a pattern). Slow: O(m d) Fraction operations per point.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction


def relu(t: Fraction) -> Fraction:
    return t if t > 0 else Fraction(0)


def forward(W: Sequence[Sequence[Fraction]], b: Sequence[Fraction], v: Sequence[Fraction],
            x: Sequence[Fraction]) -> Fraction:
    """N(x) exactly.

    >>> forward([[Fraction(1), Fraction(-1)]], [Fraction(0)], [Fraction(2)], [Fraction(3), Fraction(1)])
    Fraction(4, 1)
    """
    total = Fraction(0)
    for wj, bj, vj in zip(W, b, v, strict=True):
        pre = bj
        for a, c in zip(wj, x, strict=True):
            pre += a * c
        total += vj * relu(pre)
    return total


def pattern(W: Sequence[Sequence[Fraction]], b: Sequence[Fraction], x: Sequence[Fraction]) -> tuple[int, ...]:
    """The activation pattern at x: +1 (pre-activation > 0), 0 (exactly 0), -1 (< 0) per neuron."""
    out = []
    for wj, bj in zip(W, b, strict=True):
        pre = bj + sum((a * c for a, c in zip(wj, x, strict=True)), Fraction(0))
        out.append((pre > 0) - (pre < 0))
    return tuple(out)


def net_forward(net, x: Sequence[Fraction]) -> Fraction:
    """N(x) for a :class:`proofs.paper_b.net.TwoLayerNet`, through its exact per-neuron parameters."""
    m = net.width
    return forward([net.w(j) for j in range(m)], [net.b(j) for j in range(m)], [net.v(j) for j in range(m)], x)
