"""A two-layer ReLU network N(x) = sum_j v_j relu(<w_j, x> + b_j) with exact rational parameters,
evaluated exactly on many points by integer matrix products.

Representation: ``W = Wnum / w_den``, ``b = bnum / b_den``, ``v = vnum / v_den`` with integer
numerators (int64 or Python ints) over one common positive denominator per block. A point set is
``X = Xnum / x_den``. Then every pre-activation is ``P = Pnum / p_den`` with

    Pnum = (Xnum @ Wnum^T) * b_den + bnum * x_den * w_den,   p_den = x_den * w_den * b_den > 0,

so its sign (the ReLU branch) is the sign of an exact integer: a branch is never guessed.
Invariant: every value returned is exact (integers and Fractions), never a float.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from proofs.paper_b.intmath import int_matmul, sqrt_bracket
from verify.errors import InvalidArgument
from verify.exact import to_exact


def _common(values: Sequence[Fraction]) -> tuple[np.ndarray, int]:
    """Integer numerators over the least common denominator of ``values``."""
    den = 1
    for q in values:
        den = math.lcm(den, q.denominator)
    nums = [q.numerator * (den // q.denominator) for q in values]
    if nums and max(abs(v) for v in nums) < 2**62:
        return np.asarray(nums, dtype=np.int64), den
    return np.asarray(nums, dtype=object), den


def dyadic_common(*arrays: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Exact integer numerators over one common power-of-two denominator for finite float/int arrays.

    Every float64 is m * 2**e with an integer m (|m| < 2**53) (``np.frexp``); the common denominator
    is 2**E for the smallest exponent. Exact; int64 when it fits, else Python ints.

    >>> nums, den = dyadic_common(np.array([0.5, -0.75]), np.array([3.0]))
    >>> [a.tolist() for a in nums], den
    ([[2, -3], [12]], 4)
    """
    mants, exps = [], []
    for a in arrays:
        a = np.asarray(a, dtype=np.float64)
        if not np.all(np.isfinite(a)):
            raise InvalidArgument("parameters", "non-finite", "must be finite numbers")
        m, e = np.frexp(a)
        mants.append(np.ldexp(m, 53).astype(np.int64))
        exps.append(e.astype(np.int64) - 53)
    nonzero = [e[m != 0] for m, e in zip(mants, exps, strict=True)]
    low = min((int(e.min()) for e in nonzero if e.size), default=0)
    big = -min(low, 0)
    out = []
    for m, e in zip(mants, exps, strict=True):
        shift = np.where(m != 0, e + big, 0)
        if shift.size and int(shift.max(initial=0)) <= 9:
            out.append(m << shift)
        else:
            out.append(np.array([int(a) << int(t) for a, t in zip(m.ravel(), shift.ravel(), strict=True)],
                                dtype=object).reshape(m.shape))
    # remove common factors of two
    g = 0
    for a in out:
        for val in np.asarray(a).ravel():
            g = math.gcd(g, int(val))
            if g == 1:
                break
        if g == 1:
            break
    tz = (g & -g).bit_length() - 1 if g else 0
    tz = min(tz, big)
    if tz:
        out = [a >> tz if a.dtype != object
               else np.array([int(x) >> tz for x in a.ravel()], dtype=object).reshape(a.shape) for a in out]
    return out, 1 << (big - tz)


def _is_numeric_array(x: object) -> bool:
    return isinstance(x, np.ndarray) and x.dtype.kind in "fiu"


def _exact_list(values: object, name: str) -> list[Fraction]:
    arr = np.asarray(values, dtype=object).ravel()
    if arr.dtype != object:
        arr = arr.astype(object)
    return [to_exact(v.item() if hasattr(v, "item") else v, name) for v in arr]


