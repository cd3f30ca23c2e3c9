"""Compiling a sympy quantity or relation into a function on exact numbers or on enclosures.

:func:`compile_expr` walks the sympy tree once and generates a small Python function (common
subexpressions shared via :func:`sympy.cse`) whose arithmetic is delegated to an *ops* object:

* :class:`ExactOps` evaluates on ``Fraction`` values, exactly; a transcendental function raises
  :class:`NotExact` (the caller then falls back to enclosures);
* :class:`EnclosureOps` evaluates on a backend's native enclosures (Arb balls, mpmath intervals):
  ``+ - * /`` and integer powers are the backend's own rigorous operations, ``exp``/``log`` the
  backend's, ``sqrt`` Arb's (or ``exp(log(x)/2)``), ``abs``/``min``/``max`` exact on endpoints.

Relations evaluate to :class:`~verify.arith.Tri`: on enclosures a comparison is TRUE when it holds
for every pair of points, FALSE when it fails for every pair, UNKNOWN otherwise; ``==`` is TRUE only
for two equal exact points, FALSE for disjoint enclosures. An enclosure that is not finite (a
division by an enclosure of 0, the log of a non-positive number) makes every comparison with it
UNKNOWN. ``and``/``or``/``not`` are Kleene's three-valued connectives.

Invariant: on enclosures the result contains the exact value of the expression at every point of
the inputs' enclosures; a Tri answer is TRUE (FALSE) only if the relation holds (fails) at every
such point. Rational constants are entered exactly; no float is ever used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp
from flint import arb
from sympy.logic.boolalg import BooleanFalse, BooleanTrue

from verify.arith import Backend, Tri


class NotExact(ArithmeticError):
    """The expression needs a transcendental function: it has no exact rational evaluation."""


class ExprCompileError(ValueError):
    """A sympy node the evaluator does not support (e.g. a float, ``pi``, a trigonometric function)."""


# --- the two kinds of arithmetic ------------------------------------------------------------
class ExactOps:
    """Exact rational arithmetic on ``Fraction`` values."""

    name = "exact"

    def const(self, q: Fraction) -> Fraction:
        return q

    def mul(self, *xs: Fraction) -> Fraction:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out

    def pow(self, x: Fraction, n: int) -> Fraction:
        return x**n

    def rpow(self, x: Fraction, p: int, q: int) -> Fraction:
        raise NotExact("a fractional power")

    def gpow(self, x: Fraction, y: Fraction) -> Fraction:
        raise NotExact("a symbolic power")

    def exp(self, x: Fraction) -> Fraction:
        if x == 0:
            return Fraction(1)
        raise NotExact("exp")

    def log(self, x: Fraction) -> Fraction:
        if x == 1:
            return Fraction(0)
        raise NotExact("log")

    def e(self) -> Fraction:
        raise NotExact("the constant e")

    def abs(self, x: Fraction) -> Fraction:
        return abs(x)

    def min(self, *xs: Fraction) -> Fraction:
        return min(xs)

    def max(self, *xs: Fraction) -> Fraction:
        return max(xs)

    def lt(self, a: Fraction, b: Fraction) -> Tri:
        return Tri.TRUE if a < b else Tri.FALSE

    def le(self, a: Fraction, b: Fraction) -> Tri:
        return Tri.TRUE if a <= b else Tri.FALSE

    def eq(self, a: Fraction, b: Fraction) -> Tri:
        return Tri.TRUE if a == b else Tri.FALSE

    def endpoints(self, x: Fraction) -> tuple[Fraction, Fraction]:
        return x, x

    def text(self, x: Fraction) -> str:
        return str(x)


def _wide(x: arb) -> bool:
    """A ball whose radius is not small against its midpoint (Arb's product is loose on it)."""
    return bool(x.rad() * 64 > abs(x.mid()))


@dataclass
class EnclosureOps:
    """Rigorous arithmetic on a backend's native enclosures (see the module invariant).

    Call inside ``backend.working_precision()`` (Arb's precision is process-global)."""

    backend: Backend
    _consts: dict[Fraction, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.backend.name

    def const(self, q: Fraction) -> Any:
        c = self._consts.get(q)
        if c is None:
            c = self._consts[q] = self.backend.exact(q)
        return c

    def enter(self, value: Any) -> Any:
        """A value as a native enclosure: exact rationals and ints are entered exactly."""
        if isinstance(value, Fraction | int) and not isinstance(value, bool):
            return self.backend.exact(Fraction(value))
        return getattr(value, "value", value)  # an Enclosure wrapper, or already native

    def mul(self, *xs: Any) -> Any:
        """The product, left to right. Arb's ball product ``m1 m2 +- (|m1| r2 + |m2| r1 + r1 r2)`` is loose
        for wide balls: ``[0, 1] * [0, 4]`` is ``[-2, 4]``, so ``x**2 y**2 + 1`` could contain 0. Wide
        Arb balls are multiplied by their endpoints too (the hull of the four corner products), and
        the two enclosures intersected."""
        out = xs[0]
        for x in xs[1:]:
            p = out * x
            if isinstance(p, arb) and isinstance(out, arb) and isinstance(x, arb) and _wide(out) and _wide(x):
                a, b = (out.lower(), out.upper()), (x.lower(), x.upper())
                corners = [u * v for u in a for v in b]
                hull = corners[0].union(corners[1]).union(corners[2]).union(corners[3])
                if hull.is_finite() and p.is_finite():
                    p = p.intersection(hull)
            out = p
        return out

    def pow(self, x: Any, n: int) -> Any:
        """``x**n`` by repeated multiplication (Arb's own ``**`` is NaN on a ball centred at 0). An even
        power is a power of ``|x|`` kept nonnegative (``x**2`` over ``[-1, 1]`` is ``[0, 1]``, not
        ``[-1, 1]``); an odd one is ``x * |x|**(n - 1)``."""
        if n < 0:
            return self.const(Fraction(1)) / self.pow(x, -n)
        if n == 0:
            return self.const(Fraction(1))
        if n == 1:
            return x
        be = self.backend
        a = be.relu(be.max2(x, -x))  # |x|
        out, base, k = None, a, n - (n % 2)
        while k:  # a**k by squaring, each product of nonnegative enclosures clamped at 0
            if k & 1:
                out = base if out is None else be.relu(self.mul(out, base))
            k >>= 1
            if k:
                base = be.relu(self.mul(base, base))
        return out if n % 2 == 0 else self.mul(x, out)

    def rpow(self, x: Any, p: int, q: int) -> Any:
        if (p, q) == (1, 2):
            return self.sqrt(x)
        return self.backend.exp(self.backend.log(x) * self.const(Fraction(p, q)))

    def gpow(self, x: Any, y: Any) -> Any:
        return self.backend.exp(self.backend.log(x) * y)

    def sqrt(self, x: Any) -> Any:
        if hasattr(x, "sqrt"):  # arb: the rigorous square root (nan where x may be negative)
            return x.sqrt()
        if self.backend.sign(x) == 0:
            return x
        return self.backend.exp(self.backend.log(x) * self.const(Fraction(1, 2)))

    def exp(self, x: Any) -> Any:
        return self.backend.exp(x)

    def log(self, x: Any) -> Any:
        return self.backend.log(x)

    def e(self) -> Any:
        return self.backend.exp(self.const(Fraction(1)))

    def abs(self, x: Any) -> Any:
        a = abs(x)  # a ball |m| +/- r may reach below 0: cut it at 0 (still containing every |x|)
        if self.backend.is_finite(a) and self.backend.lower(a) < 0:
            a = self.backend.relu(a)
        return a

    def min(self, *xs: Any) -> Any:
        out = xs[0]
        for x in xs[1:]:
            out = self.backend.min2(out, x)
        return out

    def max(self, *xs: Any) -> Any:
        out = xs[0]
        for x in xs[1:]:
            out = self.backend.max2(out, x)
        return out

    def finite(self, x: Any) -> bool:
        return self.backend.is_finite(x)

    def lt(self, a: Any, b: Any) -> Tri:
        if type(a) is arb and type(b) is arb:  # arb's own comparisons are certain: True iff for all points
            return Tri.TRUE if a < b else (Tri.FALSE if a >= b else Tri.UNKNOWN)
        if not (self.finite(a) and self.finite(b)):
            return Tri.UNKNOWN
        return self.backend.lt(a, b)

    def le(self, a: Any, b: Any) -> Tri:
        if type(a) is arb and type(b) is arb:
            return Tri.TRUE if a <= b else (Tri.FALSE if a > b else Tri.UNKNOWN)
        if not (self.finite(a) and self.finite(b)):
            return Tri.UNKNOWN
        return self.backend.le(a, b)

    def eq(self, a: Any, b: Any) -> Tri:
        if not (self.finite(a) and self.finite(b)):
            return Tri.UNKNOWN
        be = self.backend
        alo, ahi, blo, bhi = be.lower(a), be.upper(a), be.lower(b), be.upper(b)
        if ahi < blo or bhi < alo:
            return Tri.FALSE
        if alo == ahi == blo == bhi:
            return Tri.TRUE
        return Tri.UNKNOWN

    def endpoints(self, x: Any) -> tuple[Fraction, Fraction] | None:
        """Exact ``(lower, upper)``, or ``None`` for a non-finite enclosure."""
        if not self.finite(x):
            return None
        return self.backend.lower(x), self.backend.upper(x)

    def text(self, x: Any) -> str:
        ends = self.endpoints(x)
        if ends is None:
            return "[not finite]"
        lo, hi = ends
        return str(lo) if lo == hi else f"[{lo}, {hi}]"


Ops = ExactOps | EnclosureOps


# --- Kleene connectives (module level: the generated code calls them) -----------------------
def _and(*xs: Tri) -> Tri:
    out = Tri.TRUE
    for x in xs:
        out = out & x
    return out


def _or(*xs: Tri) -> Tri:
    out = Tri.FALSE
    for x in xs:
        out = out | x
    return out


def _not(x: Tri) -> Tri:
    return ~x


# --- code generation ------------------------------------------------------------------------
@dataclass(frozen=True)
class Compiled:
    """A compiled expression: ``compiled(ops, values)`` with ``values`` keyed by sympy symbol."""

    expr: sp.Basic
    symbols: tuple[sp.Symbol, ...]
    constants: tuple[Fraction, ...]
    fn: Callable[..., Any]
    source: str

    def __call__(self, ops: Ops, values: Mapping[sp.Symbol, Any]) -> Any:
        args = tuple(values[s] for s in self.symbols)
        consts = tuple(ops.const(q) for q in self.constants)
        return self.fn(args, consts, ops)


class _Gen:
    def __init__(self, symbols: Sequence[sp.Symbol]) -> None:
        self.index = {s: k for k, s in enumerate(symbols)}
        self.constants: list[Fraction] = []
        self.const_index: dict[Fraction, int] = {}
        self.locals: dict[sp.Symbol, str] = {}

    def const(self, q: Fraction) -> str:
        if q not in self.const_index:
            self.const_index[q] = len(self.constants)
            self.constants.append(q)
        return f"K[{self.const_index[q]}]"

    def code(self, e: sp.Basic) -> str:
        if e in self.locals:
            return self.locals[e]
        if isinstance(e, sp.Symbol):
            if e not in self.index:
                raise ExprCompileError(f"symbol {e} has no value")
            return f"V[{self.index[e]}]"
        if isinstance(e, BooleanTrue):
            return "_TRUE"
        if isinstance(e, BooleanFalse):
            return "_FALSE"
        if isinstance(e, sp.Rational):  # Integer included
            return self.const(Fraction(int(e.p), int(e.q)))
        if e is sp.E:
            return "F.e()"
        if isinstance(e, sp.Float) or e.is_Number:
            raise ExprCompileError(f"the number {e} is not exact; write it as a decimal or a fraction")
        if isinstance(e, sp.Add):
            return "(" + " + ".join(self.code(a) for a in e.args) + ")"
        if isinstance(e, sp.Mul):
            return self._mul(e)
        if isinstance(e, sp.Pow):
            return self._pow(e.base, e.exp)
        if isinstance(e, sp.exp):
            return f"F.exp({self.code(e.args[0])})"
        if isinstance(e, sp.log):
            if len(e.args) != 1:
                raise ExprCompileError("log with a base")
            return f"F.log({self.code(e.args[0])})"
        if isinstance(e, sp.Abs):
            return f"F.abs({self.code(e.args[0])})"
        if isinstance(e, sp.Min | sp.Max):
            fn = "F.min" if isinstance(e, sp.Min) else "F.max"
            return f"{fn}(" + ", ".join(self.code(a) for a in e.args) + ")"
        if isinstance(e, sp.core.relational.Relational):
            return self._relation(e)
        if isinstance(e, sp.And | sp.Or):
            fn = "_and" if isinstance(e, sp.And) else "_or"
            return f"{fn}(" + ", ".join(self.code(a) for a in e.args) + ")"
        if isinstance(e, sp.Not):
            return f"_not({self.code(e.args[0])})"
        raise ExprCompileError(f"{type(e).__name__} ({e}) is not supported by the evaluator")

    def _mul(self, e: sp.Mul) -> str:
        num, den = [], []
        for a in e.args:
            if isinstance(a, sp.Pow) and a.exp.is_Integer and a.exp < 0:
                den.append(self._pow(a.base, -a.exp))
            elif isinstance(a, sp.Rational) and a.q != 1:
                num.append(self.const(Fraction(int(a.p))) if a.p != 1 else None)
                den.append(self.const(Fraction(int(a.q))))
            else:
                num.append(self.code(a))
        num = [n for n in num if n is not None]
        top = (num[0] if len(num) == 1 else "F.mul(" + ", ".join(num) + ")") if num else self.const(Fraction(1))
        bottom = den[0] if len(den) == 1 else "F.mul(" + ", ".join(den) + ")"
        return f"({top} / ({bottom}))" if den else top

    def _pow(self, base: sp.Expr, ex: sp.Expr) -> str:
        b = self.code(base)
        if ex.is_Integer:
            n = int(ex)
            if n == 1:
                return b
            if n == 2:
                return f"F.pow({b}, 2)"
            return f"F.pow({b}, {n})"
        if isinstance(ex, sp.Rational):
            return f"F.rpow({b}, {int(ex.p)}, {int(ex.q)})"
        return f"F.gpow({b}, {self.code(ex)})"

    def _relation(self, e: sp.core.relational.Relational) -> str:
        a, b = self.code(e.lhs), self.code(e.rhs)
        op = e.rel_op
        if op == "<":
            return f"F.lt({a}, {b})"
        if op == "<=":
            return f"F.le({a}, {b})"
        if op == ">":
            return f"F.lt({b}, {a})"
        if op == ">=":
            return f"F.le({b}, {a})"
        if op == "==":
            return f"F.eq({a}, {b})"
        if op == "!=":
            return f"_not(F.eq({a}, {b}))"
        raise ExprCompileError(f"relation {op}")


def compile_expr(expr: sp.Basic, symbols: Sequence[sp.Symbol] | None = None) -> Compiled:
    """Compile ``expr`` (a quantity or a relation); ``symbols`` fixes the argument order (default:
    its free symbols sorted by name)."""
    syms = tuple(symbols) if symbols is not None else tuple(sorted(expr.free_symbols, key=lambda s: s.name))
    gen = _Gen(syms)
    lines = ["def _f(V, K, F):"]
    if isinstance(expr, sp.Expr) and not expr.is_Atom:
        replacements, (reduced,) = sp.cse(expr, optimizations=None)
        for k, (sym, sub) in enumerate(replacements):
            code = gen.code(sub)
            gen.locals[sym] = f"_c{k}"
            lines.append(f"    _c{k} = {code}")
    else:
        reduced = expr
    lines.append(f"    return {gen.code(reduced)}")
    source = "\n".join(lines)
    namespace: dict[str, Any] = {"_and": _and, "_or": _or, "_not": _not, "_TRUE": Tri.TRUE, "_FALSE": Tri.FALSE}
    exec(compile(source, f"<claim expression {str(expr)[:60]}>", "exec"), namespace)  # noqa: S102 - our own code
    return Compiled(expr, syms, tuple(gen.constants), namespace["_f"], source)


def evaluate(expr: sp.Basic | Compiled, values: Mapping[sp.Symbol, Any], backend: Backend | None = None) -> Any:
    """``expr`` at ``values``: exactly when every value is a Fraction and no transcendental function is
    needed, otherwise on ``backend``'s enclosures (values entered exactly). Returns a Fraction, a
    native enclosure, or a Tri."""
    compiled = expr if isinstance(expr, Compiled) else compile_expr(expr)
    if all(isinstance(values[s], Fraction | int) for s in compiled.symbols):
        try:
            return compiled(ExactOps(), {s: Fraction(values[s]) for s in compiled.symbols})
        except NotExact:
            pass
        except ZeroDivisionError:
            if backend is None:
                raise
    if backend is None:
        raise NotExact("needs enclosures but no backend was given")
    ops = EnclosureOps(backend)
    with backend.working_precision():
        return compiled(ops, {s: ops.enter(values[s]) for s in compiled.symbols})
