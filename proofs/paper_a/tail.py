r"""Paper A's tail certificate for the claim language: every step of a run that ends in F.

:func:`tail_certificate` (wired as ``PaperA.tail_certificate``) returns a
:class:`~verify.claims.language.tail.TailForm` for a certified run whose last step ``T`` is
certified in F = ``1001`` (exponential loss), built from the closed-form bands of
:mod:`proofs.paper_a.certificate`. Its statements, with the proofs they rest on:

* **Pattern and coordinates** (from ``start``, the first step of the run's final F phase). F is
  forward-invariant and in F ``u <- u + eta e^{-u}``, ``v <- v + eta e^{-v}``, ``c1 = w1 - b1`` and
  ``c2 = w2 + b2`` constant (certificate.py, module docstring; checked by ``symbolic_identities``).
  So for every ``t >= start`` the pattern is F and ``w1 = (u + c1)/2``, ``b1 = (u - c1)/2``,
  ``w2 = (c2 - v)/2``, ``b2 = (v + c2)/2`` with the coordinates ``u = w1 + b1``, ``v = b2 - w2``.
  The constants are the exact ``c1 = w1_0 - b1_0``, ``c2 = w2_0 + b2_0`` (sympy expressions of the
  init) when the run is in F from step 0, else the enclosures at ``T`` (conserved since ``start``).
* **Quantity forms.** ``L = (e^{-u} + e^{-v})/2`` for every ``t >= start`` (in F ``y1 Phi(x1) = u``,
  ``y2 Phi(x2) = v``). ``margin = 1 - |b2 - b1|/(w1 - w2) = 1 - |c1 + c2 + v - u|/(u + v + c1 - c2)``
  for every ``t >= T_deg`` (``Certificate.degenerate_vanish_step``: past it the kinks are ordered and
  the decision boundary is the single point ``x* = N/D``, so ``gamma* - gamma = |x*|``, ``gamma* = 1``).
* **Band.** ``band(t)`` is ``Certificate.band``: enclosures of ``u_t, v_t`` for every exact ``t >= T``
  (Lemma B of certificate.py).
* **Asymptotics.** ``u_t = ln t + e_u(t)``, ``v_t = ln t + e_v(t)`` (``alpha = 1``); for every
  ``T0 >= max(T + 1, 2)`` and every ``t >= T0``, ``lam_u(T0) <= e_u(t) <= Lam_u(T0)`` (Lemma C:
  ``ScalarBand.lam`` / ``ScalarBand.Lam``), likewise for ``v``, and both bounds tend to ``ln eta``
  as ``T0 -> oo`` (Lemma C), so ``e_u(t), e_v(t) -> ln eta``.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import sympy as sp

from proofs.paper_a.certificate import Certificate, NotInF, state_from_trajectory
from verify.arith import Enclosure
from verify.claims.language.symbols import ETA, init_symbol
from verify.claims.language.tail import TailForm
from verify.dynamics.trajectory import Trajectory
from verify.errors import UndecidableError

F_PATTERN = "1001"
U, V = sp.Symbol("paper_a_u", real=True), sp.Symbol("paper_a_v", real=True)
E_U, E_V = sp.Symbol("paper_a_e_u", real=True), sp.Symbol("paper_a_e_v", real=True)
C1, C2 = sp.Symbol("paper_a_c1", real=True), sp.Symbol("paper_a_c2", real=True)


class PaperATail(TailForm):
    """The tail of a run ending in F (see the module docstring for what it states and why)."""

    coordinates = (U, V)
    growth = {U: (sp.Integer(1), E_U), V: (sp.Integer(1), E_V)}
    pattern = F_PATTERN

    def __init__(self, traj: Trajectory) -> None:
        state = state_from_trajectory(traj)  # NotInF unless the last step is certified F, exponential loss
        if not state.in_f():
            raise NotInF("state", "enclosures", "are not certified inside F")
        self.cert = Certificate(state)
        self.T = state.T
        self.start = traj.phases[-1][0]
        self.first_T0 = max(self.T + 1, 2)
        self.backend = state.backend
        if state.c_exact is not None:
            w1, b1, w2, b2 = (init_symbol(n) for n in ("w1", "b1", "w2", "b2"))
            self.constants = {C1: w1 - b1, C2: w2 + b2}
        else:
            self.constants = {C1: state.c1, C2: state.c2}

    def param_forms(self) -> dict[str, sp.Expr]:
        return {"w1": (U + C1) / 2, "b1": (U - C1) / 2, "w2": (C2 - V) / 2, "b2": (V + C2) / 2}

    def quantity_forms(self) -> dict[str, tuple[sp.Expr, int]]:
        forms = {"L": ((sp.exp(-U) + sp.exp(-V)) / 2, self.start)}
        tdeg = self.cert.degenerate_vanish_step()
        if tdeg is not None:
            forms["margin"] = (1 - sp.Abs((C1 + C2 + V - U) / (U + V + C1 - C2)), tdeg)
        return forms

    def coords_of(self, theta: Mapping[str, Enclosure]) -> dict[sp.Symbol, Enclosure]:
        return {U: theta["w1"] + theta["b1"], V: theta["b2"] - theta["w2"]}

    def band(self, t: int) -> dict[sp.Symbol, Enclosure]:
        u, v = self.cert.band(t)
        return {U: u, V: v}

    def box(self, T0: int) -> dict[sp.Symbol, tuple[Fraction, Fraction]]:
        ub, vb = self.cert.u_band, self.cert.v_band
        return {E_U: (ub.lam(T0), ub.Lam(T0)), E_V: (vb.lam(T0), vb.Lam(T0))}

    def offset_limits(self) -> dict[sp.Symbol, sp.Expr]:
        return {E_U: sp.log(ETA), E_V: sp.log(ETA)}


def tail_certificate(traj: Trajectory) -> PaperATail | None:
    """The tail of a certified run whose last step is certified in F (exponential loss), else ``None``."""
    if not traj.certified or not traj.records or traj.final.pattern != F_PATTERN:
        return None
    if traj.problem.network.loss != "exponential":
        return None
    try:
        return PaperATail(traj)
    except (NotInF, UndecidableError):
        return None
