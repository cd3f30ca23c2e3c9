"""An independent point computation of GD, for containment tests.

Deliberately written apart from the engine: plain mpmath ``mp`` numbers at a
much higher precision, the textbook gradient of the mean loss, and its own
activation test. Its value differs from the exact iterate by far less than the
engine's enclosure widths, so "enclosure contains reference" is a real check.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
from mpmath.libmp import to_rational


def reference_gd(problem, theta0, steps: int, prec: int = 600) -> list[Fraction]:
    ctx = mpmath.MPContext()
    ctx.prec = prec
    net, data = problem.network, problem.data
    m, d, n = net.width, net.dim, data.n
    th = [ctx.mpf(q.numerator) / q.denominator for q in theta0]
    eta = ctx.mpf(problem.eta.numerator) / problem.eta.denominator
    X = [[ctx.mpf(v.numerator) / v.denominator for v in row] for row in data.X]

    def unpack(th):
        W = [th[j * (d + 1): j * (d + 1) + d] for j in range(m)]
        B = [th[j * (d + 1) + d] for j in range(m)]
        A = [ctx.mpf(a.numerator) / a.denominator for a in net.output_weights] if net.output_weights else \
            th[m * (d + 1):]
        return W, B, A

    for _ in range(steps):
        W, B, A = unpack(th)
        Z = [[B[j] + ctx.fsum(W[j][k] * X[i][k] for k in range(d)) for i in range(n)] for j in range(m)]
        N = [ctx.fsum(A[j] * max(Z[j][i], 0) for j in range(m)) for i in range(n)]
        if net.loss == "exponential":
            g = [-ctx.exp(-data.y[i] * N[i]) * data.y[i] / n for i in range(n)]
        else:
            g = [-data.y[i] / (1 + ctx.exp(data.y[i] * N[i])) / n for i in range(n)]
        grad = []
        for j in range(m):
            act = [Z[j][i] > 0 for i in range(n)]
            grad += [A[j] * ctx.fsum(g[i] * X[i][k] for i in range(n) if act[i]) for k in range(d)]
            grad.append(A[j] * ctx.fsum(g[i] for i in range(n) if act[i]))
        if not net.output_weights:
            grad += [ctx.fsum(g[i] * max(Z[j][i], 0) for i in range(n)) for j in range(m)]
        th = [t - eta * gk for t, gk in zip(th, grad, strict=True)]
    return [Fraction(*to_rational(ctx.mpf(t)._mpf_)) for t in th]
