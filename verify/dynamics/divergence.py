"""Certified divergence: the step at which GD's loss or a parameter provably exceeds a bound.

A run *diverges* at step ``t`` (status :data:`DIVERGED`) when the enclosure of ``L(theta_t)``
lies entirely above ``bound`` or some parameter has certainly moved farther than ``bound`` from its
initial value (certified as ``|theta_t[k]| > bound + |theta_0[k]|`` on the whole enclosure, a
comparison of balls; an init that is itself huge, e.g. ``w1 = 1e400``, is not divergence). That is
a certified fact about the exact GD iterate (e.g. the loss is at least ``bound`` at step ``t``), not
a failure to decide: the run stops there because what follows is astronomically large (exponents of
``10^11`` bits within a few steps for paper B's shape at ``eta = 1/5``) and converting such values
to exact rationals costs memory without bound.

``bound`` (the keyword ``divergence_bound`` of :func:`~verify.dynamics.gd.run_gd`,
:func:`~verify.dynamics.wide.run_matrix`, :func:`~verify.dynamics.engines.certified_gd` and
:class:`~verify.dynamics.sweep.SweepSpec`) defaults to :data:`DEFAULT_DIVERGENCE_BOUND`
(``2**100``); ``None`` disables the check.
"""

from __future__ import annotations

from fractions import Fraction

from verify.errors import InvalidArgument
from verify.exact import to_exact

DIVERGED = "diverged"
DEFAULT_DIVERGENCE_BOUND = 2**100


class Diverged(Exception):
    """Raised inside an engine's step loop: ``what`` was certified to exceed the bound at ``step``."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"step {step}: {what}")
        self.step = step
        self.what = what


def check_bound(bound: object) -> Fraction | None:
    """A divergence bound as an exact positive rational (None: no check)."""
    if bound is None:
        return None
    q = to_exact(bound, "divergence_bound")
    if q <= 0:
        raise InvalidArgument("divergence_bound", bound, "must be > 0 (or None to disable the check)")
    return q


def bound_text(bound: Fraction) -> str:
    """``2**100`` for a power of two, else the rational (short for people, exact for machines)."""
    if bound.denominator == 1 and bound.numerator > 0 and bound.numerator & (bound.numerator - 1) == 0:
        return f"2**{bound.numerator.bit_length() - 1}"
    return str(bound)


def loss_reason(bound: Fraction) -> str:
    return f"the loss is certified > {bound_text(bound)} (GD diverges)"


def param_reason(name: str, bound: Fraction) -> str:
    return f"{name} moved farther than {bound_text(bound)} from its init, certified (GD diverges)"
