"""An independent point computation of GD, for containment tests.

Deliberately written apart from the engine: plain mpmath ``mp`` numbers at a
much higher precision, the textbook gradient of the mean loss, and its own
activation test, one scalar at a time (no arrays, no matrix form, no Arb). Its value
differs from the exact iterate by far less than the engine's enclosure widths, so
"enclosure contains reference" is a real check. It reads the data point by point
(``Dataset.point``), so it serves the compact wide datasets too; its cost is
``steps x m x n x d`` multiplications at ``prec`` bits.

A diverging run (a margin ``y_i N(x_i)`` below ``-OVERFLOW_MARGIN``: a loss above ``e^(2^16)``, far
beyond the engines' divergence bound ``2**100``) raises :class:`ReferenceOverflow` instead of
computing exponentials of exponentials (which exhaust memory); tests read it as "diverged".
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
from mpmath.libmp import to_rational

OVERFLOW_MARGIN = 2**16
MAX_RESULT_BITS = 2**16


class ReferenceOverflow(ArithmeticError):
    """The reference run diverged: a loss term above ``e^OVERFLOW_MARGIN`` (or a parameter beyond
    ``2**MAX_RESULT_BITS``) at ``step``."""

    def __init__(self, step: int) -> None:
        super().__init__(f"the reference run diverges at step {step}")
        self.step = step


def _q(ctx, v) -> object:
    q = Fraction(v)
    return ctx.mpf(q.numerator) / q.denominator


def reference_gd(problem, theta0, steps: int, prec: int = 600) -> list[Fraction]:
    ctx = mpmath.MPContext()
    ctx.prec = prec
    net, data = problem.network, problem.data
    m, d, n = net.width, net.dim, data.n
    th = [_q(ctx, v) for v in theta0]
    eta = _q(ctx, problem.eta)
    X = [[_q(ctx, v) for v in data.point(i)] for i in range(n)]
    y = [int(v) for v in data.y]

    def unpack(th):
        W = [th[j * (d + 1): j * (d + 1) + d] for j in range(m)]
        B = [th[j * (d + 1) + d] for j in range(m)]
        A = [_q(ctx, a) for a in net.output_weights] if net.output_weights else th[m * (d + 1):]
        return W, B, A

    for t in range(steps):
        W, B, A = unpack(th)
        Z = [[B[j] + ctx.fsum(W[j][k] * X[i][k] for k in range(d)) for i in range(n)] for j in range(m)]
        N = [ctx.fsum(A[j] * max(Z[j][i], 0) for j in range(m)) for i in range(n)]
        if any(y[i] * N[i] < -OVERFLOW_MARGIN for i in range(n)):
            raise ReferenceOverflow(t)
        if net.loss == "exponential":
            g = [-ctx.exp(-y[i] * N[i]) * y[i] / n for i in range(n)]
        else:
            g = [-y[i] / (1 + ctx.exp(y[i] * N[i])) / n for i in range(n)]
        grad = []
        for j in range(m):
            act = [Z[j][i] > 0 for i in range(n)]
            grad += [A[j] * ctx.fsum(g[i] * X[i][k] for i in range(n) if act[i]) for k in range(d)]
            grad.append(A[j] * ctx.fsum(g[i] for i in range(n) if act[i]))
        if not net.output_weights:
            grad += [ctx.fsum(g[i] * max(Z[j][i], 0) for i in range(n)) for j in range(m)]
        th = [v - eta * gk for v, gk in zip(th, grad, strict=True)]
    if any(v != 0 and abs(ctx.mag(v)) > MAX_RESULT_BITS for v in th):
        raise ReferenceOverflow(steps)
    return [Fraction(*to_rational(ctx.mpf(v)._mpf_)) for v in th]


def reference_patterns(problem, theta0, steps: int, prec: int = 600) -> list[str]:
    """The activation pattern (neuron-major bits, ``z > 0``) of every step ``0 .. steps``."""
    out = []
    theta = list(theta0)
    for t in range(steps + 1):
        if t:
            theta = reference_gd(problem, theta, 1, prec)
        out.append(_pattern(problem, theta, prec))
    return out


def _pattern(problem, theta, prec) -> str:
    ctx = mpmath.MPContext()
    ctx.prec = prec
    net, data = problem.network, problem.data
    d = net.dim
    bits = []
    for j in range(net.width):
        w = [_q(ctx, v) for v in theta[j * (d + 1): j * (d + 1) + d]]
        b = _q(ctx, theta[j * (d + 1) + d])
        for i in range(data.n):
            z = b + ctx.fsum(wk * _q(ctx, xk) for wk, xk in zip(w, data.point(i), strict=True))
            bits.append("1" if z > 0 else "0")
    return "".join(bits)
