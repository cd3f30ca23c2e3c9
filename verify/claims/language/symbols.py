"""The names a claim expression may use, for one paper and one problem.

=====================  ==========================================================================
name                   meaning
=====================  ==========================================================================
``w1, b1, ...``        the parameters at step ``t`` (the paper's own names, ``Network.param_names``)
``w1_0, b1_0, ...``    their exact initial values
``t``                  the step (an integer ``>= 0``)
``eta``                the step size (exact)
``L``                  the loss at step ``t`` (the engine's enclosure); ``L_0`` at the init
``margin, u, ...``     the paper's named quantities (``Paper.quantities()``) at step ``t``;
                       ``margin_0, u_0, ...`` at the init
file definitions       names defined in the claim file's ``[define]`` table (inlined)
=====================  ==========================================================================

A quantity with a sympy ``expr`` (and every definition) is *inlined*: the expression is substituted,
so it can be reasoned about symbolically (a tail certificate needs that). A quantity without one
stays a symbol whose value at each step is ``Quantity.value(theta, problem)``.

Invariant: a symbol's sympy object depends only on its name (``param_symbol("w1")`` is the same
object everywhere), so tail certificates written elsewhere can refer to the same symbols.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache

import sympy as sp

from verify.claims.language.parse import ExprError, is_relation, parse
from verify.model.network import Problem
from verify.papers import Quantity, registry

T = sp.Symbol("t", nonnegative=True)
ETA = sp.Symbol("eta", positive=True)
LOSS = sp.Symbol("L", positive=True)
RESERVED = ("t", "eta", "L", "L_0")


@cache
def param_symbol(name: str) -> sp.Symbol:
    """The symbol of parameter ``name`` at step ``t``."""
    return sp.Symbol(name, real=True)


@cache
def init_symbol(name: str) -> sp.Symbol:
    """The symbol of the exact initial value of parameter (or quantity) ``name``: ``name_0``."""
    return sp.Symbol(f"{name}_0", real=True)


def loss_expr(problem: Problem, params: Mapping[str, sp.Expr]) -> sp.Expr:
    """The training loss ``(1/n) sum_i l(y_i N(x_i))`` as a sympy expression of the parameters
    (``N(x) = sum_j a_j relu(<w_j, x> + b_j)``, ``l(z) = exp(-z)`` or ``log(1 + exp(-z))``)."""
    net, data = problem.network, problem.data
    names = net.param_names()
    theta = [params[n] for n in names]
    total = sp.Integer(0)
    for x, y in zip(data.X, data.y, strict=True):
        out = sp.Integer(0)
        for j in range(net.width):
            s = net.neuron_slice(j)
            w, b = theta[s][:-1], theta[s][-1]
            z = b + sum((wk * sp.Rational(xk.numerator, xk.denominator) for wk, xk in zip(w, x, strict=True)),
                        sp.Integer(0))
            a = theta[net.output_index(j)] if net.trains_output else sp.Rational(
                net.output_weights[j].numerator, net.output_weights[j].denominator)
            out += a * sp.Max(z, 0)
        margin = y * out
        total += sp.exp(-margin) if net.loss == "exponential" else sp.log(1 + sp.exp(-margin))
    return total / data.n


@dataclass
class Namespace:
    """Every name a claim of one paper may use, and what it stands for (see the module table).

    ``table`` maps a name to the sympy object the parser substitutes; ``opaque`` maps the symbol of a
    quantity without an expression to the quantity (evaluated per step, or at the init for ``name_0``).
    """

    paper: str
    problem: Problem
    quantities: Mapping[str, Quantity]
    params: tuple[str, ...] = ()
    table: dict[str, sp.Basic] = field(default_factory=dict)
    opaque: dict[sp.Symbol, Quantity] = field(default_factory=dict)
    opaque_init: dict[sp.Symbol, Quantity] = field(default_factory=dict)
    defined: dict[str, sp.Expr] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.params = self.problem.network.param_names()
        for name in self.params:
            self.table[name] = param_symbol(name)
            self.table[f"{name}_0"] = init_symbol(name)
        loss0 = loss_expr(self.problem, {n: init_symbol(n) for n in self.params})
        self.table.update({"t": T, "eta": ETA, "L": LOSS, "L_0": loss0})
        for name, q in self.quantities.items():
            if name in self.table:
                continue  # a parameter name wins; the paper should not shadow one
            if q.expr is not None:
                expr = parse(q.expr, {n: param_symbol(n) for n in self.params} | {"eta": ETA})
                self.table[name] = expr
                self.table[f"{name}_0"] = expr.xreplace(self.init_map)
            else:
                sym, sym0 = sp.Symbol(name, real=True), init_symbol(name)
                self.table[name], self.table[f"{name}_0"] = sym, sym0
                self.opaque[sym], self.opaque_init[sym0] = q, q

    @property
    def init_map(self) -> dict[sp.Symbol, sp.Symbol]:
        """Each parameter symbol to its initial-value symbol."""
        return {param_symbol(n): init_symbol(n) for n in self.params}

    @property
    def param_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(param_symbol(n) for n in self.params)

    @property
    def init_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(init_symbol(n) for n in self.params)

    def step_symbols(self) -> set[sp.Symbol]:
        """Symbols whose value changes with the step: parameters, ``t``, ``L``, opaque quantities."""
        return {*self.param_symbols, T, LOSS, *self.opaque}

    def init_only(self) -> set[sp.Symbol]:
        """Symbols fixed by the init: initial values, ``eta``, opaque quantities at the init."""
        return {*self.init_symbols, ETA, *self.opaque_init}

    def define(self, name: str, text: str) -> None:
        """Add a file definition ``name = text`` (and ``name_0`` when it depends on the parameters only)."""
        if not name.isidentifier():
            raise ExprError(f"the name {name!r} is not an identifier")
        if name in self.table or name in RESERVED:
            raise ExprError(f"the name {name!r} is already taken (a parameter, quantity or definition)")
        expr = self.read(text)
        if is_relation(expr):
            raise ExprError("a definition must be a quantity, not a relation")
        self.table[name] = expr
        self.defined[name] = expr
        if not (expr.free_symbols & ({T, LOSS} | set(self.opaque))) and f"{name}_0" not in self.table:
            self.table[f"{name}_0"] = expr.xreplace(self.init_map)

    def read(self, text: str) -> sp.Basic:
        """Parse ``text`` over this namespace (unknown names get a hint when another paper knows them)."""
        return parse(text, self.table, self._hint)

    def _hint(self, name: str) -> str | None:
        base = name[:-2] if name.endswith("_0") else name
        for paper in registry().values():
            if paper.id == self.paper:
                continue
            try:
                theirs = paper.quantities()
            except Exception:  # noqa: BLE001 - a broken plug-in must not hide the user's error
                continue
            if base in theirs:
                return (f"names {name!r}, a quantity of paper {paper.id}, not of paper {self.paper} "
                        f"(paper {self.paper} has: {', '.join(sorted(self.quantities)) or 'none'})")
        return None

    def exact_init(self, theta0: tuple[Fraction, ...], eta: Fraction) -> dict[sp.Symbol, Fraction]:
        """Exact values of the initial-value symbols and ``eta``."""
        return {**{init_symbol(n): q for n, q in zip(self.params, theta0, strict=True)}, ETA: eta}
