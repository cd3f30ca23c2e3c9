"""Reading a claim expression: text to a sympy object, without ``eval``.

The text is parsed by Python's own parser (:func:`ast.parse`) and the tree is translated node by
node into sympy, so a claim file can never run code. What is accepted:

* numbers: integers and decimals, entered *exactly* (``0.1`` is the rational 1/10, ``1e-3`` is 1/1000);
* names from the symbol table the caller gives (parameters, their initial values, ``t``, ``eta``,
  ``L``, the paper's quantities, the file's definitions); any other name is an error naming it;
* ``+ - * /``, powers ``**`` or ``^``, unary ``-``;
* the functions ``abs``, ``exp``, ``log`` (= ``ln``), ``sqrt``, ``min``, ``max``, ``relu`` (= ``max(x, 0)``);
* comparisons ``< <= > >= == !=`` (chains such as ``0 < x <= 1`` mean ``0 < x and x <= 1``) combined
  with ``and``, ``or``, ``not``.

Every result is either a *quantity* (a sympy ``Expr``) or a *relation* (a sympy ``Boolean``), and
mixing them (``(x > 0) + 1``, ``x and y``) is an error. Invariant: the sympy object has the exact
mathematical meaning of the text; no float ever enters.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from fractions import Fraction

import sympy as sp
from sympy.logic.boolalg import Boolean, BooleanFalse, BooleanTrue


class ExprError(ValueError):
    """An expression that cannot be read; the message says why (the caller adds file, claim and field)."""


def _relu(x: sp.Expr) -> sp.Expr:
    return sp.Max(x, 0)


FUNCTIONS: dict[str, tuple[Callable[..., sp.Expr], int | None]] = {
    # name -> (sympy constructor, number of arguments; None: two or more)
    "abs": (sp.Abs, 1), "Abs": (sp.Abs, 1),
    "exp": (sp.exp, 1),
    "log": (sp.log, 1), "ln": (sp.log, 1),
    "sqrt": (sp.sqrt, 1),
    "min": (sp.Min, None), "Min": (sp.Min, None),
    "max": (sp.Max, None), "Max": (sp.Max, None),
    "relu": (_relu, 1),
}

_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a**b}
_COMPARE = {ast.Lt: sp.StrictLessThan, ast.LtE: sp.LessThan, ast.Gt: sp.StrictGreaterThan,
            ast.GtE: sp.GreaterThan, ast.Eq: sp.Eq, ast.NotEq: sp.Ne}


def is_relation(obj: sp.Basic) -> bool:
    """Whether ``obj`` is a relation (true or false), as opposed to a quantity (a number)."""
    return isinstance(obj, Boolean) and not isinstance(obj, sp.Expr)  # a Symbol is both


def parse(text: str, symbols: Mapping[str, sp.Basic],
          unknown: Callable[[str], str | None] | None = None) -> sp.Basic:
    """``text`` as a sympy quantity or relation over ``symbols`` (name -> sympy object, which may be a
    symbol or a whole expression to inline). ``unknown(name)`` may return a better message for a name
    that is not in ``symbols`` (e.g. "is a quantity of paper b")."""
    if not isinstance(text, str):
        raise ExprError(f"must be a string holding an expression, not {type(text).__name__}")
    source = text.replace("^", "**").strip()
    if not source:
        raise ExprError("is empty")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ExprError(f"is not a valid expression ({exc.msg}{where}): {text!r}") from None
    return _Reader(source, symbols, unknown).read(tree.body)


class _Reader:
    def __init__(self, source: str, symbols: Mapping[str, sp.Basic],
                 unknown: Callable[[str], str | None] | None) -> None:
        self.source, self.symbols, self.unknown = source, symbols, unknown

    def read(self, node: ast.AST) -> sp.Basic:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            segment = ast.get_source_segment(self.source, node) or type(node).__name__
            raise ExprError(f"uses unsupported syntax {segment!r} (allowed: numbers, names, + - * / ** ^, "
                            f"{', '.join(sorted(set(FUNCTIONS) - {'Abs', 'Min', 'Max'}))}, comparisons, "
                            "and / or / not)")
        return method(node)

    def quantity(self, node: ast.AST) -> sp.Expr:
        value = self.read(node)
        if is_relation(value):
            segment = ast.get_source_segment(self.source, node)
            raise ExprError(f"uses a relation {segment!r} where a quantity is expected")
        return value

    def relation(self, node: ast.AST) -> Boolean:
        value = self.read(node)
        if not is_relation(value):
            segment = ast.get_source_segment(self.source, node)
            raise ExprError(f"uses a quantity {segment!r} where a relation (a comparison) is expected")
        return value

    # --- leaves ---------------------------------------------------------------------------
    def _Constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExprError(f"has a constant {value!r} that is not a number")
        if isinstance(value, int):
            return sp.Integer(value)
        text = ast.get_source_segment(self.source, node) or repr(value)
        try:
            q = Fraction(text)  # the decimal as written, exactly
        except ValueError:
            raise ExprError(f"has a number {text!r} that is not a decimal") from None
        return sp.Rational(q.numerator, q.denominator)

    def _Name(self, node: ast.Name) -> sp.Basic:
        name = node.id
        if name in self.symbols:
            return self.symbols[name]
        if name in FUNCTIONS:
            raise ExprError(f"uses the function {name!r} without arguments")
        hint = self.unknown(name) if self.unknown is not None else None
        known = ", ".join(sorted(self.symbols))
        raise ExprError(hint or f"uses an unknown symbol {name!r} (known: {known})")

    # --- arithmetic -----------------------------------------------------------------------
    def _BinOp(self, node: ast.BinOp) -> sp.Expr:
        op = _BINARY.get(type(node.op))
        if op is None:
            raise ExprError(f"uses an unsupported operator in {ast.get_source_segment(self.source, node)!r}")
        return op(self.quantity(node.left), self.quantity(node.right))

    def _UnaryOp(self, node: ast.UnaryOp) -> sp.Basic:
        if isinstance(node.op, ast.Not):
            return sp.Not(self.relation(node.operand))
        if isinstance(node.op, ast.USub):
            return -self.quantity(node.operand)
        if isinstance(node.op, ast.UAdd):
            return self.quantity(node.operand)
        raise ExprError(f"uses an unsupported operator in {ast.get_source_segment(self.source, node)!r}")

    def _Call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.get_source_segment(self.source, node.func)
            raise ExprError(f"calls an unknown function {name!r} (known: "
                            f"{', '.join(sorted(set(FUNCTIONS) - {'Abs', 'Min', 'Max'}))})")
        if node.keywords:
            raise ExprError(f"passes keyword arguments to {node.func.id!r}")
        fn, arity = FUNCTIONS[node.func.id]
        args = [self.quantity(a) for a in node.args]
        if (arity is not None and len(args) != arity) or (arity is None and len(args) < 2):
            want = f"{arity} argument" + ("s" if arity != 1 else "") if arity is not None else "two or more arguments"
            raise ExprError(f"calls {node.func.id!r} with {len(args)} arguments; it takes {want}")
        return fn(*args)

    # --- relations ------------------------------------------------------------------------
    def _Compare(self, node: ast.Compare) -> Boolean:
        items = [self.quantity(node.left), *(self.quantity(c) for c in node.comparators)]
        pairs = zip(node.ops, items[:-1], items[1:], strict=True)
        parts = [_COMPARE[type(op)](a, b, evaluate=False) for op, a, b in pairs]
        return parts[0] if len(parts) == 1 else sp.And(*parts, evaluate=False)

    def _BoolOp(self, node: ast.BoolOp) -> Boolean:
        parts = [self.relation(v) for v in node.values]
        return (sp.And if isinstance(node.op, ast.And) else sp.Or)(*parts, evaluate=False)


def relation_atoms(rel: Boolean) -> list[sp.core.relational.Relational]:
    """The comparisons inside a relation, in reading order."""
    if isinstance(rel, sp.core.relational.Relational):
        return [rel]
    if isinstance(rel, BooleanTrue | BooleanFalse):
        return []
    return [a for arg in rel.args for a in relation_atoms(arg)]
