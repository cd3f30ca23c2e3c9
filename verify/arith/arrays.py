"""Interval *arrays*: the small interface the GD step is written against, once for every arithmetic.

An arithmetic (:class:`ArrayArithmetic`) works on its own array type, an *enclosure array*: an
n-dimensional array each of whose entries is an enclosure of one exact real number. Invariant of
every method: each entry of the result contains the exact real result of the operation, applied
entrywise (or as the matrix product, or the sum) to every choice of points in the operands'
entries. Decisions (:meth:`~ArrayArithmetic.positive`, :meth:`~ArrayArithmetic.nonpositive`) hold
for every point of an entry or are reported as not made; they never guess.

The implementations:

* ``"f64"``: float64 midpoint-radius arrays, products on numpy's BLAS with a-priori rounding-error
  bounds (:mod:`verify.arith.midrad`);
* ``"arb"``: Arb balls (python-flint), products as ``arb_mat`` (:class:`ArbArrays`);
* ``"mpmath"``, ``"exact"``: numpy object arrays of a scalar :class:`~verify.arith.base.Backend`'s
  natives (:class:`ObjectArrays`): mpmath intervals, or exact ``Fraction`` points (no ``exp``).

Shapes and broadcasting follow numpy. Masks are numpy bool arrays: they are exact, certified
decisions, so selecting with them rounds nothing.

>>> ar = get_arithmetic("arb", 64)
>>> x = ar.exact(np.array([[1.0, -2.0]]))
>>> ar.positive(ar.matmul(x, ar.exact(np.array([[1.0], [-1.0]])))).tolist()
[[True]]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

import numpy as np

from verify.arith.base import Backend, check_prec
from verify.errors import InvalidArgument

Arr = Any  # an arithmetic's own enclosure-array type


class ArrayArithmetic(ABC):
    """Enclosure arrays of one arithmetic at one working precision; see the module invariant."""

    name: str = "abstract"
    prec: int = 53

    @property
    @abstractmethod
    def scalar(self) -> Backend:
        """A scalar backend whose natives hold this arithmetic's entries exactly (to read them out)."""

    @contextmanager
    def working_precision(self) -> Iterator[None]:
        """Scope inside which operations round at ``self.prec`` bits."""
        yield

    # --- entry ------------------------------------------------------------------------------
    @abstractmethod
    def exact(self, values: np.ndarray) -> Arr:
        """Enclosures of exact values: a float64 array (each double taken exactly) or an object
        array of ``Fraction``/``int``."""

    def constant(self, q: Fraction) -> Arr:
        """A 0-d enclosure of the rational ``q``."""
        return self.exact(np.array(q, dtype=object))

    def zeros(self, shape: tuple[int, ...]) -> Arr:
        return self.exact(np.zeros(shape))

    def operand(self, a: Arr) -> Arr:
        """``a`` prepared for use as an operand of many products (the data); by default ``a`` itself."""
        return a

    # --- structure: no rounding ----------------------------------------------------------------
    @abstractmethod
    def shape(self, a: Arr) -> tuple[int, ...]: ...

    @abstractmethod
    def reshape(self, a: Arr, shape: tuple[int, ...]) -> Arr: ...

    @abstractmethod
    def transpose(self, a: Arr, axes: tuple[int, ...] | None = None) -> Arr: ...

    @abstractmethod
    def take(self, a: Arr, index: Any) -> Arr:
        """``a[index]`` (numpy indexing)."""

    @abstractmethod
    def where(self, mask: np.ndarray, a: Arr, b: Arr) -> Arr:
        """``a`` where ``mask``, else ``b`` (broadcast)."""

    def neg(self, a: Arr) -> Arr:
        return self.sub(self.zeros(()), a)

    def flip(self, a: Arr, positive: np.ndarray) -> Arr:
        """``a`` where ``positive``, else ``-a``: multiplication by exact signs."""
        return self.where(positive, a, self.neg(a))

    # --- arithmetic ----------------------------------------------------------------------------
    @abstractmethod
    def add(self, a: Arr, b: Arr) -> Arr: ...

    @abstractmethod
    def sub(self, a: Arr, b: Arr) -> Arr: ...

    @abstractmethod
    def mul(self, a: Arr, b: Arr) -> Arr: ...

    def axpy(self, y: Arr, a: Arr, x: Arr) -> Arr:
        """``y + a * x`` (broadcast); an arithmetic may fuse it."""
        return self.add(y, self.mul(a, x))

    @abstractmethod
    def matmul(self, a: Arr, b: Arr) -> Arr:
        """The matrix product (numpy ``matmul`` semantics: 2-d, or stacks of matrices)."""

    @abstractmethod
    def sum(self, a: Arr, axis: int) -> Arr: ...

    @abstractmethod
    def exp(self, a: Arr) -> Arr: ...

    @abstractmethod
    def log1p(self, a: Arr) -> Arr:
        """``log(1 + a)`` for entries ``> -1``."""

    @abstractmethod
    def relu(self, a: Arr) -> Arr:
        """``max(a, 0)`` (no decision needed: an entry straddling 0 gives ``[0, max]``)."""

    @abstractmethod
    def logistic(self, a: Arr) -> Arr:
        """``a / (1 + a)`` for entries ``>= 0``: the logistic loss's ``-l'`` from ``a = exp(-z)``."""

    # --- decisions -----------------------------------------------------------------------------
    @abstractmethod
    def positive(self, a: Arr) -> np.ndarray:
        """True where every point of the entry is ``> 0``."""

    @abstractmethod
    def nonpositive(self, a: Arr) -> np.ndarray:
        """True where every point of the entry is ``<= 0``."""

    def decide(self, a: Arr) -> tuple[np.ndarray, np.ndarray]:
        """``(positive(a), nonpositive(a))``; an arithmetic may compute both at once."""
        return self.positive(a), self.nonpositive(a)

    def exceeds(self, a: Arr, bound: Arr) -> np.ndarray:
        """True where every point of the entry has absolute value ``> bound`` (``>= 0``, a
        :meth:`constant` or an array of ``a``'s shape): certified, never a guess (NaN and infinite
        entries give False)."""
        return self.positive(self.sub(a, bound)) | self.positive(self.sub(self.neg(a), bound))

    @abstractmethod
    def finite(self, a: Arr) -> np.ndarray:
        """False where the entry lost all information (infinite or NaN)."""

    @abstractmethod
    def width(self, a: Arr) -> np.ndarray:
        """Upper bounds (float64, ``inf`` when unbounded) of the entries' widths."""

    def max_width(self, a: Arr, axes: tuple[int, ...]) -> np.ndarray:
        """The largest width over ``axes`` (``inf`` or ``nan`` when an entry is not finite)."""
        return self.width(a).max(axis=axes)

    # --- exit ----------------------------------------------------------------------------------
    @abstractmethod
    def natives(self, a: Arr) -> np.ndarray:
        """An object array of :attr:`scalar` natives, each containing its entry."""

    @abstractmethod
    def bounds(self, a: Arr) -> tuple[np.ndarray, np.ndarray]:
        """float64 ``(lo, hi)`` with ``lo <= every point <= hi`` (infinite when not finite)."""

    def pack(self, a: Arr) -> Arr:
        """A compact, immutable copy for a trajectory record (by default a copy of ``a``)."""
        return a

    def unpack(self, packed: Arr) -> Arr:
        return packed

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prec={self.prec})"


