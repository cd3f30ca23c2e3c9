"""The batch backend's step for networks too large to unroll: the same step, as loops.

:mod:`verify.dynamics.batch_codegen` unrolls a network's step into one straight-line body, which
numba cannot compile in reasonable time beyond a few hundred terms. These kernels compute the
same step with loops over neurons ``j``, points ``i`` and inputs ``k`` outside, and one short
loop over the lanes of a block innermost (which the compiler vectorizes), so one compilation
serves every shape. They read the shape, the rows and the constants from ``C``, by name:
``C[H_M]``, ``C[H_X_ROWS]``, ... is :meth:`~verify.dynamics.batch_layout.Layout.header` (``keep_z``
set, so every ``z_ji`` has rows), ``C[C_LOSS]`` the loss (1 for logistic), and from ``C[C_DATA]``
on the data ``x_ik`` (lower ends, then upper ends, ``n * d`` each), the labels ``y_i``, the fixed
output weights (lower, upper; ``m`` each) and ``eta / n`` (lower, upper). The mathematics is that
of :mod:`verify.dynamics.batch`, with the arithmetic of :mod:`verify.arith.f64`; ``start`` /
``advance`` have the signature and results of the generated kernels. The step factors ``G_i``
overwrite the exponentials in the ``e``/``span`` rows once read, and the outputs ``N(x_i)``
accumulate there before becoming the next arguments.

Kept beside the matrix engine (:mod:`verify.dynamics.wide`) because it is faster for many lanes of
small networks (at least :data:`~verify.dynamics.engines.LOOP_MIN_LANES` lanes):
``benchmarks/bench_wide.py`` section (f), per lane-step with 512 lanes, one BLAS thread:
m = 3, d = 2, n = 30: 9.0 us against 19.3 us on the matrix engine; m = 4, d = 8, n = 32: 23 us
against 51 us. From m = 8, d = 16, n = 32 (4,352 terms) on the matrix engine is faster (83 us
against 69 us), and for a single lane always.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from verify.arith.f64 import add, add_if, exp_span, logistic_weight, mul, mul_pos, select, up
from verify.dynamics.batch_layout import (  # noqa: F401 - the header fields, also emitted into kernel modules
    AMBIGUOUS,
    BLOCK,
    COMPLETE,
    H_ALIVE,
    H_CHANGED,
    H_D,
    H_E0,
    H_F_ROWS,
    H_FAIL_AT,
    H_FROZEN0,
    H_M,
    H_N,
    H_P,
    H_SIGN00,
    H_SPAN0,
    H_STATUS,
    H_TRAINS,
    H_X_ROWS,
    H_Z0,
    HEADER_FIELDS,
    NONFINITE,
    TOO_WIDE,
)

C_LOSS = len(HEADER_FIELDS)  # after Layout.header(): 1.0 for the logistic loss
C_DATA = C_LOSS + 1  # then the data, labels, output weights and eta / n (see the module doc)


@njit(nogil=True)
def start(X, F, C, limit, changes):  # pragma: no cover - compiled
    return _step(X, F, C, limit, changes, True)


@njit(nogil=True)
def advance(X, F, C, limit, changes):  # pragma: no cover - compiled
    return _step(X, F, C, limit, changes, False)


@njit(nogil=True)
def _step(X, F, C, limit, changes, first):  # pragma: no cover - compiled
    x_rows, f_rows = int(C[H_X_ROWS]), int(C[H_F_ROWS])
    code = np.empty(BLOCK, np.int64)
    fidx = np.empty(BLOCK)
    chg = np.empty(BLOCK, np.bool_)
    on = np.empty(BLOCK, np.bool_)
    g = np.empty((2, BLOCK))
    n_changed, n_stopped = 0, 0
    for block in range(X.shape[0] // (x_rows * BLOCK)):
        ox, of = block * x_rows * BLOCK, block * f_rows * BLOCK
        code[:] = COMPLETE
        fidx[:] = -1.0
        chg[:] = first
        if not first:
            _finish(X, F, C, limit, ox, of, code, on, g)
        _forward(X, F, C, ox, of, first, code, fidx, chg)
        alive, changed, status, fail_at = int(C[H_ALIVE]), int(C[H_CHANGED]), int(C[H_STATUS]), int(C[H_FAIL_AT])
        block_changed = 0
        for lane in range(BLOCK):
            live = F[of + alive * BLOCK + lane] != 0
            stop = live & (code[lane] != COMPLETE)
            F[of + status * BLOCK + lane] = select(stop, code[lane], F[of + status * BLOCK + lane])
            live = live & (code[lane] == COMPLETE)
            F[of + alive * BLOCK + lane] = live
            X[ox + fail_at * BLOCK + lane] = fidx[lane]
            c = chg[lane] & live
            F[of + changed * BLOCK + lane] = c
            block_changed += c
            n_stopped += stop
        changes[block] = block_changed
        n_changed += block_changed
    return n_changed, n_stopped


@njit(nogil=True)
def _finish(X, F, C, limit, ox, of, code, on, g):  # pragma: no cover - compiled
    """Step factors ``G_i`` (in the e/span rows), the update of every parameter, the width check."""
    m, n, d, trains, p = int(C[H_M]), int(C[H_N]), int(C[H_D]), C[H_TRAINS] != 0, int(C[H_P])
    e0, span0, z0, frozen0 = int(C[H_E0]), int(C[H_SPAN0]), int(C[H_Z0]), int(C[H_FROZEN0])
    logistic = C[C_LOSS] != 0
    xs = C_DATA + 2 * n * d
    ys, a0, st = xs, xs + n, xs + n + 2 * m
    B = BLOCK
    for i in range(n):
        er, sr = ox + (e0 + i) * B, ox + (span0 + i) * B
        for lane in range(B):
            el, eh = exp_span(X[er + lane], X[sr + lane])
            code[lane] = select((code[lane] == COMPLETE) & (not eh < np.inf), NONFINITE, code[lane])
            X[er + lane], X[sr + lane] = el, eh
        if logistic:
            for lane in range(B):
                X[er + lane], X[sr + lane] = logistic_weight(X[er + lane], X[sr + lane])
        for lane in range(B):
            X[er + lane], X[sr + lane] = mul_pos(X[er + lane], X[sr + lane], C[st], C[st + 1])
    gl, gh = g[0], g[1]
    for j in range(m):
        on[:] = False
        for i in range(n):
            ar = of + (j * n + i) * B
            for lane in range(B):
                on[lane] = on[lane] | (F[ar + lane] != 0)
        fr = of + (frozen0 + j) * B
        for lane in range(B):
            F[fr + lane] = F[fr + lane] & (not on[lane])
        ra = m * (d + 1) + j  # trained a_j's parameter index
        for k in range(d + 1):  # k < d: w_jk (coefficient y_i x_ik); k == d: b_j (coefficient y_i)
            gl[:] = 0.0
            gh[:] = 0.0
            for i in range(n):
                cl = C[ys + i] * (C[C_DATA + i * d + k] if k < d else 1.0)
                ch = C[ys + i] * (C[C_DATA + n * d + i * d + k] if k < d else 1.0)
                cl, ch = min(cl, ch), max(cl, ch)  # y_i = +-1: exact
                ar, er, sr = of + (j * n + i) * B, ox + (e0 + i) * B, ox + (span0 + i) * B
                for lane in range(B):
                    tl, th = mul(cl, ch, X[er + lane], X[sr + lane])
                    gl[lane], gh[lane] = add_if(F[ar + lane] != 0, gl[lane], gh[lane], tl, th)
            q = j * (d + 1) + k
            ql, qh = ox + q * B, ox + (p + q) * B
            for lane in range(B):
                al = select(trains, X[ox + ra * B + lane], C[a0 + j])
                ah = select(trains, X[ox + (p + ra) * B + lane], C[a0 + m + j])
                ul, uh = mul(al, ah, gl[lane], gh[lane])
                X[ql + lane], X[qh + lane] = add_if(on[lane], X[ql + lane], X[qh + lane], ul, uh)
        if trains:  # after w_j and b_j, whose update used the old a_j
            gl[:] = 0.0
            gh[:] = 0.0
            for i in range(n):
                ar, er, sr = of + (j * n + i) * B, ox + (e0 + i) * B, ox + (span0 + i) * B
                zl, zh = ox + (z0 + 2 * (j * n + i)) * B, ox + (z0 + 2 * (j * n + i) + 1) * B
                for lane in range(B):
                    tl, th = mul(X[er + lane], X[sr + lane], X[zl + lane], X[zh + lane])
                    tl, th = select(C[ys + i] > 0, tl, -th), select(C[ys + i] > 0, th, -tl)
                    gl[lane], gh[lane] = add_if(F[ar + lane] != 0, gl[lane], gh[lane], tl, th)
            ql, qh = ox + ra * B, ox + (p + ra) * B
            for lane in range(B):
                X[ql + lane], X[qh + lane] = add_if(on[lane], X[ql + lane], X[qh + lane], gl[lane], gh[lane])
    on[:] = False
    for q in range(p):
        ql, qh = ox + q * B, ox + (p + q) * B
        for lane in range(B):
            on[lane] = on[lane] | (not X[qh + lane] - X[ql + lane] <= limit)  # also true for nan and inf
    for lane in range(B):
        code[lane] = select((code[lane] == COMPLETE) & on[lane], TOO_WIDE, code[lane])


@njit(nogil=True)
def _forward(X, F, C, ox, of, first, code, fidx, chg):  # pragma: no cover - compiled
    """Pre-activations (z rows), the certified pattern, the first undecided sign, the next arguments."""
    m, n, d, trains, p = int(C[H_M]), int(C[H_N]), int(C[H_D]), C[H_TRAINS] != 0, int(C[H_P])
    e0, span0, z0 = int(C[H_E0]), int(C[H_SPAN0]), int(C[H_Z0])
    sign00, frozen0 = int(C[H_SIGN00]), int(C[H_FROZEN0])
    xs = C_DATA + 2 * n * d
    ys, a0 = xs, xs + n
    B = BLOCK
    for j in range(m):
        for i in range(n):
            zl, zh = ox + (z0 + 2 * (j * n + i)) * B, ox + (z0 + 2 * (j * n + i) + 1) * B
            b = j * (d + 1) + d
            for lane in range(B):
                X[zl + lane], X[zh + lane] = X[ox + b * B + lane], X[ox + (p + b) * B + lane]
            for k in range(d):
                cl, ch = C[C_DATA + i * d + k], C[C_DATA + n * d + i * d + k]
                w = j * (d + 1) + k
                for lane in range(B):
                    tl, th = mul(cl, ch, X[ox + w * B + lane], X[ox + (p + w) * B + lane])
                    X[zl + lane], X[zh + lane] = add(X[zl + lane], X[zh + lane], tl, th)
            ar, sr, fr = of + (j * n + i) * B, of + (sign00 + j * n + i) * B, of + (frozen0 + j) * B
            for lane in range(B):
                lo, hi = X[zl + lane], X[zh + lane]
                frozen = F[fr + lane] != 0
                a = select(frozen, F[sr + lane] > 0, lo > 0.0)
                undecided = (not frozen) & (not (((lo > 0.0) & (hi < np.inf)) | ((hi <= 0.0) & (lo > -np.inf))))
                chg[lane] = chg[lane] | (a != (F[ar + lane] != 0))
                F[ar + lane] = a
                hit = undecided & (code[lane] == COMPLETE)
                code[lane] = select(hit, AMBIGUOUS, code[lane])
                fidx[lane] = select(hit, float(j * n + i), fidx[lane])
    for i in range(n):
        er, sr = ox + (e0 + i) * B, ox + (span0 + i) * B
        for lane in range(B):
            X[er + lane], X[sr + lane] = 0.0, 0.0
        for j in range(m):
            zl, zh = ox + (z0 + 2 * (j * n + i)) * B, ox + (z0 + 2 * (j * n + i) + 1) * B
            ar, ra = of + (j * n + i) * B, m * (d + 1) + j
            for lane in range(B):
                al = select(trains, X[ox + ra * B + lane], C[a0 + j])
                ah = select(trains, X[ox + (p + ra) * B + lane], C[a0 + m + j])
                tl, th = mul(al, ah, X[zl + lane], X[zh + lane])
                X[er + lane], X[sr + lane] = add_if(F[ar + lane] != 0, X[er + lane], X[sr + lane], tl, th)
        positive = C[ys + i] > 0
        for lane in range(B):  # -y_i N(x_i): lower end, and an upper bound of the width
            nl, nh = X[er + lane], X[sr + lane]
            X[er + lane], X[sr + lane] = select(positive, -nh, nl), up(nh - nl)
