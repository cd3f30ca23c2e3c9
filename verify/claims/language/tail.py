r"""Claims about EVERY step beyond the run, from a paper's tail certificate.

A paper may certify what its runs do after the last step (``Paper.tail_certificate``). The language
reads such a certificate through the :class:`TailForm` interface below and decides claims for every
``t >= T0`` by the following argument.

**Coordinates.** From step ``start`` on, the state is a known function of a few *coordinates*
(``u, v`` for paper A) and *constants* (``c1, c2``): each parameter and each needed quantity has a
sympy form in them. A claim expression rewritten in coordinates (:func:`to_coordinates`) has the
same value as the original at every step ``t >= start`` (at every ``t >= valid_from`` of the forms
used). At a given step the coordinates come from the run's enclosures or from the certificate's
band; when the rewritten difference ``lhs - rhs`` cancels to 0 (an identity such as a conservation
law) the relation is decided exactly even though the enclosures are not points.

**Asymptotic form.** Each coordinate grows like ``alpha ln t``: ``x_t = alpha ln t + e_x(t)``, and
the certificate gives, for every ``T0 >= first_T0``, intervals containing ``e_x(t)`` for *every*
``t >= T0`` (``box(T0)``), which shrink to exact limits (``offset_limits``). Writing ``t = e^lam``,
``tau = 1/lam = 1/ln t`` and ``r = 1/t``, a claim expression becomes a function ``f(tau, r, e, c)``
(:func:`to_asymptotic`: exponentials of ``lam`` become powers of ``r``, then ``lam = 1/tau``); sympy
puts every function argument and the whole over a common denominator and cancels common factors
(:func:`normalize`), so terms such as ``(w1 - w2)/ln t`` become finite at ``tau = 0``.

For ``t`` in ``[T_lo, T_hi)`` the point ``(tau_t, r_t, e(t))`` lies in the box
``[1/ln T_hi, 1/ln T_lo] x [1/T_hi, 1/T_lo] x box(T_lo)`` (``tau = 0``, ``r = 0`` for ``T_hi = oo``).
Interval evaluation of ``f`` over the box (Arb; the tau range bisected when undecided) therefore
encloses the claim's value at every such step:

* a **relation** ``lhs op rhs`` is decided from the sign of ``d = lhs - rhs``. Its normal form is
  ``d = tau^a r^b P/Q`` with the monomial ``tau^a r^b`` (``> 0`` for every finite ``t``) split off
  (:func:`sign_parts`), so ``sign d = sign P * sign Q``: an enclosure of ``P`` and one of ``Q``
  excluding 0 decide ``d op 0`` at every step in the piece. ``P == 0`` symbolically decides ``==``.
* a **limit** ``q -> ell``: if ``f`` is finite on the box of ``[T0, oo)`` it is defined, hence
  continuous (a composition of continuous operations, each defined on the whole box), on a box
  containing both every ``(tau_t, r_t, e(t))``, ``t >= T0``, and their limit point
  ``(0, 0, e_oo)``. So ``q_t -> f(0, 0, e_oo)``, and sympy proving ``f(0, 0, e_oo) - ell == 0``
  certifies the limit. A bracket of ``q`` valid for every ``t >= T0`` that excludes ``ell``, or a
  bracket of ``1/(q - ell)`` (bounded: ``|q - ell|`` stays away from 0), refutes it.
* a **rate** ``q = Theta(g)``: a finite enclosure ``[c, C]`` of ``q/g`` over the box of
  ``[T0, oo)`` with ``c > 0`` (or ``C < 0``) gives the explicit constants for every ``t >= T0``.

Invariant: every verdict about a ``t`` beyond the run follows from the certificate's statements
(forms valid from their steps, offsets inside ``box(T0)`` for every ``t >= T0``, offsets tending to
their limits) by the arguments above; nothing is extrapolated from the run's last steps.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp

from verify.arith import Backend, Enclosure, Tri
from verify.claims.language.compile import Compiled, EnclosureOps, compile_expr
from verify.claims.language.symbols import LOSS, Namespace, T

TAU = sp.Symbol("tail_tau", positive=True)  # 1 / ln t
R = sp.Symbol("tail_r", positive=True)  # 1 / t
LAM = sp.Symbol("tail_lam", positive=True)  # ln t
LADDER_EXPONENTS = tuple(2**k for k in range(2, 13))  # pieces end at t = 10^4, 10^8, ..., 10^4096
BISECTIONS = 5  # depth of tau bisection inside a piece


class TailForm(ABC):
    """A paper's tail certificate, as the language reads it (see the module docstring).

    Obligations of an implementation (its docstring must prove them):

    * for every step ``t >= start`` the run's pattern is ``pattern`` and every parameter equals its
      :meth:`param_forms` entry at the coordinates of step ``t`` and the :attr:`constants`; every
      :meth:`quantity_forms` entry equals the quantity for every ``t >= `` its step;
    * :meth:`band` encloses the coordinates at every exact step ``t >= T``;
    * for every ``T0 >= first_T0`` and every ``t >= T0``, ``coordinate_t - alpha ln t`` lies in
      :meth:`box` ``(T0)`` (``alpha`` and the offset symbol from :attr:`growth`), and tends to
      :meth:`offset_limits` as ``t -> oo``.
    """

    T: int  # the run's last step: the certificate starts here
    start: int  # the coordinate description holds for every step t >= start (start <= T)
    pattern: str  # the certified activation pattern at every t >= start
    first_T0: int  # box(T0) is valid for T0 >= first_T0 (> T)
    coordinates: tuple[sp.Symbol, ...]
    growth: dict[sp.Symbol, tuple[sp.Rational, sp.Symbol]]  # coordinate -> (alpha, offset symbol)
    constants: dict[sp.Symbol, sp.Expr | Enclosure]  # exact: a sympy expression of the init symbols
    backend: Backend

    @abstractmethod
    def param_forms(self) -> dict[str, sp.Expr]:
        """Parameter name -> its form in coordinates and constants."""

    @abstractmethod
    def quantity_forms(self) -> dict[str, tuple[sp.Expr, int]]:
        """Quantity name (``"L"`` for the loss) -> (form in coordinates and constants, first valid step)."""

    @abstractmethod
    def coords_of(self, theta: Mapping[str, Enclosure]) -> dict[sp.Symbol, Enclosure]:
        """The coordinates of a state given by parameter enclosures (valid at steps ``>= start``)."""

    @abstractmethod
    def band(self, t: int) -> dict[sp.Symbol, Enclosure]:
        """Enclosures of the coordinates at the exact step ``t >= T``."""

    @abstractmethod
    def box(self, T0: int) -> dict[sp.Symbol, tuple[Fraction, Fraction]]:
        """Offset symbol -> exact ``[lo, hi]`` containing the offset at EVERY ``t >= T0``."""

    @abstractmethod
    def offset_limits(self) -> dict[sp.Symbol, sp.Expr]:
        """Offset symbol -> its exact limit as ``t -> oo`` (a sympy expression of ``eta`` and the init)."""

    def structure(self) -> tuple:
        """What the symbolic forms depend on (a cache key): which constants are exact expressions, and
        from which steps the quantity forms hold relative to ``start`` (computed once)."""
        if "_structure" not in self.__dict__:
            self.__dict__["_structure"] = (type(self).__name__, tuple(
                (s.name, sp.srepr(v) if isinstance(v, sp.Expr) else "enclosure") for s, v in self.constants.items()))
        return self.__dict__["_structure"]

    def constant_values(self) -> dict[sp.Symbol, Enclosure]:
        """The constants that are enclosures (the exact ones are substituted symbolically)."""
        return {s: v for s, v in self.constants.items() if not isinstance(v, sp.Expr)}


# --- the symbolic rewriting -----------------------------------------------------------------
def to_coordinates(expr: sp.Basic, tail: TailForm, ns: Namespace) -> tuple[sp.Basic, int] | None:
    """``expr`` in the tail's coordinates and the first step from which the rewriting is valid, or
    ``None`` when ``expr`` uses a quantity the tail has no form for."""
    forms = tail.quantity_forms()
    valid = tail.start
    subs: dict[sp.Symbol, sp.Expr] = {}
    for sym in expr.free_symbols:
        if sym == LOSS:
            if "L" not in forms:
                return None
            subs[sym], start = forms["L"]
            valid = max(valid, start)
        elif sym in ns.opaque:
            name = ns.opaque[sym].name
            if name not in forms:
                return None
            subs[sym], start = forms[name]
            valid = max(valid, start)
    params = {sp.Symbol(n, real=True): f for n, f in tail.param_forms().items()}
    exact = {s: v for s, v in tail.constants.items() if isinstance(v, sp.Expr)}
    out = expr.xreplace(subs).xreplace(params).xreplace(exact)
    return out, valid


def to_asymptotic(expr_c: sp.Basic, tail: TailForm) -> sp.Basic:
    """A coordinate form rewritten in ``tau = 1/ln t``, ``r = 1/t`` and the offsets (see the module doc)."""
    growth = {x: alpha * LAM + off for x, (alpha, off) in tail.growth.items()}
    e = expr_c.xreplace(growth).xreplace({T: sp.exp(LAM)})
    e = sp.expand(e, power_exp=True, mul=False, multinomial=False, log=False, basic=False)
    e = e.subs(sp.exp(LAM), 1 / R)
    e = e.xreplace({LAM: 1 / TAU})
    return normalize(e)


def _is_function(e: sp.Basic) -> bool:
    return isinstance(e, sp.Abs | sp.exp | sp.log | sp.Min | sp.Max) or (
        isinstance(e, sp.Pow) and not e.exp.is_Integer)


def normalize(expr: sp.Basic) -> sp.Basic:
    """Every function argument, then the whole, over a common denominator with common factors
    cancelled (functions held fixed as opaque symbols during the outer cancellation).

    Relations are normalised side by side. Cancelling a common factor can only extend the
    expression continuously to points where that factor vanishes."""
    if isinstance(expr, sp.core.relational.Relational):
        return expr.func(normalize(expr.lhs), normalize(expr.rhs), evaluate=False)
    if isinstance(expr, sp.And | sp.Or | sp.Not):
        return expr.func(*(normalize(a) for a in expr.args))
    if not isinstance(expr, sp.Expr):
        return expr

    def walk(e: sp.Basic) -> sp.Basic:
        if e.is_Atom:
            return e
        args = [walk(a) for a in e.args]
        if _is_function(e):
            args = [_monomial_out(a) if not a.is_Atom else a for a in args]
        if isinstance(e, sp.Min | sp.Max):
            return _min_max_out(e.func, args)
        return e.func(*args)

    e = walk(expr)
    funcs = sorted({f for f in sp.preorder_traversal(e) if _is_function(f)}, key=sp.default_sort_key)
    hold = {f: sp.Dummy(f"f{k}") for k, f in enumerate(funcs)}
    back = {d: f for f, d in hold.items()}
    return sp.cancel(sp.together(e.xreplace(hold))).xreplace(back)


def _monomial_out(e: sp.Expr) -> sp.Expr:
    """``e`` over a common denominator, with the monomials in ``tau, r`` of its numerator and
    denominator pulled out as factors (so ``Abs(tau X / Y)`` becomes ``tau Abs(X / Y)``)."""
    num, den = sp.fraction(sp.cancel(sp.together(e)))
    return _split_monomial(num) / _split_monomial(den)


def _exponent(e: sp.Expr, x: sp.Symbol) -> int:
    """The power of ``x`` that ``e`` has as a factor (``e = x^k Y``, ``Y`` free of a factor ``x``)."""
    k = 0
    for f in sp.Mul.make_args(e):
        if f == x:
            k += 1
        elif isinstance(f, sp.Pow) and f.base == x and f.exp.is_Integer:
            k += int(f.exp)
    return k


def _min_max_out(func, args: list[sp.Expr]) -> sp.Expr:
    """``min``/``max`` with the common power of ``tau`` and of ``r`` pulled out (both are > 0, and
    ``max(c x, c y) = c max(x, y)`` for ``c > 0``)."""
    factor = sp.Integer(1)
    for x in (TAU, R):
        powers = [_exponent(a, x) for a in args if a != 0]
        if powers and min(powers) != 0:
            factor *= x ** min(powers)
    if factor == 1:
        return func(*args)
    return factor * func(*(sp.cancel(a / factor) for a in args))


def _split_monomial(e: sp.Expr) -> sp.Expr:
    try:
        poly = sp.Poly(sp.expand(e), TAU, R)
    except sp.PolynomialError:
        return e
    if poly.is_zero:
        return sp.Integer(0)
    (a, b), rest = poly.terms_gcd()
    return TAU**a * R**b * rest.as_expr() if (a or b) else e


def sign_parts(diff: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """``(P, Q)`` with ``diff = tau^a r^b P / Q`` (so ``sign diff = sign P * sign Q`` at every finite step):
    the numerator and denominator of the normal form with their common monomial in ``tau, r`` split off."""
    num, den = sp.fraction(sp.cancel(sp.together(diff)))
    return _strip_monomial(num), _strip_monomial(den)


def _strip_monomial(e: sp.Expr) -> sp.Expr:
    try:
        poly = sp.Poly(sp.expand(e), TAU, R)
    except sp.PolynomialError:
        return e
    if poly.is_zero:
        return sp.Integer(0)
    (a, b), rest = poly.terms_gcd()
    return rest.as_expr() if (a or b) else e


# --- pieces of the tail -------------------------------------------------------------------
@dataclass(frozen=True)
class Piece:
    """The steps ``T_lo <= t < T_hi`` (every ``t >= T_lo`` when ``T_hi`` is None)."""

    T_lo: int
    T_hi: int | None

    def text(self) -> str:
        hi = "oo" if self.T_hi is None else step_text(self.T_hi)
        return f"{step_text(self.T_lo)} <= t < {hi}"


def step_text(t: int) -> str:
    """An exact step: decimal digits, or ``10^j`` for large powers of ten."""
    s = str(t)
    if len(s) > 12 and s[0] == "1" and set(s[1:]) == {"0"}:
        return f"10^{len(s) - 1}"
    return s


def ladder(start: int) -> list[Piece]:
    """``[start, 10^4), [10^4, 10^8), ..., [10^4096, oo)`` (powers at or below ``start`` skipped)."""
    ends = [10**j for j in LADDER_EXPONENTS if 10**j > start]
    lows = [start, *ends]
    return [Piece(lo, hi) for lo, hi in zip(lows, [*ends, None], strict=True)]


class BoxEvaluator:
    """Interval evaluation of compiled tail forms over pieces, for one tail and one init."""

    def __init__(self, tail: TailForm, fixed: Mapping[sp.Symbol, Any]) -> None:
        self.tail, self.be = tail, tail.backend
        self.ops = EnclosureOps(self.be)
        with self.be.working_precision():
            self.fixed = {s: self.ops.enter(v) for s, v in fixed.items()}
            self.fixed.update({s: v.value for s, v in tail.constant_values().items()})
        self._boxes: dict[int, dict[sp.Symbol, Any]] = {}

    def _interval(self, lo: Fraction, hi: Fraction) -> Any:
        return self.be.hull(self.be.exact(lo), self.be.exact(hi))

    def _ln_bounds(self, T: int) -> tuple[Fraction, Fraction]:
        x = self.be.log(self.be.exact(Fraction(T)))
        return self.be.lower(x), self.be.upper(x)

    def tau_range(self, piece: Piece) -> tuple[Fraction, Fraction]:
        """Exact ``[tau_lo, tau_hi]`` containing ``1/ln t`` for every step of the piece."""
        with self.be.working_precision():
            hi = 1 / self._ln_bounds(piece.T_lo)[0]
            lo = Fraction(0) if piece.T_hi is None else 1 / self._ln_bounds(piece.T_hi)[1]
        return lo, hi

    def _r_bound(self, tau: Fraction, upper: bool) -> Fraction:
        """An exact bound on ``exp(-1/tau)`` (the ``r = 1/t`` of ``tau = 1/ln t``)."""
        if tau == 0:
            return Fraction(0)
        x = self.be.exp(self.be.exact(-1 / tau))
        return self.be.upper(x) if upper else max(self.be.lower(x), Fraction(0))

    def values(self, piece: Piece, tau_lo: Fraction, tau_hi: Fraction) -> dict[sp.Symbol, Any]:
        """Enclosures of every symbol over the sub-box ``tau in [tau_lo, tau_hi]`` of ``piece``."""
        with self.be.working_precision():
            if piece.T_lo not in self._boxes:
                box = self.tail.box(piece.T_lo)
                self._boxes[piece.T_lo] = {s: self._interval(lo, hi) for s, (lo, hi) in box.items()}
            r_lo = max(self._r_bound(tau_lo, False), Fraction(0) if piece.T_hi is None else Fraction(1, piece.T_hi))
            r_hi = min(self._r_bound(tau_hi, True), Fraction(1, piece.T_lo))
            return {**self.fixed, **self._boxes[piece.T_lo], TAU: self._interval(tau_lo, tau_hi),
                    R: self._interval(r_lo, max(r_lo, r_hi))}

    def enclose(self, compiled: Compiled, piece: Piece) -> Any:
        """An enclosure of ``compiled`` over the whole piece (one box)."""
        lo, hi = self.tau_range(piece)
        with self.be.working_precision():
            return compiled(self.ops, self.values(piece, lo, hi))

    def decide(self, decide_box, piece: Piece, depth: int = BISECTIONS) -> Tri:
        """``decide_box(values) -> Tri`` over the piece, bisecting the tau range while undecided:
        TRUE (FALSE) when every sub-box gives TRUE (FALSE)."""
        lo, hi = self.tau_range(piece)
        return self._decide(decide_box, piece, lo, hi, depth)

    def _decide(self, decide_box, piece: Piece, lo: Fraction, hi: Fraction, depth: int) -> Tri:
        with self.be.working_precision():
            result = decide_box(self.values(piece, lo, hi))
        if result is not Tri.UNKNOWN or depth == 0:
            return result
        mid = (lo + hi) / 2
        left = self._decide(decide_box, piece, lo, mid, depth - 1)
        if left is Tri.UNKNOWN:
            return Tri.UNKNOWN
        right = self._decide(decide_box, piece, mid, hi, depth - 1)
        return left if right is left else Tri.UNKNOWN


# --- relations on the tail ----------------------------------------------------------------
@dataclass
class RelationForms:
    """A relation rewritten for the tail: per comparison ``lhs op rhs``, the coordinate difference
    and the asymptotic sign parts ``P, Q`` of ``lhs - rhs``; the boolean skeleton combines them."""

    valid_from: int
    skeleton: Compiled  # over one boolean placeholder per comparison
    ops: tuple[str, ...]
    coord_diffs: tuple[Compiled, ...]
    coord_zero: tuple[bool, ...]
    P: tuple[Compiled, ...]
    Q: tuple[Compiled, ...]
    P_zero: tuple[bool, ...]

    @classmethod
    def build(cls, relation: sp.Basic, tail: TailForm, ns: Namespace) -> RelationForms | None:
        rewritten = to_coordinates(relation, tail, ns)
        if rewritten is None:
            return None
        rel_c, valid = rewritten
        atoms = sorted(rel_c.atoms(sp.core.relational.Relational), key=sp.default_sort_key)
        holders = [sp.Symbol(f"atom{k}") for k in range(len(atoms))]
        skeleton = rel_c.xreplace(dict(zip(atoms, holders, strict=True)))
        ops, diffs, zeros, Ps, Qs, pz = [], [], [], [], [], []
        for atom in atoms:
            d_c = sp.cancel(sp.together(atom.lhs - atom.rhs)) if not (atom.lhs - atom.rhs).is_Atom \
                else atom.lhs - atom.rhs
            ops.append(atom.rel_op)
            zeros.append(d_c == 0)
            diffs.append(compile_expr(d_c))
            P, Q = sign_parts(to_asymptotic(atom.lhs - atom.rhs, tail))
            pz.append(P == 0)
            Ps.append(compile_expr(P))
            Qs.append(compile_expr(Q))
        return cls(valid, compile_expr(skeleton, holders), tuple(ops), tuple(diffs), tuple(zeros), tuple(Ps),
                   tuple(Qs), tuple(pz))

    def at_point(self, ops: EnclosureOps, values: Mapping[sp.Symbol, Any]) -> Tri:
        """The relation at one step, from coordinate values there (and ``t``, the init, ``eta``)."""
        tris = []
        for op, d, zero in zip(self.ops, self.coord_diffs, self.coord_zero, strict=True):
            tris.append(_compare_zero(op, None if zero else d(ops, values), ops, exact_zero=zero))
        return self.skeleton(ops, dict(zip(self.skeleton.symbols, tris, strict=True)))

    def on_box(self, ops: EnclosureOps, values: Mapping[sp.Symbol, Any]) -> Tri:
        """The relation at every step of a box (see the module docstring: signs of ``P`` and ``Q``)."""
        tris = []
        for op, P, Q, zero in zip(self.ops, self.P, self.Q, self.P_zero, strict=True):
            if zero:
                tris.append(_compare_zero(op, None, ops, exact_zero=True))
                continue
            q = Q(ops, values)
            q_pos, q_neg = ops.lt(ops.const(Fraction(0)), q), ops.lt(q, ops.const(Fraction(0)))
            if q_pos is not Tri.TRUE and q_neg is not Tri.TRUE:
                tris.append(Tri.UNKNOWN)
                continue
            p = P(ops, values)
            tris.append(_compare_zero(op, p if q_pos is Tri.TRUE else -p, ops))
        return self.skeleton(ops, dict(zip(self.skeleton.symbols, tris, strict=True)))


def _compare_zero(op: str, d: Any, ops: EnclosureOps, exact_zero: bool = False) -> Tri:
    """``d op 0`` three-valued (``exact_zero``: ``d`` is identically 0)."""
    if exact_zero:
        return Tri.TRUE if op in ("<=", ">=", "==") else Tri.FALSE
    zero = ops.const(Fraction(0))
    if op == "<":
        return ops.lt(d, zero)
    if op == "<=":
        return ops.le(d, zero)
    if op == ">":
        return ops.lt(zero, d)
    if op == ">=":
        return ops.le(zero, d)
    if op == "==":
        return ops.eq(d, zero)
    return ~ops.eq(d, zero)


def ln_enclosure(be: Backend, t: int) -> Any:
    """``ln t`` for an exact integer step (native)."""
    return be.log(be.exact(Fraction(t)))


def witness_steps(after: int) -> list[int]:
    """Exact steps ``10^j`` beyond ``after`` at which a claim is evaluated from the band."""
    first = max(1, math.floor(math.log10(max(after, 1))) + 1)
    exponents = [*range(first, 41), 48, 64, 96, 128, 192, 256, 320, 400]
    return [10**j for j in exponents if j >= first]
