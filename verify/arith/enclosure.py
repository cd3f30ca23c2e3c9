"""A thin value type over a backend's native enclosure, for readable code.

``Enclosure`` carries its backend, supports ``+ - * /`` (with other enclosures,
ints and Fractions, which enter exactly), ``exp``/``log``/``log1p``/``relu``,
and comparisons that return :class:`~verify.arith.tri.Tri`, never a guess:

>>> from verify.arith import get_backend
>>> be = get_backend("arb", 64)
>>> x = Enclosure.of(be, "1/3")
>>> (x * 3 - 1).contains(0)
True
>>> (x < Enclosure.of(be, "0.5")).certainly()
True
"""

from __future__ import annotations

from fractions import Fraction

from verify.arith.base import Backend, Native
from verify.arith.tri import Tri
from verify.exact import to_exact

Operand = "Enclosure | int | Fraction"


class Enclosure:
    """A set certain to contain one exact real number."""

    __slots__ = ("backend", "value")

    def __init__(self, backend: Backend, value: Native) -> None:
        self.backend = backend
        self.value = value

    @classmethod
    def of(cls, backend: Backend, q: object, field: str = "value") -> Enclosure:
        """Exact entry of a number (see :func:`verify.exact.to_exact`)."""
        return cls(backend, backend.exact(to_exact(q, field)))

    def _native(self, other: object) -> Native:
        if isinstance(other, Enclosure):
            return other.value
        if isinstance(other, int) and not isinstance(other, bool):
            return other
        return self.backend.exact(to_exact(other, "operand"))

    def _wrap(self, value: Native) -> Enclosure:
        return Enclosure(self.backend, value)

    def _op(self, other: object, fn) -> Enclosure:
        with self.backend.working_precision():
            return self._wrap(fn(self.value, self._native(other)))

    def __add__(self, o): return self._op(o, lambda a, b: a + b)  # noqa: E704
    def __radd__(self, o): return self._op(o, lambda a, b: b + a)  # noqa: E704
    def __sub__(self, o): return self._op(o, lambda a, b: a - b)  # noqa: E704
    def __rsub__(self, o): return self._op(o, lambda a, b: b - a)  # noqa: E704
    def __mul__(self, o): return self._op(o, lambda a, b: a * b)  # noqa: E704
    def __rmul__(self, o): return self._op(o, lambda a, b: b * a)  # noqa: E704
    def __truediv__(self, o): return self._op(o, lambda a, b: a / b)  # noqa: E704
    def __rtruediv__(self, o): return self._op(o, lambda a, b: b / a)  # noqa: E704

    def __neg__(self) -> Enclosure:
        with self.backend.working_precision():  # arb rounds even a negation to the global precision
            return self._wrap(-self.value)

    def __abs__(self) -> Enclosure:
        return self.relu() + (-self).relu()

    def _fn(self, name: str) -> Enclosure:
        with self.backend.working_precision():
            return self._wrap(getattr(self.backend, name)(self.value))

    def exp(self) -> Enclosure:
        return self._fn("exp")

    def log(self) -> Enclosure:
        return self._fn("log")

    def log1p(self) -> Enclosure:
        return self._fn("log1p")

    def relu(self) -> Enclosure:
        """``max(x, 0)``."""
        return self._fn("relu")

    def _pair(self, name: str, other: Enclosure) -> Enclosure:
        with self.backend.working_precision():
            return self._wrap(getattr(self.backend, name)(self.value, other.value))

    def min(self, other: Enclosure) -> Enclosure:
        return self._pair("min2", other)

    def max(self, other: Enclosure) -> Enclosure:
        return self._pair("max2", other)

    def hull(self, other: Enclosure) -> Enclosure:
        return self._pair("hull", other)

    # --- three-valued comparisons --------------------------------------
    def __lt__(self, o) -> Tri:
        return self.backend.lt(self.value, self._native_for_cmp(o))

    def __le__(self, o) -> Tri:
        return self.backend.le(self.value, self._native_for_cmp(o))

    def __gt__(self, o) -> Tri:
        return self.backend.lt(self._native_for_cmp(o), self.value)

    def __ge__(self, o) -> Tri:
        return self.backend.le(self._native_for_cmp(o), self.value)

    def _native_for_cmp(self, o: object) -> Native:
        if isinstance(o, int) and not isinstance(o, bool):
            return self.backend.exact(Fraction(o))
        return self._native(o)

    __hash__ = None  # type: ignore[assignment]

    def sign(self) -> int | None:
        """+1, -1, 0 (exactly zero) or None (undecided)."""
        return self.backend.sign(self.value)

    # --- endpoints ------------------------------------------------------
    @property
    def lower(self) -> Fraction:
        return self.backend.lower(self.value)

    @property
    def upper(self) -> Fraction:
        return self.backend.upper(self.value)

    @property
    def mid(self) -> Fraction:
        return self.backend.mid(self.value)

    @property
    def width(self) -> Fraction:
        return self.backend.width(self.value)

    def contains(self, q: object) -> bool:
        return self.backend.contains(self.value, to_exact(q, "point"))

    def overlaps(self, other: Enclosure) -> bool:
        return self.backend.overlaps(self.value, other.value)

    def __float__(self) -> float:
        return self.backend.to_float(self.value)

    def text(self, digits: int = 10) -> str:
        """The backend's own decimal text of the enclosure, for values whose exact endpoints are too large
        to expand (:class:`~verify.errors.HugeValue`) or not finite, e.g.
        ``[3.3769e+111893886684 +/- 1.32e+111893886679]``."""
        v = self.value
        return v.str(digits, radius=True) if hasattr(v, "str") and hasattr(v, "rad") else str(v)

    def __repr__(self) -> str:
        try:
            return f"Enclosure({self.backend.name}, [{float(self.lower):.17g}, {float(self.upper):.17g}])"
        except ArithmeticError:  # HugeValue, beyond the double range, or not finite: the backend's text
            return f"Enclosure({self.backend.name}, {self.text()})"
