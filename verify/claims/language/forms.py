"""Checking one claim of the language on one case: the seven forms, on the run and on the tail.

:class:`Program` compiles a :class:`~verify.claims.language.spec.ClaimSpec` once and checks cases.
Per form (``N`` is the run's last step; "the tail" is the paper's tail certificate, see
:mod:`verify.claims.language.tail`):

* **always / bounded** -- every step ``0..N`` is decided on the run's enclosures (an undecided
  comparison is retried in the tail's coordinates, where identities such as conservation laws
  cancel exactly). A failing step refutes, with the step and the enclosure of each side. With a
  tail, the pieces ``[N+1, 10^4), [10^4, 10^8), ..., [10^4096, oo)`` are decided on boxes, and
  steps ``10^j`` are tried as witnesses; without one the outcome is certified *for the steps run
  only* and says so (``covers``).
* **eventually** (eventually always) -- needs a tail: certified when every piece from some step on
  holds, refuted when the last piece ``[10^4096, oo)`` fails everywhere.
* **monotone** -- each step to the next over ``0..N``; a quantity the tail shows constant (no
  coordinate left in its form) is decided exactly. Never extended beyond the run.
* **limit / rate** -- need a tail; decided by the continuity and bracket arguments of the tail module.
* **pattern** -- on the certified phases (every step, whatever the records), and for every later
  step with a tail (its pattern holds for every ``t >= start``).

Invariant: a ``certified`` outcome states in ``data["covers"]`` exactly which steps it covers and
``data["every_t"]`` whether that is every ``t >= 0``; ``refuted`` carries the exact init, the step
(or the range of steps) and the enclosures that decide it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp

from verify.arith import Enclosure, Tri, get_backend
from verify.claims.claim import Case
from verify.claims.language.compile import Compiled, EnclosureOps, ExactOps, NotExact, compile_expr
from verify.claims.language.run import RunView, Undecided, brief
from verify.claims.language.spec import ClaimSpec
from verify.claims.language.symbols import Namespace, T
from verify.claims.language.tail import (
    TAU,
    BoxEvaluator,
    Piece,
    R,
    RelationForms,
    TailForm,
    ladder,
    step_text,
    to_asymptotic,
    to_coordinates,
    witness_steps,
)
from verify.claims.result import Outcome, Status
from verify.errors import UndecidableError
from verify.numbers import short

CONSTANT_DIGITS = 8
RATE_LADDER = tuple((a, b) for a in (0, -1, 1) for b in (0, -1, 1, -2, 2) if (a, b) != (0, 0)) + ((0, 0),)
_NO_TAIL = "no tail certificate for this run: nothing is claimed beyond step"


def rounded(q: Fraction, up: bool) -> Fraction:
    """``q`` rounded outward to :data:`CONSTANT_DIGITS` significant digits (still a valid bound)."""
    return Fraction(short(q, CONSTANT_DIGITS, "up" if up else "down"))


@dataclass
class QuantityForms:
    """A quantity (over a divisor ``g``) rewritten for one tail structure."""

    valid_from: int
    coord: sp.Expr
    F: Compiled  # asymptotic normal form
    F0: sp.Expr  # its value at the limit point (tau = r = 0, offsets at their limits)


class Program:
    """A compiled claim of the language (see the module docstring)."""

    def __init__(self, spec: ClaimSpec, ns: Namespace) -> None:
        self.spec, self.ns = spec, ns
        self.when = compile_expr(spec.when) if spec.when is not None else None
        self.rel = compile_expr(spec.relation) if spec.form in ("always", "eventually", "bounded") else None
        self.q = compile_expr(spec.exprs["quantity"]) if "quantity" in spec.exprs else None
        self._cache: dict[tuple, Any] = {}

    @property
    def every_step(self) -> bool:
        """Whether the claim reads every step's enclosures (pattern, limit and rate claims do not)."""
        return self.spec.form in ("always", "eventually", "monotone", "bounded")

    # --- hypotheses ---------------------------------------------------------------------------
    def admits(self, case: Case) -> bool:
        """``when`` at the exact init: exactly when possible, else on Arb enclosures (precision raised
        up to ``max_prec``); undecided raises :class:`UndecidableError` (the runner: inconclusive)."""
        if self.when is None or case.theta0 is None:
            return True
        s = case.settings
        exact = self.ns.exact_init(case.theta0, s.eta)
        needed = set(self.when.symbols)
        if needed <= set(exact):
            try:
                return self.when(ExactOps(), exact) is Tri.TRUE
            except (NotExact, ZeroDivisionError):
                pass
        prec = s.prec
        while True:
            be = get_backend("arb", prec)
            ops = EnclosureOps(be)
            with be.working_precision():
                vals = {sym: ops.enter(q) for sym, q in exact.items()}
                theta0 = {n: Enclosure.of(be, q) for n, q in zip(self.ns.params, case.theta0, strict=True)}
                for sym in needed - set(vals):
                    vals[sym] = self.ns.opaque_init[sym].value(theta0, case.problem).value
                tri = self.when(ops, vals)
            if tri is not Tri.UNKNOWN:
                return tri is Tri.TRUE
            if prec >= s.max_prec:
                raise UndecidableError(f"the hypotheses 'when = {self.spec.texts['when']}' are undecided at "
                                       f"{prec} bits")
            prec = min(4 * prec, s.max_prec)

    # --- dispatch -----------------------------------------------------------------------------
    def check(self, case: Case) -> Outcome:
        view = RunView(self.ns, case)
        if tuple(case.problem.network.param_names()) != self.ns.params:
            return view.outcome(Status.INCONCLUSIVE, "the case's network has other parameters than the claim file's")
        if not view.traj.records:
            return view.outcome(Status.INCONCLUSIVE, f"GD certified no step: {view.traj.reason}")
        form = self.spec.form
        if form in ("always", "bounded"):
            return self._always(view)
        return getattr(self, f"_{form}")(view)

    # --- tail helpers -----------------------------------------------------------------------
    def _cached(self, key: tuple, build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def _relation_forms(self, tail: TailForm) -> RelationForms | None:
        return self._cached(("rel", tail.structure()), lambda: RelationForms.build(self.spec.relation, tail, self.ns))

    def _quantity_forms(self, tail: TailForm, divisor: sp.Expr | None = None, invert: bool = False,
                        minus: sp.Expr | None = None) -> QuantityForms | None:
        def build() -> QuantityForms | None:
            rewritten = to_coordinates(self.spec.exprs["quantity"], tail, self.ns)
            if rewritten is None:
                return None
            q_c, valid = rewritten
            e = q_c if minus is None else q_c - minus
            if divisor is not None:
                e = e / divisor
            if invert:
                e = 1 / e
            F = to_asymptotic(e, tail)
            limits = {TAU: 0, R: 0, **tail.offset_limits()}
            try:
                F0 = sp.simplify(F.subs(limits))
            except (ZeroDivisionError, ValueError):
                F0 = sp.nan
            return QuantityForms(valid, q_c, compile_expr(F), F0)

        return self._cached(("q", tail.structure(), divisor, invert, minus), build)

    def _fallback(self, view: RunView, rec) -> Tri:
        """An undecided step retried in the tail's coordinates (exact identities cancel there)."""
        tail = view.tail()
        if tail is None or rec.t < tail.start:
            return Tri.UNKNOWN
        forms = self._relation_forms(tail)
        if forms is None or rec.t < forms.valid_from:
            return Tri.UNKNOWN
        with view.be.working_precision():
            coords = tail.coords_of(view.traj.enclosures(rec))
            return forms.at_point(view.ops, view.coords_values(tail, coords, rec.t))

    def _point(self, view: RunView, tail: TailForm, forms: RelationForms, t: int,
               sides: bool = True) -> tuple[Tri, dict[str, str]]:
        """The relation at an exact step ``t >= T`` from the tail's band, and (when asked) each side's
        enclosure there."""
        with view.be.working_precision():
            vals = view.coords_values(tail, tail.band(t), t)
            tri = forms.at_point(view.ops, vals)
            if not sides:
                return tri, {}

            def side(compiled: Compiled) -> Any:
                key = ("side", tail.structure(), compiled.expr)
                c = self._cached(key, lambda: to_coordinates(compiled.expr, tail, self.ns))
                if c is None:
                    raise Undecided("no tail form")
                return self._cached(key + ("compiled",), lambda: compile_expr(c[0]))(view.ops, vals)

            return tri, view.sides(self.spec.relation, side)

    def _pieces(self, view: RunView, tail: TailForm, valid_from: int) -> tuple[list[Piece], int]:
        start = max(tail.first_T0, valid_from, view.last + 1)
        return ladder(start), start

    # --- always / bounded ---------------------------------------------------------------------
    def _run_relation(self, view: RunView) -> tuple[list[Tri], Outcome | None]:
        tris: list[Tri] = []
        for rec in view.traj.records:
            tri = view.relation_at(self.rel, rec)
            if tri is Tri.UNKNOWN:
                tri = self._fallback(view, rec)
            if tri is Tri.FALSE:
                sides = view.sides(self.spec.relation, lambda c, rec=rec: view.at(c, rec))
                return tris, view.outcome(
                    Status.REFUTED, f"fails at step t = {rec.t}: " + _sides_text(sides),
                    {"t": str(rec.t), **sides}, step=rec.t)
            tris.append(tri)
        return tris, None

    def _always(self, view: RunView) -> Outcome:
        tris, refuted = self._run_relation(view)
        if refuted is not None:
            return refuted
        undecided = [r.t for r, tri in zip(view.traj.records, tris, strict=True) if tri is Tri.UNKNOWN]
        if not view.traj.certified:
            return view.outcome(Status.INCONCLUSIVE, f"holds or is undecided at the certified steps {view.covers()}; "
                                f"GD "
                                f"is not certified beyond ({view.traj.reason})", covers=view.covers())
        if undecided:
            return view.outcome(Status.INCONCLUSIVE, f"undecided at {len(undecided)} of the steps {view.covers()} "
                                f"(first t = {undecided[0]}); raise --prec or use --backend arb",
                                undecided_steps=len(undecided), first_undecided=undecided[0])
        covers = view.covers()
        tail = view.tail()
        if tail is None:
            return view.outcome(Status.CERTIFIED, f"holds at every step {covers} ({_NO_TAIL} {view.last})",
                                covers=covers, every_t=False)
        forms = self._relation_forms(tail)
        if forms is None:
            return view.outcome(Status.CERTIFIED, f"holds at every step {covers} (the tail certificate has no "
                                f"symbolic form of a quantity used: nothing is claimed beyond step {view.last})",
                                covers=covers, every_t=False)
        pieces, start = self._pieces(view, tail, forms.valid_from)
        ev = BoxEvaluator(tail, view.tail_fixed())
        results = [ev.decide(lambda vals: forms.on_box(ev.ops, vals), p) for p in pieces]
        for piece, res in zip(pieces, results, strict=True):
            if res is Tri.FALSE:
                return self._tail_refutation(view, tail, forms, piece.T_lo, f"fails at every step {piece.text()}")
        if any(r is not Tri.TRUE for r in results):
            for t in witness_steps(start - 1):
                tri, _ = self._point(view, tail, forms, t, sides=False)
                if tri is Tri.FALSE:
                    _, sides = self._point(view, tail, forms, t)
                    return view.outcome(Status.REFUTED, f"fails at step t = {step_text(t)} (tail certificate band): "
                                        + _sides_text(sides), {"t": step_text(t), **sides}, step=step_text(t))
        prefix = 0
        while prefix < len(results) and results[prefix] is Tri.TRUE:
            prefix += 1
        gap = start > view.last + 1
        if prefix == len(results) and not gap and view.every_step:
            return view.outcome(Status.CERTIFIED, f"holds at every step t >= 0: the run's steps {covers}, and every "
                                f"t >= {start} by the tail certificate ({len(pieces)} pieces up to oo)",
                                covers="every t >= 0", every_t=True, run_covers=covers)
        if prefix == len(results) and not gap:  # every t beyond the run, but the run's records are sparse
            return view.outcome(Status.CERTIFIED, f"holds at {covers} and, by the tail certificate, at every step "
                                f"t >= {start}; the steps between the records are not claimed",
                                covers=f"{covers}, and every t >= {start}", every_t=False)
        if gap or prefix == 0:
            reason = f"steps {view.last + 1} <= t < {start} are not covered" if gap else \
                f"undecided on {pieces[0].text()}"
            return view.outcome(Status.CERTIFIED, f"holds at every step {covers}; beyond step {view.last} the tail "
                                f"certificate does not decide it ({reason})", covers=covers, every_t=False)
        upto = pieces[prefix].T_lo if prefix < len(pieces) else None
        return view.outcome(Status.CERTIFIED, f"holds at every step {covers} and, by the tail certificate, every "
                            f"step {start} <= t < {step_text(upto)}; undecided on {pieces[prefix].text()}",
                            covers=f"0 <= t < {step_text(upto)}" if view.every_step else covers, every_t=False)

    def _tail_refutation(self, view: RunView, tail: TailForm, forms: RelationForms, t: int, why: str) -> Outcome:
        tri, sides = self._point(view, tail, forms, t)
        return view.outcome(Status.REFUTED, f"{why} (tail certificate); at t = {step_text(t)}: " + _sides_text(sides),
                            {"t": step_text(t), **sides}, step=step_text(t),
                            witness_decided_at_t=str(tri is Tri.FALSE).lower())

    # --- eventually ---------------------------------------------------------------------------
    def _eventually(self, view: RunView) -> Outcome:
        tris = [view.relation_at(self.rel, rec) for rec in view.traj.records]
        tris = [self._fallback(view, rec) if tri is Tri.UNKNOWN else tri
                for rec, tri in zip(view.traj.records, tris, strict=True)]
        k = len(tris)
        while k > 0 and tris[k - 1] is Tri.TRUE:
            k -= 1
        streak = view.traj.records[k].t if k < len(tris) else None
        run_text = (f"holds at every step {streak} <= t <= {view.last}" if streak is not None
                    else f"does not hold (or is undecided) at the last step {view.last}")
        tail = view.tail()
        forms = self._relation_forms(tail) if tail is not None else None
        if tail is None or forms is None:
            why = ("no tail certificate for this run" if tail is None
                   else "the tail certificate has no form for a quantity")
            return view.outcome(Status.INCONCLUSIVE, f"{run_text}; 'eventually always' is not decided by finitely many "
                                f"steps ({why})", holds_from_in_run=streak)
        pieces, start = self._pieces(view, tail, forms.valid_from)
        ev = BoxEvaluator(tail, view.tail_fixed())
        results = [ev.decide(lambda vals: forms.on_box(ev.ops, vals), p) for p in pieces]
        a = len(results)
        while a > 0 and results[a - 1] is Tri.TRUE:
            a -= 1
        if a < len(results):
            contiguous = a == 0 and start == view.last + 1 and streak is not None and view.every_step
            holds_from = streak if contiguous else pieces[a].T_lo
            return view.outcome(Status.CERTIFIED, f"holds at every step t >= {step_text(holds_from)} ({run_text} in "
                                f"the run; every t >= {step_text(pieces[a].T_lo)} by the tail certificate)",
                                covers=f"every t >= {step_text(holds_from)}", every_t=True,
                                holds_from=step_text(holds_from))
        if results[-1] is Tri.FALSE:
            return self._tail_refutation(view, tail, forms, pieces[-1].T_lo,
                                         f"fails at every step {pieces[-1].text()}, so it never holds for ever")
        return view.outcome(Status.INCONCLUSIVE, f"{run_text}; undecided on {pieces[-1].text()} by the tail "
                            "certificate", holds_from_in_run=streak)

    # --- monotone -----------------------------------------------------------------------------
    def _monotone(self, view: RunView) -> Outcome:
        direction = self.spec.direction
        ops = view.ops
        cmp = {"non-decreasing": lambda a, b: ops.le(a, b), "non-increasing": lambda a, b: ops.le(b, a),
               "increasing": lambda a, b: ops.lt(a, b), "decreasing": lambda a, b: ops.lt(b, a)}[direction]
        constant_from = self._constant_from(view)
        qname = self.spec.texts["quantity"]
        prev = None
        undecided: list[int] = []
        for rec in view.traj.records:
            try:
                cur = view.at(self.q, rec)
            except Undecided:
                cur = None
            if prev is not None:
                t0, a = prev
                with view.be.working_precision():
                    tri = cmp(a, cur) if (a is not None and cur is not None) else Tri.UNKNOWN
                if tri is Tri.UNKNOWN and constant_from is not None and t0 >= constant_from:
                    tri = Tri.TRUE if direction.startswith("non-") else Tri.FALSE
                if tri is Tri.FALSE:
                    cx = {"t": str(t0), "t_next": str(rec.t), f"{qname} at t": ops.text(a) if a is not None else "?",
                          f"{qname} at t_next": ops.text(cur) if cur is not None else "?"}
                    why = "is constant there (tail coordinates)" if constant_from is not None and t0 >= constant_from \
                        else f"is not {direction}"
                    return view.outcome(Status.REFUTED, f"{qname} {why} from step {t0} to {rec.t}: "
                                        f"{brief(cx[f'{qname} at t'])} then {brief(cx[f'{qname} at t_next'])}", cx,
                                        step=t0)
                if tri is Tri.UNKNOWN:
                    undecided.append(t0)
            prev = (rec.t, cur)
        if not view.traj.certified:
            return view.outcome(Status.INCONCLUSIVE, f"{direction} at the certified steps {view.covers()}; GD is not "
                                f"certified beyond ({view.traj.reason})", covers=view.covers())
        if undecided:
            return view.outcome(Status.INCONCLUSIVE, f"undecided between {len(undecided)} pairs of consecutive steps "
                                f"(first t = {undecided[0]})", undecided_steps=len(undecided),
                                first_undecided=undecided[0])
        covers = view.covers()
        return view.outcome(Status.CERTIFIED, f"{qname} is {direction} from each step to the next, {covers} "
                            f"(monotonicity beyond step {view.last} is not claimed)", covers=covers, every_t=False)

    def _constant_from(self, view: RunView) -> int | None:
        """The step from which the tail shows the quantity constant (its coordinate form has no
        coordinate and no ``t``), or ``None``."""
        tail = view.tail()
        if tail is None:
            return None
        rewritten = self._cached(("coord-q", tail.structure()),
                                 lambda: to_coordinates(self.spec.exprs["quantity"], tail, self.ns))
        if rewritten is None:
            return None
        q_c, valid = rewritten
        moving = set(tail.coordinates) | {T} | set(tail.constant_values())
        return valid if not (q_c.free_symbols & moving) else None

    def _pattern(self, view: RunView) -> Outcome:
        return check_pattern(self.spec, view)

    # --- limit --------------------------------------------------------------------------------
    def _limit(self, view: RunView) -> Outcome:
        ell = self.spec.exprs["to"]
        ell_c = compile_expr(ell)
        with view.be.working_precision():
            ell_val = ell_c(view.ops, view.tail_fixed())
        tail = view.tail()
        if tail is None:
            return self._no_tail(view, "a limit", ell_val)
        qf = self._quantity_forms(tail)
        if qf is None:
            return view.outcome(Status.INCONCLUSIVE, "the tail certificate has no symbolic form for a quantity used")
        pieces, start = self._pieces(view, tail, qf.valid_from)
        last = pieces[-1]
        ev = BoxEvaluator(tail, view.tail_fixed())
        ops = ev.ops
        qname, ltext = self.spec.texts["quantity"], self.spec.texts["to"]
        with view.be.working_precision():
            bracket = ev.enclose(qf.F, last)
        if ops.finite(bracket):
            diff0 = qf.F0 - ell
            fixed = {**view.tail_fixed(), **{s: v.value for s, v in tail.constant_values().items()}}
            with view.be.working_precision():
                limit_val = compile_expr(qf.F0)(ops, fixed) if qf.F0.is_finite is not False else None
            limit_text = ops.text(limit_val) if limit_val is not None else str(qf.F0)
            T0 = step_text(last.T_lo)
            common = {"limit": limit_text, "limit_form": str(qf.F0), "T0": T0, f"{qname} for every t >= T0":
                      ops.text(bracket)}
            with view.be.working_precision():
                outside = ops.lt(bracket, ell_val) is Tri.TRUE or ops.lt(ell_val, bracket) is Tri.TRUE
            if outside:  # a bracket valid for every t >= T0 that excludes the claimed limit
                return view.outcome(
                    Status.REFUTED, f"{qname} does not tend to {ltext} = {brief(ops.text(ell_val))}: for every "
                    f"t >= {T0} it lies in {brief(ops.text(bracket))} (tail certificate), which excludes it",
                    {"t": f">= {T0}", f"{qname} for every t >= {T0}": ops.text(bracket), "limit": limit_text,
                     "claimed": ops.text(ell_val)}, T0=T0)
            if self._exact_zero(diff0, view):
                return view.outcome(
                    Status.CERTIFIED, f"{qname} -> {ltext} = {brief(ops.text(ell_val))}: for every t >= {T0} {qname} "
                    f"lies in {brief(ops.text(bracket))} (tail certificate), its tail form is continuous there and its "
                    f"value at t = oo, {qf.F0}, is {ltext} (sympy)", covers="t -> oo", every_t=True, **common)
            with view.be.working_precision():
                d = compile_expr(diff0)(ops, fixed)
                apart = ops.finite(d) and (ops.lt(d, ops.const(Fraction(0))) is Tri.TRUE
                                           or ops.lt(ops.const(Fraction(0)), d) is Tri.TRUE)
            if apart:
                return view.outcome(
                    Status.REFUTED, f"{qname} -> {brief(limit_text)}, not {ltext} = {brief(ops.text(ell_val))}: for "
                    f"every t >= {T0} {qname} lies in {brief(ops.text(bracket))} and its tail form is continuous "
                    f"there, "
                    f"with value {qf.F0} at t = oo (tail certificate)",
                    {"t": f">= {T0}", f"{qname} for every t >= {T0}": ops.text(bracket), "limit": limit_text,
                     "claimed": ops.text(ell_val), "limit - claimed": ops.text(d)}, T0=T0)
            return view.outcome(Status.INCONCLUSIVE, f"{qname} -> {brief(limit_text)} (continuous tail form, "
                                f"{brief(ops.text(bracket))} for t >= {T0}); equality with {ltext} = "
                                f"{brief(ops.text(ell_val))} is not decided", **common)
        inv = self._quantity_forms(tail, invert=True, minus=ell)
        if inv is not None:
            with view.be.working_precision():
                b = ev.enclose(inv.F, last)
            if ops.finite(b):
                return view.outcome(
                    Status.REFUTED, f"{qname} stays away from {ltext} = {brief(ops.text(ell_val))}: for every t >= "
                    f"{step_text(last.T_lo)}, 1/({qname} - ({ltext})) lies in {brief(ops.text(b))} (tail certificate), "
                    f"so |{qname} - ({ltext})| >= 1/{short(max(abs(x) for x in ops.endpoints(b)), 6, 'up')}",
                    {"t": f">= {step_text(last.T_lo)}", f"1/({qname} - claimed) for every t >= T0": ops.text(b),
                     "claimed": ops.text(ell_val)}, T0=step_text(last.T_lo))
        return view.outcome(Status.INCONCLUSIVE, f"the tail form of {qname} is not finite up to t = oo and no bracket "
                            f"separates it from {ltext}")

    def _exact_zero(self, diff0: sp.Expr, view: RunView) -> bool:
        """Whether sympy proves ``diff0 == 0`` for every init, or at this case's exact init."""
        if diff0 == 0:
            return True
        exact = {s: sp.Rational(q.numerator, q.denominator)
                 for s, q in self.ns.exact_init(view.case.theta0, view.case.settings.eta).items()}
        if not diff0.free_symbols <= set(exact):
            return False
        try:
            return sp.simplify(diff0.xreplace(exact)) == 0
        except (TypeError, ValueError):
            return False

    def _no_tail(self, view: RunView, what: str, claimed: Any = None) -> Outcome:
        rec = view.traj.records[-1]
        try:
            last = view.ops.text(view.at(self.q, rec))
        except Undecided:
            last = "undecided"
        extra = f"; claimed {view.ops.text(claimed)}" if claimed is not None else ""
        return view.outcome(Status.INCONCLUSIVE, f"{what} is not decided by finitely many steps and this run has no "
                            f"tail certificate (at the last step {rec.t}: {self.spec.texts['quantity']} in "
                            f"{brief(last)}{extra})")

    # --- rate -----------------------------------------------------------------------------------
    def _rate(self, view: RunView) -> Outcome:
        g = self.spec.exprs["like"]
        tail = view.tail()
        if tail is None:
            return self._no_tail(view, "a rate")
        qf = self._quantity_forms(tail, divisor=g)
        if qf is None:
            return view.outcome(Status.INCONCLUSIVE, "the tail certificate has no symbolic form for a quantity used")
        pieces, start = self._pieces(view, tail, qf.valid_from)
        ev = BoxEvaluator(tail, view.tail_fixed())
        ops = ev.ops
        qname, gtext = self.spec.texts["quantity"], self.spec.texts["like"]
        brackets = [self._hull(ev, qf.F, p) for p in pieces]
        for a in range(len(pieces)):
            hull = self._union(ops, brackets[a:])
            if hull is None:
                continue
            lo, hi = hull
            if lo > 0 or hi < 0:
                c, C = rounded(lo, up=False), rounded(hi, up=True)
                return view.outcome(
                    Status.CERTIFIED, f"{qname} = Theta({gtext}): {short(c, CONSTANT_DIGITS)} * ({gtext}) <= "
                    f"{qname} <= "
                    f"{short(C, CONSTANT_DIGITS)} * ({gtext}) for every t >= {step_text(pieces[a].T_lo)} (tail "
                    f"certificate)", covers=f"every t >= {step_text(pieces[a].T_lo)}", every_t=True,
                    c=str(c), C=str(C), T0=step_text(pieces[a].T_lo))
        last = pieces[-1]
        refute = self._rate_refutation(view, tail, ev, last, qf, g)
        if refute is not None:
            return refute
        return view.outcome(Status.INCONCLUSIVE, f"({qname})/({gtext}) is not bracketed away from 0 and oo by the tail "
                            f"certificate (last piece {last.text()})")

    def _hull(self, ev: BoxEvaluator, F: Compiled, piece: Piece, splits: int = 8) -> tuple[Fraction, Fraction] | None:
        """Exact endpoints of a hull of ``F`` over the piece (the tau range cut in ``splits``), or ``None``."""
        lo_t, hi_t = ev.tau_range(piece)
        out = None
        with ev.be.working_precision():
            for k in range(splits):
                a = lo_t + (hi_t - lo_t) * k / splits
                b = lo_t + (hi_t - lo_t) * (k + 1) / splits
                ends = ev.ops.endpoints(F(ev.ops, ev.values(piece, a, b)))
                if ends is None:
                    return None
                out = ends if out is None else (min(out[0], ends[0]), max(out[1], ends[1]))
        return out

    @staticmethod
    def _union(ops: EnclosureOps, brackets: list) -> tuple[Fraction, Fraction] | None:
        if any(b is None for b in brackets):
            return None
        return min(b[0] for b in brackets), max(b[1] for b in brackets)

    def _rate_refutation(self, view: RunView, tail: TailForm, ev: BoxEvaluator, last: Piece, qf: QuantityForms,
                         g: sp.Expr) -> Outcome | None:
        qname, gtext = self.spec.texts["quantity"], self.spec.texts["like"]
        T0 = step_text(last.T_lo)
        b = self._hull(ev, qf.F, last)
        if b is not None and self._exact_zero(qf.F0, view):
            return view.outcome(Status.REFUTED, f"({qname})/({gtext}) -> 0: its tail form is continuous for t >= {T0} "
                                f"(values in [{short(b[0], 6, 'down')}, {short(b[1], 6, 'up')}]) and 0 at t = oo, so "
                                f"{qname} is o({gtext}), not Theta({gtext})",
                                {"t": f">= {T0}", f"({qname})/({gtext}) for every t >= T0": f"[{b[0]}, {b[1]}]",
                                 "limit": "0"}, T0=T0)
        inv = self._quantity_forms(tail, divisor=g, invert=True)
        if inv is not None:
            bi = self._hull(ev, inv.F, last)
            if bi is not None and self._exact_zero(inv.F0, view):
                return view.outcome(Status.REFUTED, f"({gtext})/{qname} -> 0: its tail form is continuous for t >= "
                                    f"{T0} and 0 at t = oo, so ({qname})/({gtext}) -> oo: not Theta({gtext})",
                                    {"t": f">= {T0}", f"({gtext})/{qname} for every t >= T0": f"[{bi[0]}, {bi[1]}]",
                                     "limit": "0"}, T0=T0)
        for a, bb in RATE_LADDER:
            h = T**a * sp.log(T) ** bb
            if sp.simplify(h / g).free_symbols - {T} == set() and sp.simplify(h / g).is_constant():
                continue
            ratio = self._cached(("ratio-limit", h, g), lambda h=h: _limit_at_infinity(h / g))
            if ratio not in (0, sp.oo):
                continue
            hf = self._quantity_forms(tail, divisor=h)
            if hf is None:
                continue
            bh = self._hull(ev, hf.F, last)
            if bh is None or not (bh[0] > 0 or bh[1] < 0):
                continue
            htext = str(h)
            verdict = "o" if ratio == 0 else "omega"
            return view.outcome(
                Status.REFUTED, f"{qname} = Theta({htext}): {short(bh[0], 6, 'down')} * {htext} <= {qname} <= "
                f"{short(bh[1], 6, 'up')} * {htext} for every t >= {T0} (tail certificate), and ({htext})/({gtext}) -> "
                f"{ratio}, so ({qname})/({gtext}) -> {ratio}: not Theta({gtext})",
                {"t": f">= {T0}", f"({qname})/({htext}) for every t >= T0": f"[{bh[0]}, {bh[1]}]",
                 f"({htext})/({gtext}) as t -> oo": str(ratio)}, T0=T0, rate=htext, relation=verdict)
        return None


def _limit_at_infinity(e: sp.Expr) -> sp.Expr:
    try:
        return sp.limit(e, T, sp.oo)
    except (NotImplementedError, ValueError, TypeError):
        return sp.nan


def _sides_text(sides: dict[str, str]) -> str:
    return "; ".join(f"{k} = {brief(v)}" for k, v in sides.items())


# --- pattern -------------------------------------------------------------------------------------
def _matches(pattern: str, spec: str) -> bool:
    return all(s in (".", c) for c, s in zip(pattern, spec, strict=True))


def check_pattern(claim: ClaimSpec, view: RunView) -> Outcome:
    """A pattern claim on the run's certified phases (every step) and the tail's pattern."""
    kind, spec = claim.pattern
    traj = view.traj
    phases = traj.phases
    last = traj.steps_done
    tail = view.tail()
    forever = None if tail is None else (tail.start, tail.pattern)
    cert_text = f"the certified steps 0 <= t <= {last}"
    beyond = "" if traj.certified else f"; GD is not certified beyond ({traj.reason})"
    if kind == "enters":
        hit = next(((t, p) for t, p in phases if _matches(p, spec)), None)
        if hit is not None:
            return view.outcome(Status.CERTIFIED, f"enters {hit[1]} (matches {spec}) at step {hit[0]}",
                                covers=f"0 <= t <= {hit[0]}", every_t=True, step=hit[0])
        if forever is not None and not _matches(forever[1], spec):
            return view.outcome(Status.REFUTED, f"never enters {spec}: not in {cert_text}, and in {forever[1]} at "
                                f"every "
                                f"step t >= {forever[0]} (tail certificate)",
                                {"t": f">= {forever[0]}", "pattern for every t >= start": forever[1]}, step=forever[0])
        return view.outcome(Status.INCONCLUSIVE, f"does not enter {spec} in {cert_text}{beyond}")
    if kind == "avoids":
        hit = next(((t, p) for t, p in phases if _matches(p, spec)), None)
        if hit is not None:
            return view.outcome(Status.REFUTED, f"visits {hit[1]} (matches {spec}) at step {hit[0]}",
                                {"t": str(hit[0]), "pattern": hit[1]}, step=hit[0])
        if not traj.certified:
            return view.outcome(Status.INCONCLUSIVE, f"avoids {spec} in {cert_text}{beyond}")
        if forever is not None and not _matches(forever[1], spec):
            return view.outcome(Status.CERTIFIED, f"never visits {spec}: not in {cert_text}, and in {forever[1]} for "
                                f"every t >= {forever[0]} (tail certificate)", covers="every t >= 0", every_t=True)
        return view.outcome(Status.CERTIFIED, f"never visits {spec} in {cert_text} (nothing is claimed beyond)",
                            covers=f"0 <= t <= {last}", every_t=False)
    # never_leaves
    k = next((i for i, (_, p) in enumerate(phases) if _matches(p, spec)), None)
    if k is None:
        after = (f", nor later: in {forever[1]} for every t >= {forever[0]} (tail certificate)"
                 if forever is not None and not _matches(forever[1], spec) else "")
        return view.outcome(Status.NOT_ADMITTED, f"the run never visits {spec} in {cert_text}{after}")
    t_enter = phases[k][0]
    for t, p in phases[k + 1:]:
        if not _matches(p, spec):
            return view.outcome(Status.REFUTED, f"entered {phases[k][1]} at step {t_enter} and left {spec} for {p} at "
                                f"step {t}", {"t_enter": str(t_enter), "t_leave": str(t), "next_pattern": p}, step=t)
    if not traj.certified:
        return view.outcome(Status.INCONCLUSIVE, f"in {spec} from step {t_enter} to {last}{beyond}")
    if forever is not None and _matches(forever[1], spec):
        return view.outcome(Status.CERTIFIED, f"in {spec} from step {t_enter} on, for every t (the run to step {last}; "
                            f"{forever[1]} for every t >= {forever[0]} by the tail certificate)",
                            covers=f"every t >= {t_enter}", every_t=True, t_enter=t_enter)
    return view.outcome(Status.CERTIFIED, f"in {spec} from step {t_enter} to the last step {last} (nothing is claimed "
                        "beyond)", covers=f"{t_enter} <= t <= {last}", every_t=False, t_enter=t_enter)