class ObjectArrays(ArrayArithmetic):
    """A scalar backend lifted to numpy object arrays of its natives.

    Every entry is one native enclosure; ``+ - *`` are the natives' own (rigorous) operators,
    applied entrywise by numpy, and products are numpy's object ``matmul`` (sums of the natives'
    products). Functions go through the backend's rigorous ``exp``/``log1p``. Slow (a Python call
    per scalar operation) but general: it serves mpmath and the exact rationals.
    """

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.name = backend.name
        self.prec = backend.prec
        self._exp = np.frompyfunc(backend.exp, 1, 1)
        self._log1p = np.frompyfunc(backend.log1p, 1, 1)
        self._sign = np.frompyfunc(backend.sign, 1, 1)
        self._relu = np.frompyfunc(backend.relu, 1, 1)
        self._upper = np.frompyfunc(backend.upper, 1, 1)
        self._finite = np.frompyfunc(backend.is_finite, 1, 1)
        self._width = np.frompyfunc(lambda x: _float_up(backend.width(x)), 1, 1)
        self._lower = np.frompyfunc(backend.lower, 1, 1)

    @property
    def scalar(self) -> Backend:
        return self._backend

    @contextmanager
    def working_precision(self) -> Iterator[None]:
        with self._backend.working_precision():
            yield

    def _native(self, v: object) -> Any:
        return self._backend.exact(Fraction(v))  # a double enters at its exact binary value

    def exact(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values)
        out = np.empty(values.shape, dtype=object)
        flat = out.reshape(-1)
        for k, v in enumerate(values.reshape(-1).tolist()):
            flat[k] = self._native(v)
        return out

    def shape(self, a: np.ndarray) -> tuple[int, ...]:
        return a.shape

    def reshape(self, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return a.reshape(shape)

    def transpose(self, a: np.ndarray, axes: tuple[int, ...] | None = None) -> np.ndarray:
        return a.transpose(axes)

    def take(self, a: np.ndarray, index: Any) -> np.ndarray:
        return a[index]

    def where(self, mask: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(mask, a, b)

    def neg(self, a: np.ndarray) -> np.ndarray:
        return -a

    def add(self, a, b):
        return np.add(a, b, dtype=object)

    def sub(self, a, b):
        return np.subtract(a, b, dtype=object)

    def mul(self, a, b):
        return np.multiply(a, b, dtype=object)

    def matmul(self, a, b):
        if a.shape[-1] == 0:
            return self.zeros((a.shape[0], b.shape[1]))
        return np.matmul(a, b)

    def sum(self, a, axis: int):
        return np.add.reduce(a, axis=axis) if a.shape[axis] else self.zeros(np.delete(a.shape, axis))

    def exp(self, a):
        return np.asarray(self._exp(a), dtype=object)

    def log1p(self, a):
        return np.asarray(self._log1p(a), dtype=object)

    def logistic(self, a):
        return a / (a + 1)

    def relu(self, a):
        return np.asarray(self._relu(a), dtype=object)

    def positive(self, a) -> np.ndarray:
        return np.asarray(self._sign(a) == 1, dtype=bool)

    def nonpositive(self, a) -> np.ndarray:
        s = self._sign(a)
        out = np.asarray((s == -1) | (s == 0), dtype=bool)
        undecided = ~out & (s != 1) & np.asarray(self._finite(a), dtype=bool)
        if undecided.any():  # touching 0 from below, e.g. [-1, 0]: every point is <= 0
            out[undecided] = np.asarray(self._upper(a[undecided]) <= 0, dtype=bool)
        return out

    def finite(self, a) -> np.ndarray:
        return np.asarray(self._finite(a), dtype=bool)

    def width(self, a) -> np.ndarray:
        ok = self.finite(a)
        out = np.full(a.shape, np.inf)
        out[ok] = np.asarray(self._width(a[ok]), dtype=float)
        return out

    def natives(self, a) -> np.ndarray:
        return a

    def bounds(self, a) -> tuple[np.ndarray, np.ndarray]:
        ok = self.finite(a)
        lo, hi = np.full(a.shape, -np.inf), np.full(a.shape, np.inf)
        lo[ok] = [_float_down(q) for q in self._lower(a[ok]).tolist()]
        hi[ok] = [_float_up(q) for q in self._upper(a[ok]).tolist()]
        return lo, hi

    def pack(self, a):
        return a.copy()


def _float_up(q: Fraction) -> float:
    """The least double ``>= q`` (``inf`` beyond the range)."""
    try:
        f = q.numerator / q.denominator
    except OverflowError:
        return np.inf if q > 0 else -np.finfo(float).max
    return f if Fraction(f) >= q else float(np.nextafter(f, np.inf))


def _float_down(q: Fraction) -> float:
    return -_float_up(-q)


def get_arithmetic(name: str = "arb", prec: int = 128) -> ArrayArithmetic:
    """The arithmetic called ``name`` (``"f64"``, ``"arb"``, ``"mpmath"``, ``"exact"``) at ``prec`` bits
    (ignored by ``"f64"``, which is 53, and by ``"exact"``)."""
    if name == "f64":
        from verify.arith.midrad import MidRadArithmetic

        return MidRadArithmetic()
    if name == "arb":
        from verify.arith.ball_arrays import ArbArrays

        return ArbArrays(check_prec(prec))
    if name == "mpmath":
        from verify.arith.mpmath_backend import MpmathBackend

        return ObjectArrays(MpmathBackend(check_prec(prec)))
    if name == "exact":
        from verify.arith.rational import RationalBackend

        return ObjectArrays(RationalBackend())
    raise InvalidArgument("arithmetic", name, "must be one of ['arb', 'exact', 'f64', 'mpmath']")
