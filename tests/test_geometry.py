"""Decision set and robustness margin of 1-D networks."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import assume, given
from hypothesis import strategies as st

from proofs.paper_a.geometry import THETA_STAR, boundary, robustness_margin, zero_set
from proofs.paper_a.problem import paper_a_problem
from tests.conftest import min_reach
from verify.arith import Enclosure, Tri, get_backend
from verify.errors import UndecidableError
from verify.geometry.line import decision_set, margin, output

BE = get_backend("arb", 128)
PROBLEM = paper_a_problem()
coord = st.fractions(min_value=-3, max_value=3, max_denominator=97)


def _theta(values):
    return [Enclosure.of(BE, v) for v in values]


def test_limit_network_has_optimal_margin_exactly_one():
    gamma = robustness_margin(PROBLEM, _theta(THETA_STAR))
    assert gamma.lower == gamma.upper == 1
    (component,) = zero_set(PROBLEM, _theta(THETA_STAR))
    assert component.lo.lower == component.lo.upper == 0 and not component.degenerate


def test_degenerate_interval_between_the_kinks():
    (component,) = zero_set(PROBLEM, _theta(["1", "-1/2", "-1", "-1/2"]))
    assert component.degenerate and component.lo.contains("-1/2") and component.hi.contains("1/2")
    assert robustness_margin(PROBLEM, _theta(["1", "-1/2", "-1", "-1/2"])).contains("1/2")


def test_boundary_formula_inside_final_phase():
    th = dict(zip(("w1", "b1", "w2", "b2"), _theta(["1", "1/5", "-1", "1/2"]), strict=True))
    assert boundary(th).contains(Fraction(3, 20))
    assert robustness_margin(PROBLEM, list(th.values())).contains(1 - Fraction(3, 20))


def _classifier(w1, s1, a1, w2, s2, extra):
    """Neuron 1 active at x = 1 only (a1 > 0), neuron 2 active at x = -1 only (a2 = -1): both points are
    classified with a positive margin, then small extra neurons perturb it."""
    return [(w1, s1 * w1, a1), (-w2, s2 * w2, Fraction(-1)), *extra]


positive = st.fractions(min_value=Fraction(1, 10), max_value=3, max_denominator=1000)
inside = st.fractions(min_value=Fraction(-99, 100), max_value=Fraction(99, 100), max_denominator=1000)
small_neuron = st.tuples(st.fractions(-1, 1, max_denominator=100), st.fractions(-1, 1, max_denominator=100),
                         st.sampled_from([Fraction(-1, 10), Fraction(1, 10)]))
classifiers = st.builds(_classifier, positive, inside, st.sampled_from([1, Fraction(1, 2)]), positive, inside,
                        st.lists(small_neuron, max_size=2))
random_nets = st.lists(st.tuples(coord, coord, st.sampled_from([-1, 1, Fraction(1, 2)])), min_size=1, max_size=4)


def _nets(neurons):
    return [(Enclosure.of(BE, w), Enclosure.of(BE, b), Enclosure.of(BE, a)) for w, b, a in neurons]


@min_reach(1.0)
@given(classifiers)
def test_margin_is_a_certified_safe_radius(neurons):
    """Phi keeps each label's sign strictly inside the margin (the classifiers have a positive one,
    except when an extra neuron cancels it: those are assumed away, and min_reach checks that the
    safe-radius assertion ran on every counted example)."""
    nets = _nets(neurons)
    xs, ys = [Fraction(1), Fraction(-1)], [1, -1]
    try:
        gamma = margin(nets, xs, ys)
    except UndecidableError:
        assume(False)
    assume(gamma.lower > 0)
    for x, y in zip(xs, ys, strict=True):
        for direction in (-1, 1):
            inner = x + direction * gamma.lower * Fraction(999, 1000)
            assert (output(nets, inner) * y > 0) is Tri.TRUE


@min_reach(0.5)
@given(st.one_of(classifiers, random_nets))
def test_every_root_is_a_zero_of_phi(neurons):
    """Every non-degenerate component of the decision set holds a zero of Phi (examples with no
    such component are assumed away; min_reach checks enough remain)."""
    nets = _nets(neurons)
    try:
        zeros = decision_set(nets)
    except UndecidableError:
        assume(False)
    roots = [comp for comp in zeros if not comp.degenerate]
    assume(roots)
    for comp in roots:  # Phi over the root's enclosure contains 0
        assert output(nets, comp.lo).contains(0)


def test_zero_bias_init_in_f_has_coincident_kinks_and_boundary_at_zero():
    """Both kinks are exactly 0 at t = 0: the order is decided (equal), gamma = 1."""
    th = _theta(["7/10", "0", "-2/5", "0"])
    (component,) = zero_set(PROBLEM, th)
    assert not component.degenerate and component.lo.contains(0) and component.lo.width == 0
    assert robustness_margin(PROBLEM, th).lower == 1


def test_degenerate_interval_is_found_on_inexact_enclosures():
    """After a GD step nothing is exact; single-neuron roots sit on their own kinks by structure."""
    from verify.dynamics.gd import run_gd

    run = run_gd(PROBLEM, ["1", "-1/2", "-1", "-1/2"], 3)
    th = list(run.enclosures(run.final).values())
    assert th[0].width > 0
    (component,) = zero_set(PROBLEM, th)
    assert component.degenerate and (component.lo < component.hi).certainly()
