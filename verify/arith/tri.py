"""Three-valued answers for predicates on enclosures.

A predicate on an enclosure X is TRUE when it holds for every real in X, FALSE
when it fails for every real in X, UNKNOWN otherwise. Using UNKNOWN as a bool is
an error: a verification tool must never guess.
"""

from __future__ import annotations

from enum import Enum

from verify.errors import UndecidableError


class Tri(Enum):
    """Certainly true, certainly false, or not decided at this precision."""

    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"

    def __bool__(self) -> bool:
        if self is Tri.UNKNOWN:
            raise UndecidableError(
                "comparison of enclosures is undecided at this precision; "
                "use .certainly() or .possibly(), or raise the precision"
            )
        return self is Tri.TRUE

    def certainly(self) -> bool:
        """True only when the predicate holds on the whole enclosure."""
        return self is Tri.TRUE

    def possibly(self) -> bool:
        """True unless the predicate fails on the whole enclosure."""
        return self is not Tri.FALSE

    def __invert__(self) -> Tri:
        return {Tri.TRUE: Tri.FALSE, Tri.FALSE: Tri.TRUE}.get(self, Tri.UNKNOWN)

    def __and__(self, other: Tri) -> Tri:
        if self is Tri.FALSE or other is Tri.FALSE:
            return Tri.FALSE
        if self is Tri.TRUE and other is Tri.TRUE:
            return Tri.TRUE
        return Tri.UNKNOWN

    def __or__(self, other: Tri) -> Tri:
        return ~(~self & ~other)

    @staticmethod
    def of(certain_true: bool, certain_false: bool) -> Tri:
        """Build from the two certainty tests of a backend."""
        if certain_true:
            return Tri.TRUE
        if certain_false:
            return Tri.FALSE
        return Tri.UNKNOWN
