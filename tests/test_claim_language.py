"""The claim language's reader and evaluator: text to sympy (exact, no eval), sympy to enclosures.

Properties: on random expression trees and random exact inputs, the enclosure the evaluator
computes (Arb and mpmath, point inputs and wide boxes) contains the exact value computed with
Fractions at every point tried; a relation's Tri never contradicts its exact truth; numbers are
read exactly; bad expressions are rejected with a reason."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, note
from hypothesis import strategies as st

from verify.arith import Tri, get_backend
from verify.claims.language.compile import EnclosureOps, ExactOps, NotExact, compile_expr, evaluate
from verify.claims.language.parse import ExprError, is_relation, parse
from verify.claims.language.symbols import Namespace, init_symbol, loss_expr, param_symbol
from verify.settings import CheckSettings

X, Y, Z = sp.symbols("x y z", real=True)
SYMS = {"x": X, "y": Y, "z": Z}
fracs = st.builds(Fraction, st.integers(-40, 40), st.integers(1, 12))


# --- random expression trees ------------------------------------------------------------------
def _leaf() -> st.SearchStrategy[sp.Expr]:
    return st.one_of(st.sampled_from([X, Y, Z]), fracs.map(lambda q: sp.Rational(q.numerator, q.denominator)))


def _extend(children: st.SearchStrategy[sp.Expr]) -> st.SearchStrategy[sp.Expr]:
    two = st.tuples(children, children)
    return st.one_of(
        two.map(lambda ab: ab[0] + ab[1]),
        two.map(lambda ab: ab[0] - ab[1]),
        two.map(lambda ab: ab[0] * ab[1]),
        two.map(lambda ab: ab[0] / (ab[1] ** 2 + 1)),  # a denominator that is never 0
        st.tuples(children, st.integers(0, 3)).map(lambda an: an[0] ** an[1]),
        children.map(sp.Abs),
        two.map(lambda ab: sp.Min(*ab)),
        two.map(lambda ab: sp.Max(*ab)),
        children.map(lambda a: sp.Max(a, 0)),
    )


expressions = st.recursive(_leaf(), _extend, max_leaves=12)
points = st.fixed_dictionaries({X: fracs, Y: fracs, Z: fracs})
backends = st.sampled_from([("arb", 64), ("arb", 200), ("mpmath", 80)])


def _contains(ops: EnclosureOps, enc, q: Fraction) -> bool:
    ends = ops.endpoints(enc)
    return ends is not None and ends[0] <= q <= ends[1]


@given(expressions, points, backends)
def test_enclosure_contains_exact_value_at_points(expr, point, backend):
    note(f"expr = {expr}")
    exact = evaluate(expr, point)  # all Fractions, rational operations: exact
    assert isinstance(exact, Fraction)
    be = get_backend(*backend)
    ops = EnclosureOps(be)
    with be.working_precision():
        enc = compile_expr(expr)(ops, {s: ops.enter(q) for s, q in point.items()})
    assert _contains(ops, enc, exact), (ops.text(enc), exact)


@given(expressions, points, st.integers(1, 30), st.lists(st.integers(-4, 4), min_size=3, max_size=3), backends)
def test_enclosure_over_a_box_contains_every_point_value(expr, centre, half_den, offsets, backend):
    """Inputs are intervals ``[c - h, c + h]``; the exact value at points of the box lies in the result."""
    h = Fraction(1, half_den)
    be = get_backend(*backend)
    ops = EnclosureOps(be)
    with be.working_precision():
        box = {s: be.hull(be.exact(c - h), be.exact(c + h)) for s, c in centre.items()}
        enc = compile_expr(expr)(ops, box)
    for k, s in enumerate((X, Y, Z)):  # a few corners and interior points of the box
        pt = {**centre, s: centre[s] + h * offsets[k] / 4}
        assert _contains(ops, enc, evaluate(expr, pt)), (ops.text(enc), pt)


relations = st.builds(lambda a, b, op: op(a, b, evaluate=False), expressions, expressions,
                      st.sampled_from([sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan, sp.Eq,
                                       sp.Ne]))


@given(relations, points, backends)
def test_relation_tri_never_contradicts_exact_truth(rel, point, backend):
    truth = evaluate(rel, point)
    assert truth in (Tri.TRUE, Tri.FALSE)
    be = get_backend(*backend)
    ops = EnclosureOps(be)
    with be.working_precision():
        tri = compile_expr(rel)(ops, {s: ops.enter(q) for s, q in point.items()})
    assert tri in (truth, Tri.UNKNOWN)


def test_relations_are_decided_on_separated_enclosures_and_unknown_when_straddling():
    be = get_backend("arb", 64)
    ops = EnclosureOps(be)
    lt = compile_expr(parse("x < y", SYMS))
    eq = compile_expr(parse("x == y", SYMS))
    with be.working_precision():
        a, b = be.hull(be.exact(Fraction(0)), be.exact(Fraction(1))), be.exact(Fraction(2))
        wide = be.hull(be.exact(Fraction(0)), be.exact(Fraction(3)))
        assert lt(ops, {X: a, Y: b}) is Tri.TRUE and lt(ops, {X: b, Y: a}) is Tri.FALSE
        assert lt(ops, {X: wide, Y: b}) is Tri.UNKNOWN
        assert eq(ops, {X: b, Y: be.exact(Fraction(2))}) is Tri.TRUE  # two equal exact points
        assert eq(ops, {X: a, Y: b}) is Tri.FALSE and eq(ops, {X: wide, Y: b}) is Tri.UNKNOWN
        nan = be.exact(Fraction(1)) / be.hull(be.exact(Fraction(-1)), be.exact(Fraction(1)))
        assert lt(ops, {X: nan, Y: b}) is Tri.UNKNOWN  # a non-finite enclosure decides nothing


@given(st.sampled_from(["exp(x)", "log(x^2 + 1)", "sqrt(x^2 + y^2)", "exp(-x) * log(2 + abs(y))", "x^(1/3)"]),
       st.builds(Fraction, st.integers(1, 50), st.integers(1, 9)), fracs)
def test_transcendental_enclosures_contain_a_high_precision_value(text, x, y):
    """Against mpmath at 400 bits (an oracle far more precise than the 64-bit enclosure's width)."""
    import mpmath

    expr = parse(text, SYMS)
    be = get_backend("arb", 64)
    ops = EnclosureOps(be)
    with be.working_precision():
        enc = compile_expr(expr)(ops, {X: ops.enter(x), Y: ops.enter(y)})
    lo, hi = ops.endpoints(enc)
    with mpmath.workprec(400):
        def mp(q: Fraction):
            return mpmath.mpf(q.numerator) / q.denominator

        ref = sp.lambdify((X, Y), expr, "mpmath")(mp(x), mp(y))
        slack = mpmath.mpf(2) ** -300
        assert mp(lo) - slack <= ref <= mp(hi) + slack
    with pytest.raises(NotExact):
        compile_expr(expr)(ExactOps(), {X: x, Y: y})


# --- the reader ---------------------------------------------------------------------------
def test_numbers_are_read_exactly():
    assert parse("0.1", SYMS) == sp.Rational(1, 10)
    assert parse("1e-3 + 2.5", SYMS) == sp.Rational(2501, 1000)
    assert parse("x^2", SYMS) == X**2 and parse("x**2", SYMS) == X**2
    assert parse("2^3*x", SYMS) == 8 * X  # ^ is a power, with the power's precedence


def test_chains_and_connectives():
    rel = parse("0 < x <= 1 and not y == z or x != 0", SYMS)
    assert is_relation(rel)
    for point, want in (({X: Fraction(1, 2), Y: Fraction(1), Z: Fraction(2)}, Tri.TRUE),
                        ({X: Fraction(0), Y: Fraction(1), Z: Fraction(1)}, Tri.FALSE)):
        assert evaluate(rel, point) is want


@pytest.mark.parametrize("text, words", [
    ("x +", "not a valid expression"),
    ("foo(x)", "unknown function 'foo'"),
    ("w3 + 1", "unknown symbol 'w3'"),
    ("x + (y > 0)", "where a quantity is expected"),
    ("x and y", "where a relation"),
    ("x.real", "unsupported syntax"),
    ("__import__('os')", "unknown function '__import__'"),
    ("lambda: 1", "unsupported syntax"),
    ("'text'", "not a number"),
    ("min(x)", "two or more arguments"),
    ("x // 2", "unsupported operator"),
    ("", "empty"),
])
def test_bad_expressions_are_rejected_with_a_reason(text, words):
    with pytest.raises(ExprError, match=words.replace("(", r"\(")):
        parse(text, SYMS)


def test_floats_and_unsupported_nodes_do_not_compile():
    from verify.claims.language.compile import ExprCompileError

    with pytest.raises(ExprCompileError):
        compile_expr(sp.Float(0.1) * X)
    with pytest.raises(ExprCompileError):
        compile_expr(sp.sin(X))


# --- the namespace ------------------------------------------------------------------------
def test_namespace_of_paper_a():
    s = CheckSettings(paper="a")
    ns = Namespace("a", s.problem(), s.plugin.quantities())
    assert ns.params == ("w1", "b1", "w2", "b2")
    assert ns.read("u") == param_symbol("w1") + param_symbol("b1")  # a quantity with an expr is inlined
    assert ns.read("c1_0") == init_symbol("w1") - init_symbol("b1")
    margin = ns.read("margin")
    assert margin in ns.opaque and ns.read("margin_0") in ns.opaque_init  # no expr: evaluated per step
    ns.define("N", "b2 - b1")
    assert ns.read("N_0") == init_symbol("b2") - init_symbol("b1")
    with pytest.raises(ExprError, match="already taken"):
        ns.define("u", "w1")


def test_symbolic_loss_matches_the_engine_loss():
    """``L_0`` (the network's loss as a sympy expression) equals the engine's exact loss at step 0."""
    from verify.dynamics.gd import run_gd

    s = CheckSettings(paper="a")
    problem = s.problem()
    theta0 = (Fraction(1, 2), Fraction(1, 3), Fraction(-1, 4), Fraction(1, 5))
    params = {n: param_symbol(n) for n in problem.network.param_names()}
    L = loss_expr(problem, params)
    run = run_gd(problem, theta0, 0)
    be = run.backend
    ops = EnclosureOps(be)
    with be.working_precision():
        enc = compile_expr(L)(ops, {params[n]: ops.enter(q) for n, q in zip(params, theta0, strict=True)})
    assert run.loss(run.records[0]).overlaps(type(run.loss(run.records[0]))(be, enc))
