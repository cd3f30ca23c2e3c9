"""Hypothesis strategies over a paper's exact inits and certified runs.

Use them in your own property tests (the pytest plug-in adds the fixtures ``verify_settings``,
``certify`` and ``check_claim``; see ``examples/test_my_claims.py``)::

    from hypothesis import given
    from verify.strategies import inits

    @given(theta0=inits(paper="a"))  # by keyword: the test also takes a fixture
    def test_my_claim(theta0, check_claim):
        assert check_claim("my_claims.toml::numerator-bounded", theta0).status.value != "refuted"

:func:`inits` draws exact parameter vectors (tuples of ``Fraction``) for any paper's network, from:

* **small rationals** -- ``k/d`` with ``|k/d| <= 4`` and ``d`` in 1, 2, 4, ..., 3, 5, 10, 100: the
  first choice, so a failing example shrinks towards inits such as ``(1/2, 0, -1/4, 0)``;
* **each init scheme** (``he``, ``xavier``, ``pytorch``, ``normal``) -- values in the scheme's range
  (three standard deviations, or the uniform bound), with the scheme's zero biases; drawn as small
  rationals or as any double in range (taken exactly);
* **all active** -- every neuron active at every training point by a small rational margin;
* **near the kinks** -- one neuron's pre-activation at one training point set to exactly 0 or to a
  tiny rational ``+-k/2^m`` (``b_j = -<w_j, x_i> + eps``), where the certified engine must decide a
  sign at the edge of its precision;
* **the paper's own** -- ``Paper.init_strategies(problem)``, e.g. paper A's zero-bias inits in F.

Every strategy is generic over the network (``Network.param_names``, ``neuron_slice``) and data.
Shrinking is Hypothesis' own: strategies are built from integers, sampled choices and floats, so
a counterexample shrinks to a simple init without any home-made shrinker.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import sqrt

from hypothesis import strategies as st

from verify.dynamics.schedule import EVERY_STEP
from verify.dynamics.sweep import certified_run
from verify.dynamics.trajectory import Trajectory
from verify.errors import InvalidArgument
from verify.init.schemes import SCHEMES
from verify.model.network import Problem
from verify.papers import get_paper
from verify.settings import CheckSettings

DENOMINATORS = (1, 2, 4, 8, 16, 32, 64, 3, 5, 10, 100, 1000)
SMALL_BOUND = 4


def small_rationals(bound: int = SMALL_BOUND,
                    denominators: Sequence[int] = DENOMINATORS) -> st.SearchStrategy[Fraction]:
    """``k/d`` with ``|k/d| <= bound``, ``d`` from ``denominators`` (shrinks to 0, then to small ``k/d``)."""
    return st.sampled_from(tuple(denominators)).flatmap(
        lambda d: st.integers(-bound * d, bound * d).map(lambda k, d=d: Fraction(k, d)))


def _in_range(half_width: float) -> st.SearchStrategy[Fraction]:
    """A small rational or any double in ``[-half_width, half_width]``, exactly."""
    small = small_rationals(max(1, int(half_width) + 1)).filter(lambda q: abs(q) <= half_width)
    floats = st.floats(-half_width, half_width, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    return st.one_of(small, floats.map(Fraction))


def _scheme_scale(scheme: str, fan_in: int, fan_out: int) -> tuple[float, bool]:
    """``(half width of the range, whether biases are drawn)`` for a layer under ``scheme``."""
    if scheme == "he":
        return 3 * sqrt(2.0 / fan_in), False
    if scheme == "xavier":
        return 3 * sqrt(2.0 / (fan_in + fan_out)), False
    if scheme == "pytorch":
        return 1 / sqrt(fan_in), True
    if scheme == "normal":
        return 3.0, True
    raise InvalidArgument("scheme", scheme, f"must be one of {list(SCHEMES)}")


def scheme_inits(problem: Problem, scheme: str) -> st.SearchStrategy[tuple[Fraction, ...]]:
    """Exact inits in the range of ``scheme`` (zero biases where the scheme has them)."""
    net = problem.network
    half, biases = _scheme_scale(scheme, net.dim, net.width)
    parts: list[st.SearchStrategy[Fraction]] = []
    for _ in range(net.width):
        parts += [_in_range(half) for _ in range(net.dim)]
        parts.append(_in_range(half) if biases else st.just(Fraction(0)))
    if net.trains_output:
        out_half, _ = _scheme_scale(scheme, net.width, 1)
        parts += [_in_range(out_half) for _ in range(net.width)]
    return st.tuples(*parts)


def rational_inits(problem: Problem) -> st.SearchStrategy[tuple[Fraction, ...]]:
    """Every parameter a small rational."""
    return st.tuples(*(small_rationals() for _ in range(problem.network.n_params)))


def tiny() -> st.SearchStrategy[Fraction]:
    """0, or ``+-k/2^m`` with ``m`` in 10..60 (a pre-activation next to a kink)."""
    return st.one_of(st.just(Fraction(0)),
                     st.builds(lambda k, m, s: s * Fraction(k, 2**m), st.integers(1, 1000), st.integers(10, 60),
                               st.sampled_from((1, -1))))


def near_kink_inits(problem: Problem) -> st.SearchStrategy[tuple[Fraction, ...]]:
    """Inits with one pre-activation ``<w_j, x_i> + b_j`` exactly 0 or within a tiny rational of it."""
    net, data = problem.network, problem.data

    def build(theta: tuple[Fraction, ...], j: int, i: int, eps: Fraction) -> tuple[Fraction, ...]:
        out = list(theta)
        s = net.neuron_slice(j)
        w = out[s][:-1]
        out[s.stop - 1] = -sum((wk * xk for wk, xk in zip(w, data.X[i], strict=True)), Fraction(0)) + eps
        return tuple(out)

    return st.builds(build, rational_inits(problem), st.integers(0, net.width - 1), st.integers(0, data.n - 1),
                     tiny())


def all_active_inits(problem: Problem) -> st.SearchStrategy[tuple[Fraction, ...]]:
    """Inits with every neuron active at every training point (``b_j > -<w_j, x_i>`` for all ``i``), by a
    small positive rational margin: the all-ones pattern, from which GD must leave or stay."""
    net, data = problem.network, problem.data

    def build(theta: tuple[Fraction, ...], eps: Fraction) -> tuple[Fraction, ...]:
        out = list(theta)
        for j in range(net.width):
            s = net.neuron_slice(j)
            w = out[s][:-1]
            out[s.stop - 1] = max(-sum((wk * xk for wk, xk in zip(w, x, strict=True)), Fraction(0))
                                  for x in data.X) + eps
        return tuple(out)

    return st.builds(build, rational_inits(problem), small_rationals().filter(lambda q: q > 0))


def inits(paper: str = "a", scheme: str | None = None, *, near_kinks: bool = True,
          settings: CheckSettings | None = None, paper_own: bool = True) -> st.SearchStrategy[tuple[Fraction, ...]]:
    """Exact inits of ``paper``'s network (see the module docstring). ``scheme`` restricts to one init
    scheme; otherwise small rationals come first, then every scheme, the kinks and the paper's own."""
    s = settings or CheckSettings(paper=paper)
    problem = s.problem()
    if scheme is not None:
        return scheme_inits(problem, scheme)
    options = [rational_inits(problem), *(scheme_inits(problem, name) for name in SCHEMES),
               all_active_inits(problem)]
    if near_kinks:
        options.append(near_kink_inits(problem))
    if paper_own:
        options += list(get_paper(s.paper).init_strategies(problem).values())
    return st.one_of(*options)


def certified_runs(paper: str = "a", scheme: str | None = None, *, settings: CheckSettings | None = None,
                   steps: int | None = None, every_step: bool = False,
                   init_strategy: st.SearchStrategy | None = None) -> st.SearchStrategy[Trajectory]:
    """Certified GD runs (:class:`~verify.dynamics.trajectory.Trajectory`) from :func:`inits`, on the
    settings' engine (``steps`` overrides the settings'); ``every_step`` records every step."""
    s = settings or CheckSettings(paper=paper)
    if steps is not None:
        s = s.with_(steps=steps)
    spec = s.sweep_spec(EVERY_STEP if every_step else None)
    source = init_strategy if init_strategy is not None else inits(s.paper, scheme, settings=s)
    return source.map(lambda theta0: certified_run(spec, theta0)[1])
