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
