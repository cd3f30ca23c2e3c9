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

import math
from fractions import Fraction

from verify.errors import InvalidArgument
from verify.exact import to_exact

DIVERGED = "diverged"
DEFAULT_DIVERGENCE_BOUND = 2**100
INF = float("inf")


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


class MoveBudget:
    """A running upper bound ``D_t >= max_k |theta_t[k] - theta_0[k]|`` of the *exact* GD iterates,
    which lets an engine skip the per-parameter divergence check while ``D_{t+1} <= bound``.

    With the output layer fixed (weights ``a_j``), one step moves any parameter by at most
    ``eta * A * X * max_i |l'(y_i N_i)|`` with ``A = max_j |a_j|`` and ``X = max(1, max_ik |x_ik|)``
    (``dL/dw_jk = a_j sum_i g_i [z_ij > 0] x_ik``, ``|g_i| <= |l'| / n``), and ``|l'| = e_i`` (exponential
    loss) or ``e_i / (1 + e_i) <= min(1, e_i)`` (logistic), ``e_i = exp(-y_i N_i)``. :meth:`advance`
    certifies every ``e_i < E`` on its enclosure (which holds the exact value) for a power of two
    ``E <= bound`` raised as needed, and adds the step's bound to ``D`` in doubles rounded up. While
    it returns True, no ``e_i`` is certified above the bound (so neither is the loss, see
    :meth:`verify.dynamics.gd._Kernel.loss_might_exceed`) and no parameter of ``theta_{t+1}`` can be
    certified farther than the bound from its init: both checks would say no. Once it returns False
    (a trained output layer from the start) the engine checks every step exactly, as before.
    """

    def __init__(self, problem, backend, bound: Fraction) -> None:
        from verify.arith.f64 import enclose  # numba-compiled module: loaded on first use

        net, X = problem.network, problem.data.X
        self.live = not net.trains_output and bound >= 1  # E starts at 1, and must stay <= bound
        if not self.live:
            return
        self.be, self.bound, self.logistic = backend, bound, net.loss == "logistic"
        self.arb = backend.name == "arb"
        spread = max([Fraction(1)] + [abs(v) for row in X for v in row])
        self.per_e = max(abs(a) for a in net.output_weights) * spread * problem.eta
        self.b_down, self.enclose, self.next_up = enclose(bound)[0], enclose, math.nextafter
        self.D = 0.0
        self._set(0)

    def _set(self, k: int) -> None:
        E = Fraction(2) ** k
        self.k, self.E = k, self.be.exact(E)
        self.inc = self.enclose(self.per_e * (min(E, Fraction(1)) if self.logistic else E))[1]  # rounded up

    def advance(self, expo) -> bool:
        """Certify this step's ``e_i < E`` and add its movement bound; False when that fails below
        the bound or ``D`` would pass it (the budget is then spent for good)."""
        if not self.live:
            return False
        while not self._below(expo):
            if Fraction(2) ** (self.k + 4) > self.bound:
                self.live = False
                return False
            self._set(self.k + 4)
        D = self.next_up(self.D + self.inc, INF)
        if D > self.b_down:
            self.live = False
            return False
        self.D = D
        return True

    def _below(self, expo) -> bool:
        """Every ``e_i < E``, certified on its enclosure."""
        E = self.E
        if self.arb:  # Arb's ball comparisons are certified: inline them
            for e in expo:
                if not e < E:
                    return False
            return True
        outside = self.be.outside
        return all(outside(e, E, None) for e in expo)
