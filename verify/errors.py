"""One root exception for the toolkit and the few kinds below it.

Messages name the offending field and quote its value, in the form
``field=value must ...``, so that a CLI user sees one line that says what to fix.
"""

from __future__ import annotations

from typing import Any


class VerifyError(Exception):
    """Root of every error the toolkit raises on purpose."""


class InvalidArgument(VerifyError, ValueError):
    """A user-supplied value is malformed or outside its domain.

    >>> str(InvalidArgument("eta", -1, "must be > 0"))
    'eta=-1 must be > 0'
    """

    def __init__(self, field: str, value: Any, requirement: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}={value!r} {requirement}")


class UndecidableError(VerifyError):
    """A comparison of enclosures is not decided at the working precision.

    Raised when an UNKNOWN three-valued answer is used as a bool; the message
    names the certain/possible predicates to use instead.
    """


class HugeValue(UndecidableError, ArithmeticError):
    """An enclosure endpoint too large (or too finely divided) to expand into an exact rational.

    Arb and mpmath exponents are unbounded: a diverging GD run reaches values near ``2**(10**11)``
    within a few steps, whose exact integer would take gigabytes. Such an endpoint is refused (see
    :data:`verify.arith.base.MAX_EXACT_BITS`) instead of being converted; ``mantissa`` and
    ``exponent`` (``value = mantissa * 2**exponent``) describe it without expanding it. An
    :class:`UndecidableError`: a claim that needs such a value is inconclusive, not crashed.
    """

    def __init__(self, mantissa: int, exponent: int) -> None:
        self.mantissa, self.exponent = mantissa, exponent
        bits = abs(exponent) + mantissa.bit_length()
        super().__init__(f"an enclosure endpoint of about 2**{exponent + mantissa.bit_length()} ({bits} bits) is too "
                         "large to expand into an exact rational")