@dataclass(frozen=True, eq=False)
class TwoLayerNet:
    """N(x) = sum_j v_j relu(<w_j, x> + b_j), parameters exact (see the module docstring)."""

    Wnum: np.ndarray
    w_den: int
    bnum: np.ndarray
    b_den: int
    vnum: np.ndarray
    v_den: int

    @classmethod
    def from_exact(cls, W: object, b: object, v: object) -> TwoLayerNet:
        """From any exact-like entries (ints, Fractions, decimal strings, floats at their exact value).

        >>> net = TwoLayerNet.from_exact([[1, Fraction(1, 2)]], [0.25], [-1])
        >>> net.width, net.dim, net.w(0), net.b(0)
        (1, 2, (Fraction(1, 1), Fraction(1, 2)), Fraction(1, 4))
        """
        if all(_is_numeric_array(a) for a in (W, b, v)) and W.ndim == 2 and W.size:
            m = W.shape[0]
            if np.asarray(b).size != m or np.asarray(v).size != m:
                raise InvalidArgument("b", np.asarray(b).size, f"b and v must have width m={m} entries")
            (wn,), wd = dyadic_common(W)
            (bn,), bd = dyadic_common(np.ravel(b))
            (vn,), vd = dyadic_common(np.ravel(v))
            return cls(wn, wd, bn, bd, vn, vd)
        W = np.asarray(W, dtype=object)
        if W.ndim != 2 or W.shape[0] < 1 or W.shape[1] < 1:
            raise InvalidArgument("width", W.shape, "W must be a non-empty (m, d) matrix (width >= 1)")
        m, d = W.shape
        wl, bl, vl = _exact_list(W, "W"), _exact_list(b, "b"), _exact_list(v, "v")
        if len(bl) != m:
            raise InvalidArgument("b", len(bl), f"must have width m={m} entries")
        if len(vl) != m:
            raise InvalidArgument("v", len(vl), f"must have width m={m} entries")
        wn, wd = _common(wl)
        bn, bd = _common(bl)
        vn, vd = _common(vl)
        return cls(wn.reshape(m, d), wd, bn, bd, vn, vd)

    @property
    def width(self) -> int:
        return int(self.Wnum.shape[0])

    @property
    def dim(self) -> int:
        return int(self.Wnum.shape[1])

    def w(self, j: int) -> tuple[Fraction, ...]:
        return tuple(Fraction(int(a), self.w_den) for a in self.Wnum[j])

    def b(self, j: int) -> Fraction:
        return Fraction(int(self.bnum[j]), self.b_den)

    def v(self, j: int) -> Fraction:
        return Fraction(int(self.vnum[j]), self.v_den)

    def w_norm_sq(self) -> list[Fraction]:
        """||w_j||^2 exactly, for every neuron."""
        wn = np.asarray(self.Wnum, dtype=object)
        return [Fraction(int(s), self.w_den**2) for s in (wn * wn).sum(axis=1)]

    def w_norm_upper(self, bits: int = 64) -> list[Fraction]:
        """Rationals >= ||w_j|| (exact when ||w_j||^2 is a rational square)."""
        return [sqrt_bracket(q, bits)[1] for q in self.w_norm_sq()]

    def preacts(self, Xnum: np.ndarray, x_den: int) -> tuple[np.ndarray, int]:
        """Exact pre-activations of the points ``Xnum / x_den``: ``(Pnum, p_den)``, shape (n, m)."""
        if self.dim != np.asarray(Xnum).shape[1]:
            raise InvalidArgument("X", np.asarray(Xnum).shape, f"must have d={self.dim} columns")
        prod = int_matmul(Xnum, np.asarray(self.Wnum).T)
        prod = np.asarray(prod, dtype=object) * self.b_den
        shift = np.asarray(self.bnum, dtype=object) * (x_den * self.w_den)
        return prod + shift[None, :], x_den * self.w_den * self.b_den

    def outputs(self, Xnum: np.ndarray, x_den: int) -> tuple[np.ndarray, int]:
        """Exact outputs N(x) of the points ``Xnum / x_den``: ``(Nnum, n_den)``, shape (n,)."""
        pnum, pden = self.preacts(Xnum, x_den)
        relu = np.where(pnum > 0, pnum, 0)
        out = relu.dot(np.asarray(self.vnum, dtype=object))
        return out, pden * self.v_den

    def outputs_at(self, Xnum: np.ndarray, x_den: int) -> list[Fraction]:
        """Exact outputs as Fractions."""
        num, den = self.outputs(Xnum, x_den)
        return [Fraction(int(a), den) for a in num]
