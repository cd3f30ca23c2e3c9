"""Rigorous arithmetic backends behind one interface.

>>> be = get_backend("arb", prec=96)
>>> be.contains(be.exp(be.exact(Fraction(0))), Fraction(1))
True
"""

from __future__ import annotations

from fractions import Fraction

from verify.arith.arb_backend import ArbBackend
from verify.arith.base import Backend, check_prec
from verify.arith.enclosure import Enclosure
from verify.arith.mpmath_backend import MpmathBackend
from verify.arith.tri import Tri
from verify.errors import InvalidArgument

BACKENDS: dict[str, type[Backend]] = {"arb": ArbBackend, "mpmath": MpmathBackend}


def get_backend(name: str = "arb", prec: int = 128) -> Backend:
    """The backend called ``name`` at ``prec`` bits."""
    if name not in BACKENDS:
        raise InvalidArgument("backend", name, f"must be one of {sorted(BACKENDS)}")
    return BACKENDS[name](check_prec(prec))


__all__ = ["ArbBackend", "Backend", "BACKENDS", "Enclosure", "Fraction", "MpmathBackend", "Tri", "get_backend"]
