"""The interface every arithmetic backend implements.

A backend works on its library's *native* enclosure objects (an ``arb`` ball, an
mpmath ``ivmpf`` interval), which support ``+ - * /`` with each other and with
Python ints. The backend adds what the natives lack or get wrong: exact entry of
rationals, outward-rounded transcendental functions, ``max(x, 0)``, certified
signs, and exact endpoints. Invariant of every method: the returned enclosure
contains the exact real result of the operation on every point of its inputs.

The hot loop of gradient descent calls these kernels directly; readable code
elsewhere uses :class:`verify.arith.enclosure.Enclosure`, a thin wrapper.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

from verify.arith.tri import Tri
from verify.errors import HugeValue, InvalidArgument

Native = Any  # the backend's own enclosure type

MIN_PREC = 8
MAX_PREC = 1 << 16
# An endpoint m * 2**e is expanded into an exact rational only while |e| + bits(m) stays below this
# (a 32 KiB integer): far beyond any value a non-divergent run reaches (|values| < 2**100 by the
# divergence bound, widths > 2**-(8 * MAX_PREC)), far below what costs memory or time.
MAX_EXACT_BITS = 1 << 18


def dyadic_to_fraction(man: int, exp: int) -> Fraction:
    """``man * 2**exp`` as an exact Fraction; raises :class:`~verify.errors.HugeValue` beyond
    :data:`MAX_EXACT_BITS` instead of building an astronomically large integer."""
    if man == 0:
        return Fraction(0)
    if abs(exp) + man.bit_length() > MAX_EXACT_BITS:
        raise HugeValue(man, exp)
    return Fraction(man << exp) if exp >= 0 else Fraction(man, 1 << -exp)


def check_prec(prec: object) -> int:
    """Validate a working precision in bits."""
    if isinstance(prec, bool) or not isinstance(prec, int) or not MIN_PREC <= prec <= MAX_PREC:
        raise InvalidArgument("prec", prec, f"must be an integer number of bits in [{MIN_PREC}, {MAX_PREC}]")
    return prec


class Backend(ABC):
    """Rigorous arithmetic at a fixed working precision ``prec`` (bits)."""

    name: str = "abstract"

    def __init__(self, prec: int = 128) -> None:
        self.prec = check_prec(prec)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prec={self.prec})"

    def with_prec(self, prec: int) -> Backend:
        """The same backend at another precision."""
        return type(self)(prec)

    @contextmanager
    def working_precision(self) -> Iterator[None]:
        """Scope inside which native operators round at ``self.prec`` bits."""
        yield

    # --- entry and exit -------------------------------------------------
    @abstractmethod
    def exact(self, q: Fraction) -> Native:
        """Smallest convenient enclosure of the rational ``q``."""

    def from_doubles(self, lo: float, hi: float) -> Native:
        """An enclosure of the interval ``[lo, hi]`` between two doubles (taken exactly)."""
        return self.hull(self.exact(Fraction(lo)), self.exact(Fraction(hi)))

    @abstractmethod
    def lower(self, x: Native) -> Fraction:
        """An exact rational ``<=`` every point of ``x``."""

    @abstractmethod
    def upper(self, x: Native) -> Fraction:
        """An exact rational ``>=`` every point of ``x``."""

    def mid(self, x: Native) -> Fraction:
        """A rational inside ``x`` (its centre)."""
        return (self.lower(x) + self.upper(x)) / 2

    def width(self, x: Native) -> Fraction:
        """``upper - lower``: zero exactly when ``x`` is a point."""
        return self.upper(x) - self.lower(x)

    def to_float(self, x: Native) -> float:
        """The centre as a float, for plots only; never for decisions."""
        return float(self.mid(x))

    # --- functions ------------------------------------------------------
    @abstractmethod
    def exp(self, x: Native) -> Native: ...

    @abstractmethod
    def log(self, x: Native) -> Native: ...

    @abstractmethod
    def log1p(self, x: Native) -> Native: ...

    @abstractmethod
    def relu(self, x: Native) -> Native:
        """Enclosure of ``{max(t, 0) : t in x}``."""

    @abstractmethod
    def hull(self, x: Native, y: Native) -> Native:
        """Smallest enclosure containing both."""

    # --- predicates -----------------------------------------------------
    @abstractmethod
    def sign(self, x: Native) -> int | None:
        """+1 / -1 when every point of ``x`` is positive / negative, 0 when ``x`` is
        exactly the point 0, ``None`` when ``x`` straddles or touches 0."""

    def is_finite(self, x: Native) -> bool:
        """False for enclosures that lost all information (NaN or infinite)."""
        try:
            self.lower(x)
            self.upper(x)
        except HugeValue:
            return True
        except (ValueError, OverflowError, ArithmeticError):
            return False
        return True

    def kernel(self, name: str):
        """The operation ``name`` for hot loops that already run inside :meth:`working_precision`
        (by default the method itself; a backend may return a faster raw function)."""
        return getattr(self, name)

    def outside(self, x: Native, lo: Native | None, hi: Native | None) -> bool:
        """True when every point of ``x`` is ``> hi`` or every point is ``< lo`` (None: no such side):
        certified, never a guess."""
        return (hi is not None and self.lt(hi, x).certainly()) or (lo is not None and self.lt(x, lo).certainly())

    def contains(self, x: Native, q: Fraction) -> bool:
        """True when the exact rational ``q`` lies in ``x``."""
        return self.lower(x) <= q <= self.upper(x)

    def overlaps(self, x: Native, y: Native) -> bool:
        return self.lower(x) <= self.upper(y) and self.lower(y) <= self.upper(x)

    def lt(self, x: Native, y: Native) -> Tri:
        """Three-valued ``x < y``."""
        return Tri.of(self.upper(x) < self.lower(y), self.lower(x) >= self.upper(y))

    def le(self, x: Native, y: Native) -> Tri:
        """Three-valued ``x <= y``."""
        return Tri.of(self.upper(x) <= self.lower(y), self.lower(x) > self.upper(y))

    def min2(self, x: Native, y: Native) -> Native:
        """Enclosure of ``{min(s, t) : s in x, t in y}`` (no decision needed)."""
        lo, hi = min(self.lower(x), self.lower(y)), min(self.upper(x), self.upper(y))
        return self.hull(self.exact(lo), self.exact(hi))

    def max2(self, x: Native, y: Native) -> Native:
        """Enclosure of ``{max(s, t) : s in x, t in y}``."""
        lo, hi = max(self.lower(x), self.lower(y)), max(self.upper(x), self.upper(y))
        return self.hull(self.exact(lo), self.exact(hi))
