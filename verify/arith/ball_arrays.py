"""Arb ball arrays: entrywise operations on numpy object arrays of ``arb``, products as ``arb_mat``.

Arb (python-flint) guarantees that every ball it returns contains the exact result, for scalar
operations and for ``arb_mat`` products alike, at the working precision ``flint.ctx.prec``
(set by :meth:`ArbArrays.working_precision`). Entrywise operations are the ``arb`` operators
applied by numpy to object arrays (about 0.1 us per entry); products convert both operands to
``arb_mat`` and back (``arb_mat`` multiplies blockwise in C: measured 0.7 ms for 64 x 64 times
64 x 16 and 70 ms for 256 x 1024 times 1024 x 64 at 128 bits, against 7 ms and minutes for
numpy's object ``matmul``). A matrix used as an operand of many products (the data) is kept as an
:class:`ArbMatrix`, converted once.

Nothing here is generated code: any size that fits in memory runs, at any precision.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

import flint
import numpy as np
from flint import arb, arb_mat, fmpq

from verify.arith.arb_backend import ArbBackend
from verify.arith.arrays import ObjectArrays


class ArbMatrix:
    """A 2-d array of balls held as an ``arb_mat`` (and, once asked for, as an object array)."""

    __slots__ = ("mat", "_obj", "_t")

    def __init__(self, mat: arb_mat) -> None:
        self.mat = mat
        self._obj: np.ndarray | None = None
        self._t: ArbMatrix | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.mat.nrows(), self.mat.ncols()

    @property
    def T(self) -> ArbMatrix:
        if self._t is None:
            self._t = ArbMatrix(self.mat.transpose())
            self._t._t = self
        return self._t

    def array(self) -> np.ndarray:
        if self._obj is None:
            self._obj = np.array(self.mat.entries(), dtype=object).reshape(self.shape)
        return self._obj


def _to_mat(a: np.ndarray | ArbMatrix) -> arb_mat:
    if isinstance(a, ArbMatrix):
        return a.mat
    r, c = a.shape
    return arb_mat(r, c, a.reshape(-1).tolist())


def _obj(a: Any) -> Any:
    return a.array() if isinstance(a, ArbMatrix) else a


class ArbArrays(ObjectArrays):
    """Ball arrays at ``prec`` bits; see the module doc."""

    def __init__(self, prec: int = 128) -> None:
        super().__init__(ArbBackend(prec))
        self._nonneg = np.frompyfunc(lambda x: x <= 0, 1, 1)
        self._pos = np.frompyfunc(lambda x: x > 0, 1, 1)
        self._fin = np.frompyfunc(lambda x: x.is_finite(), 1, 1)

    @contextmanager
    def working_precision(self) -> Iterator[None]:
        saved = flint.ctx.prec
        flint.ctx.prec = self.prec
        try:
            yield
        finally:
            flint.ctx.prec = saved

    def _native(self, v: object) -> arb:
        if isinstance(v, float):
            return arb(v)  # exact
        q = Fraction(v)
        return arb(fmpq(q.numerator, q.denominator))

    def exact(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values)
        if values.dtype == np.float64 and values.size:  # doubles enter exactly, converted in C
            flat = arb_mat(1, values.size, values.reshape(-1).tolist()).entries()
            return np.array(flat, dtype=object).reshape(values.shape)
        with self.working_precision():
            return super().exact(values)

    def operand(self, a):
        return a if isinstance(a, ArbMatrix) or np.ndim(a) != 2 else ArbMatrix(_to_mat(a))

    def shape(self, a):
        return a.shape

    def reshape(self, a, shape):
        return _obj(a).reshape(shape)

    def transpose(self, a, axes=None):
        if isinstance(a, ArbMatrix) and axes is None:
            return a.T
        return _obj(a).transpose(axes)

    def take(self, a, index):
        return _obj(a)[index]

    def where(self, mask, a, b):
        return np.where(mask, _obj(a), _obj(b))

    def neg(self, a):
        return -_obj(a)

    def add(self, a, b):
        return np.add(_obj(a), _obj(b), dtype=object)

    def sub(self, a, b):
        return np.subtract(_obj(a), _obj(b), dtype=object)

    def mul(self, a, b):
        return np.multiply(_obj(a), _obj(b), dtype=object)

    def matmul(self, a, b) -> np.ndarray:
        if np.ndim(a) == 3 or np.ndim(b) == 3:  # stacks of matrices: one arb_mat product each
            a, b = _obj(a), _obj(b)
            a3 = a if a.ndim == 3 else a[None]
            b3 = b if b.ndim == 3 else b[None]
            L = max(a3.shape[0], b3.shape[0])
            return np.stack([self.matmul(a3[min(q, a3.shape[0] - 1)], b3[min(q, b3.shape[0] - 1)])
                             for q in range(L)])
        (n, k), m = a.shape, b.shape[1]
        if k == 0 or n == 0 or m == 0:
            return self.zeros((n, m))
        return np.array((_to_mat(a) * _to_mat(b)).entries(), dtype=object).reshape(n, m)

    def sum(self, a, axis: int):
        return super().sum(_obj(a), axis)

    def exp(self, a):
        return super().exp(_obj(a))

    def log1p(self, a):
        return super().log1p(_obj(a))

    def logistic(self, a):
        a = _obj(a)
        return a / (a + 1)

    def relu(self, a):
        return super().relu(_obj(a))

    def positive(self, a) -> np.ndarray:
        return np.asarray(self._pos(_obj(a)), dtype=bool)

    def nonpositive(self, a) -> np.ndarray:
        return np.asarray(self._nonneg(_obj(a)), dtype=bool)

    def finite(self, a) -> np.ndarray:
        return np.asarray(self._fin(_obj(a)), dtype=bool)

    def width(self, a) -> np.ndarray:
        a = _obj(a)
        ok = self.finite(a)
        out = np.full(a.shape, np.inf)
        out[ok] = [float(2 * x.rad()) * (1 + 2.0**-50) for x in a[ok].reshape(-1).tolist()]
        return out

    def natives(self, a) -> np.ndarray:
        return _obj(a)

    def bounds(self, a) -> tuple[np.ndarray, np.ndarray]:
        return super().bounds(_obj(a))

    def pack(self, a) -> ArbMatrix:
        """A record: the balls as one ``arb_mat`` row (no Python object per entry)."""
        a = _obj(a)
        return (ArbMatrix(arb_mat(1, a.size, a.reshape(-1).tolist())), a.shape)

    def unpack(self, packed) -> np.ndarray:
        mat, shape = packed
        return np.array(mat.mat.entries(), dtype=object).reshape(shape)
