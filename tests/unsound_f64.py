"""Deliberately unsound float64 "interval" arithmetic, for mutation checks (not a test module).

Same names and signatures as :mod:`verify.arith.f64`, but every operation rounds to nearest and
never widens, and ``exp`` is taken at face value. A batch kernel compiled against it must be
caught by the containment tests: its lanes stay points that drift away from the exact iterate.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from verify.arith.f64 import pick, select  # choices, not arithmetic: the same as the sound module's

__all__ = ["add", "add_if", "div_int", "exp_array", "exp_span", "log1p", "logistic_weight", "mul", "mul_pos", "pick",
           "select", "up"]


@njit
def exp_array(v, s1, s2):
    for j in range(v.shape[0]):
        v[j] = math.exp(v[j])


@njit
def up(f):
    return f


@njit
def add(al, ah, bl, bh):
    return al + bl, ah + bh


@njit
def add_if(on, al, ah, bl, bh):
    return (al + bl if on else al), (ah + bh if on else ah)


@njit
def mul(al, ah, bl, bh):
    p1, p2, p3, p4 = al * bl, al * bh, ah * bl, ah * bh
    return min(min(p1, p2), min(p3, p4)), max(max(p1, p2), max(p3, p4))


@njit
def mul_pos(al, ah, bl, bh):
    return al * bl, ah * bh


@njit
def div_int(xl, xh, n):
    return xl / n, xh / n


@njit
def exp_span(e, span):
    return e, (e * math.exp(span) if span <= 1.0 else np.inf)


@njit
def log1p(xl, xh):
    return math.log1p(xl), math.log1p(xh)


@njit
def logistic_weight(el, eh):
    return el / (1.0 + el), eh / (1.0 + eh)
