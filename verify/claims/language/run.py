"""One certified run as a claim of the language reads it: values of every symbol at every step.

:class:`RunView` wraps a :class:`~verify.claims.claim.Case`: the exact init (``w1_0``, ..., ``eta``
as Fractions), the certified trajectory's enclosures at each recorded step (parameters, ``L``, the
paper's opaque quantities via ``Quantity.value``), and the paper's tail certificate when it has one.
It also says which steps the records cover: a claim of the language needs *every* step (its
``Claim.every_step`` asks the runner to record with stride 1); with fewer records the outcome
says it covers only the recorded steps.

Invariant: every value handed to an expression is an enclosure (or exact rational) of the exact
quantity at that step; a quantity whose computation is undecided makes that step undecided.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp

from verify.arith import Enclosure, Tri
from verify.claims.claim import Case
from verify.claims.language.compile import Compiled, EnclosureOps, compile_expr
from verify.claims.language.parse import relation_atoms
from verify.claims.language.symbols import LOSS, Namespace, T, param_symbol
from verify.claims.language.tail import TailForm
from verify.claims.result import Outcome, Status
from verify.dynamics.trajectory import StepRecord, Trajectory
from verify.errors import UndecidableError
from verify.numbers import short, short_interval


def brief(value: str, digits: int = 10) -> str:
    """An exact value as written in outcomes (``"p/q"`` or ``"[lo, hi]"``) as short decimals, rounded
    outward (the printed interval contains the exact one); anything else unchanged."""
    text = value.strip()
    try:
        if text.startswith("[") and text.endswith("]") and "," in text:
            lo, hi = (Fraction(x.strip()) for x in text[1:-1].split(","))
            return short_interval(lo, hi, digits)
        q = Fraction(text)
        return text if len(text) <= digits + 2 else short(q, digits)
    except (ValueError, ZeroDivisionError):
        return value


class Undecided(Exception):
    """A value at one step could not be computed (e.g. a geometric case split not certified)."""


@dataclass
class RunView:
    """A case's run for the language (see the module docstring)."""

    ns: Namespace
    case: Case
    ops: EnclosureOps = field(init=False)
    traj: Trajectory = field(init=False)
    init: dict[sp.Symbol, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.traj = self.case.trajectory
        self.ops = EnclosureOps(self.traj.backend)
        exact = self.ns.exact_init(self.case.theta0, self.case.settings.eta)
        with self.be.working_precision():
            self.init = {s: self.ops.enter(q) for s, q in exact.items()}
            theta0 = {n: Enclosure.of(self.be, q) for n, q in zip(self.ns.params, self.case.theta0, strict=True)}
            for sym, q in self.ns.opaque_init.items():
                try:
                    self.init[sym] = q.value(theta0, self.case.problem).value
                except UndecidableError:
                    self.init[sym] = _UNDECIDED
        self._tail: TailForm | None | bool = False

    @property
    def be(self):
        return self.traj.backend

    # --- coverage -------------------------------------------------------------------------
    @property
    def last(self) -> int:
        return self.traj.records[-1].t if self.traj.records else -1

    @property
    def every_step(self) -> bool:
        """Whether the records hold every step ``0 .. last``."""
        return all(r.t == k for k, r in enumerate(self.traj.records))

    def covers(self) -> str:
        """The steps the run's records cover, in words."""
        if not self.traj.records:
            return "no step"
        if self.every_step:
            return f"0 <= t <= {self.last}"
        return f"the {len(self.traj.records)} recorded steps of 0 <= t <= {self.last}"

    # --- values ---------------------------------------------------------------------------
    def values(self, rec: StepRecord, needed: set[sp.Symbol]) -> dict[sp.Symbol, Any]:
        """Native enclosures of the ``needed`` symbols at the recorded step ``rec``."""
        vals: dict[sp.Symbol, Any] = {}
        names = self.ns.params
        for sym in needed:
            if sym in self.init:
                v = self.init[sym]
                if v is _UNDECIDED:
                    raise Undecided(f"{sym} at the init is undecided")
                vals[sym] = v
        for name, v in zip(names, rec.theta, strict=True):
            vals[param_symbol(name)] = v
        if T in needed:
            vals[T] = self.ops.const(Fraction(rec.t))
        if LOSS in needed:
            vals[LOSS] = rec.loss
        opaque = [s for s in needed if s in self.ns.opaque]
        if opaque:
            # shared by every claim checked on this case (the trajectory is the case's)
            cache = self.case.__dict__.setdefault("_language_quantities", {})
            theta = None
            for sym in opaque:
                key = (sym, rec.t, id(self.traj))
                if key not in cache:
                    theta = theta or self.traj.enclosures(rec)
                    try:
                        cache[key] = self.ns.opaque[sym].value(theta, self.case.problem).value
                    except UndecidableError as exc:
                        cache[key] = Undecided(f"{sym} at step {rec.t}: {exc}")
                value = cache[key]
                if isinstance(value, Undecided):
                    raise value
                vals[sym] = value
        return vals

    def at(self, compiled: Compiled, rec: StepRecord) -> Any:
        """``compiled`` at the recorded step (raises :class:`Undecided`)."""
        with self.be.working_precision():
            return compiled(self.ops, self.values(rec, set(compiled.symbols)))

    def relation_at(self, compiled: Compiled, rec: StepRecord) -> Tri:
        try:
            return self.at(compiled, rec)
        except Undecided:
            return Tri.UNKNOWN

    def sides(self, relation: sp.Basic, values_of) -> dict[str, str]:
        """Each side of each comparison in ``relation``, as exact enclosures (for counterexamples);
        ``values_of(compiled)`` evaluates one side."""
        out: dict[str, str] = {}
        for atom in relation_atoms(relation):
            for side in (atom.lhs, atom.rhs):
                key = str(side)
                if key in out or side.is_Number:  # a constant side reads in the relation itself
                    continue
                try:
                    out[key] = self.ops.text(values_of(_compiled_side(side)))
                except (Undecided, UndecidableError, ArithmeticError) as exc:
                    out[key] = f"undecided ({exc})"
        return out

    # --- the tail ---------------------------------------------------------------------------
    def tail(self) -> TailForm | None:
        """The paper's tail certificate for this run (``None`` without one); computed once."""
        if self._tail is False:
            tail = None
            if self.traj.certified and self.traj.records:
                try:
                    tail = self.case.settings.plugin.tail_certificate(self.traj)
                except UndecidableError:
                    tail = None
            self._tail = tail if isinstance(tail, TailForm) else None
        return self._tail

    def tail_fixed(self) -> dict[sp.Symbol, Any]:
        """Values of the symbols fixed along the run (init, ``eta``, opaque init quantities)."""
        return {s: v for s, v in self.init.items() if v is not _UNDECIDED}

    def coords_values(self, tail: TailForm, coords: Mapping[sp.Symbol, Enclosure], t: int) -> dict[sp.Symbol, Any]:
        """Values for a coordinate-form expression at step ``t``: coordinates, constants, ``t``, init."""
        vals = {**self.tail_fixed(), **{s: v.value for s, v in tail.constant_values().items()}}
        vals.update({s: v.value for s, v in coords.items()})
        vals[T] = self.ops.const(Fraction(t))
        return vals

    # --- outcomes ---------------------------------------------------------------------------
    def outcome(self, status: Status, detail: str, cx: dict[str, str] | None = None, **data: Any) -> Outcome:
        """An outcome at this run's precision; a refutation's counterexample starts with the exact init."""
        counterexample = None
        if status is Status.REFUTED:
            counterexample = {**{n: str(q) for n, q in zip(self.ns.params, self.case.theta0, strict=True)},
                              **(cx or {})}
        return Outcome(status, detail, self.traj.prec, counterexample,
                       {k: v for k, v in data.items() if v is not None})


_SIDES: dict[sp.Basic, Compiled] = {}


def _compiled_side(side: sp.Basic) -> Compiled:
    if side not in _SIDES:
        _SIDES[side] = compile_expr(side)
    return _SIDES[side]


class _Undecided:
    def __repr__(self) -> str:
        return "<undecided>"


_UNDECIDED = _Undecided()
