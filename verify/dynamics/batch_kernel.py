"""The batch backend's compiled step loop and its passes: exponentials, records, stopped lanes.

The step kernels (:mod:`verify.dynamics.batch_codegen`, :mod:`verify.dynamics.batch_loops`)
only touch the lane-blocked arrays ``X, F`` of :mod:`verify.dynamics.batch_layout`. What happens
to few lanes, or on few steps, is done here with plain loops. :mod:`~verify.dynamics.batch_codegen`
copies this source into every kernel module it compiles (:data:`PASSES`), which numba caches
under a name hashing all of it, so a cached pass never outlives a change to it or to its
arithmetic. Rows come from ``H``, the layout's :meth:`~verify.dynamics.batch_layout.Layout.header`,
read by field name (``H[H_STATUS]``).

* :func:`record` stores ``theta_t`` and ``L(theta_t) = (1/n) sum_i l(y_i N(x_i))`` of every
  running lane on a scheduled step, and appends those of each lane whose pattern just changed
  (with the pattern) to a change log; a lane whose exponential overflowed stops instead
  (``NONFINITE`` at ``t``);
* :func:`settle` gives each lane the step kernels stopped its failure step and place;
* :func:`exp_rows` replaces each exponent argument's lower end by its ``exp``
  (:func:`verify.arith.f64.exp_array`: vectorized, within the error bound :func:`~verify.arith.f64.exp_span`
  assumes, proved);
* :func:`scan` flags the running lanes that may be certified divergent (a necessary condition);
* :func:`drive` runs steps ``t .. t_end - 1`` with all of the above and the module's step kernels,
  returning to Python only for what needs it (more room in the change log, lanes flagged by
  :func:`scan`, every lane stopped), so a step costs no interpreter time.

Both *park* a stopped lane: parameters 1.0 and every neuron frozen inactive, so it stays
finite, normal and unchanged while the other lanes of its block go on.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from verify.arith.f64 import add, div_int, exp_array, exp_span, log1p
from verify.dynamics.batch_layout import (  # noqa: F401 - the header fields, also emitted into kernel modules
    ALL_STOPPED,
    DIVERGING,
    DONE,
    H_ALIVE,
    H_CHANGED,
    H_E0,
    H_FAIL_AT,
    H_FROZEN0,
    H_M,
    H_N,
    H_P,
    H_SIGN00,
    H_SPAN0,
    H_STATUS,
    NEED_ROOM,
    NONFINITE,
)

PASSES = ("_park", "record", "settle", "exp_rows", "scan", "drive")  # compiled in each kernel module


@njit(nogil=True)
def _park(H, X, F, bk, lane):  # pragma: no cover - compiled
    m, n, p, sign00, frozen0 = int(H[H_M]), int(H[H_N]), int(H[H_P]), int(H[H_SIGN00]), int(H[H_FROZEN0])
    for q in range(2 * p):
        X[bk, q, lane] = 1.0
    for a in range(m * n):
        F[bk, sign00 + a, lane] = -1
    for j in range(m):
        F[bk, frozen0 + j, lane] = 1


@njit(nogil=True)
def record(t, scheduled, r, logistic, H, X, F, changes, fail_step, used, log_lane, log_t, log_pat, log_P, log_L,
           rec_P, rec_L):  # pragma: no cover - compiled
    """Record step ``t`` (the exponent rows of ``X`` hold the ``exp`` of each argument's lower end).

    ``X, F`` are the state arrays viewed as ``(blocks, rows, BLOCK)``; lane ``k`` is block
    ``k // BLOCK``, position ``k % BLOCK``. A lane whose pattern changed appends an entry to the
    change log (``log_lane, log_t (N,)``, ``log_pat (N, m*n)``, ``log_P (2, N, p)``, ``log_L (2, N)``;
    ``used`` entries so far; the caller guarantees room for every changed lane). On a scheduled
    step (``r``-th) every running lane fills ``rec_P (2, L, R, p)``, ``rec_L (2, L, R)``.
    ``changes[block]`` counts each block's changed lanes (blocks with none are skipped unless
    ``scheduled``). Returns the number of lanes stopped (their exponential overflowed) and ``used``.
    """
    n, p, e0, span0 = int(H[H_N]), int(H[H_P]), int(H[H_E0]), int(H[H_SPAN0])
    alive_row, changed_row, status_row = int(H[H_ALIVE]), int(H[H_CHANGED]), int(H[H_STATUS])
    blocks, block = X.shape[0], X.shape[2]
    L = fail_step.shape[0]
    stopped = 0
    sl, sh, finite = np.empty(block), np.empty(block), np.empty(block, np.bool_)
    for bk in range(blocks):
        if not scheduled and changes[bk] == 0:
            continue
        for lane in range(block):  # the loss of every lane of the block: branch-free, vectorized
            sl[lane], sh[lane], finite[lane] = 0.0, 0.0, True
        for i in range(n):
            for lane in range(block):
                el, eh = exp_span(X[bk, e0 + i, lane], X[bk, span0 + i, lane])
                finite[lane] &= eh < math.inf
                if logistic:
                    el, eh = log1p(el, eh)
                sl[lane], sh[lane] = add(sl[lane], sh[lane], el, eh)
        for lane in range(block):
            k = bk * block + lane
            if k >= L or F[bk, alive_row, lane] == 0:
                continue
            changed = F[bk, changed_row, lane] != 0
            if not (scheduled or changed):
                continue
            if not finite[lane]:  # an exponential overflowed
                F[bk, alive_row, lane] = 0
                F[bk, status_row, lane] = NONFINITE
                fail_step[k] = t
                _park(H, X, F, bk, lane)
                stopped += 1
                continue
            lo, hi = div_int(sl[lane], sh[lane], n)
            if changed:
                log_lane[used] = k
                log_t[used] = t
                for a in range(log_pat.shape[1]):
                    log_pat[used, a] = F[bk, a, lane]  # the pattern rows come first in F
                for q in range(p):
                    log_P[0, used, q] = X[bk, q, lane]
                    log_P[1, used, q] = X[bk, p + q, lane]
                log_L[0, used] = lo
                log_L[1, used] = hi
                used += 1
            if scheduled:
                for q in range(p):
                    rec_P[0, k, r, q] = X[bk, q, lane]
                    rec_P[1, k, r, q] = X[bk, p + q, lane]
                rec_L[0, k, r] = lo
                rec_L[1, k, r] = hi
    return stopped, used


@njit(nogil=True)
def settle(t, H, X, F, fail_step, fail_at):  # pragma: no cover - compiled
    """Failure step and place of the lanes the step kernel stopped at step ``t``; park them.

    A ``NONFINITE`` stop found while finishing step ``t - 1`` failed at ``t - 1``; the others at ``t``.
    """
    fail_row, status_row = int(H[H_FAIL_AT]), int(H[H_STATUS])
    block = X.shape[2]
    for k in range(fail_step.shape[0]):
        bk, lane = k // block, k % block
        code = F[bk, status_row, lane]
        if code == 0 or fail_step[k] >= 0:
            continue
        fail_step[k] = t - 1 if code == NONFINITE else t
        fail_at[k] = int(X[bk, fail_row, lane])
        _park(H, X, F, bk, lane)


@njit(nogil=True)
def exp_rows(X, e0, n):  # pragma: no cover - compiled
    """``X[:, e0 + i, :] = exp(X[:, e0 + i, :])`` for ``i < n``, in place, by
    :func:`verify.arith.f64.exp_array` (vectorized, its error bound proved; ``exp(0) = 1`` exactly)."""
    s1, s2 = np.empty(X.shape[2], np.int64), np.empty(X.shape[2], np.int64)
    for bk in range(X.shape[0]):
        for i in range(n):
            exp_array(X[bk, e0 + i], s1, s2)


@njit(nogil=True)
def scan(X, F, e0, n, p, alive, b_down, t_down, flags):  # pragma: no cover - compiled
    """Flag the running lanes with an exponential above ``b_down`` or a parameter interval end beyond
    ``t_down`` in magnitude; return how many. Per block, one branch-free pass over its rows asks
    whether any lane meets the condition (an OR-reduction, no stores); only such a block (rare:
    the loss is near the divergence bound) has its lanes' flags written; the caller clears ``flags``
    after reading them."""
    blocks, block = X.shape[0], X.shape[2]
    count = 0
    for bk in range(blocks):
        hit = False
        for i in range(n):
            for lane in range(block):
                hit |= X[bk, e0 + i, lane] > b_down
        for q in range(2 * p):
            for lane in range(block):
                hit |= abs(X[bk, q, lane]) > t_down
        if not hit:
            continue
        for lane in range(block):
            flag = False
            for i in range(n):
                flag |= X[bk, e0 + i, lane] > b_down
            for q in range(2 * p):
                flag |= abs(X[bk, q, lane]) > t_down
            flags[bk, lane] = flag and F[bk, alive, lane] != 0
            count += flags[bk, lane]
    return count


@njit(nogil=True)
def drive(t, t_end, rec_steps, r, logistic, limit, watch, b_down, t_down, flags, H, C, X, F, changes, fail_step,
          fail_at, used, log_lane, log_t, log_pat, log_P, log_L, rec_P, rec_L):  # pragma: no cover - compiled
    """Steps ``t .. t_end - 1`` of every lane: the step kernel (``start`` at step 0, else ``advance``),
    :func:`settle` for the lanes it stopped, :func:`exp_rows`, :func:`record` on scheduled steps
    (the ``r``-th of ``rec_steps``) and steps with pattern changes, and, when ``watch``, :func:`scan`.

    Returns ``(t, r, used, why)``: the next step to run, the records and change-log entries so far,
    and why it returned: ``DONE`` (``t == t_end``), ``NEED_ROOM`` (before step ``t``: the change log
    has room for fewer than one entry per lane), ``DIVERGING`` (after step ``t - 1``: ``flags`` marks
    the lanes to decide), ``ALL_STOPPED`` (after step ``t - 1``, a multiple of 256 minus one: no
    lane runs; the steps left would change nothing).
    """
    Xf, Ff = X.reshape(-1), F.reshape(-1)
    e0, n, p, alive = int(H[H_E0]), int(H[H_N]), int(H[H_P]), int(H[H_ALIVE])
    L, R = fail_step.shape[0], rec_steps.shape[0]
    while t < t_end:
        if log_lane.shape[0] - used < L:
            return t, r, used, NEED_ROOM
        if t == 0:
            n_changed, n_stopped = start(Xf, Ff, C, limit, changes)  # noqa: F821 - the kernel module's
        else:
            n_changed, n_stopped = advance(Xf, Ff, C, limit, changes)  # noqa: F821 - the kernel module's
        if n_stopped:
            settle(t, H, X, F, fail_step, fail_at)
        exp_rows(X, e0, n)
        scheduled = r < R and rec_steps[r] == t
        if scheduled or n_changed:
            _, used = record(t, scheduled, r, logistic, H, X, F, changes, fail_step, used, log_lane, log_t,
                             log_pat, log_P, log_L, rec_P, rec_L)
            if scheduled:
                r += 1
        t += 1
        if watch and scan(X, F, e0, n, p, alive, b_down, t_down, flags):
            return t, r, used, DIVERGING
        if t % 256 == 0:
            running = False
            for bk in range(X.shape[0]):
                for lane in range(X.shape[2]):
                    running = running or F[bk, alive, lane] != 0
            if not running:
                return t, r, used, ALL_STOPPED
    return t, r, used, DONE
