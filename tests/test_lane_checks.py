"""Lane checkers (``Claim.lanes``, :mod:`verify.claims.lanes`) against the claims' own checkers.

The contract: where a lane checker returns an outcome for a lane of a float64 batch, that outcome is
equal (status, detail, precision, data, in the same order) to ``claim.check`` on the lane's
trajectory, except ``OUTSIDE``, which it returns only where ``claim.admits`` rejects the init; and a
sweep gives the same results with and without lane checkers.
"""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from flint import arb
from hypothesis import given
from hypothesis import strategies as st

from proofs.paper_a import checks as ck
from proofs.paper_a import lanes as lk
from proofs.paper_a.catalog import CLAIMS, MUTATIONS
from verify.arith import Tri, get_backend
from verify.claims import lanes as ln
from verify.claims.claim import Case
from verify.claims.runner import check_claims
from verify.distributed.options import SweepOptions
from verify.dynamics import batch as bt
from verify.settings import CheckSettings
from verify.strategies import inits as init_strategy
from verify.strategies import small_rationals

WITH_LANES = [c for c in (*CLAIMS.values(), *MUTATIONS.values()) if c.lanes is not None]
ETAS = ("1/10", "1/2", "1", "3")


def _text(outcome) -> str:
    return json.dumps(outcome.to_dict())


def _lanes_and_checker(settings: CheckSettings, thetas: list[tuple[Fraction, ...]]) -> tuple[int, int]:
    """Every lane checker on a batch of ``thetas`` against the checker on each lane's trajectory:
    asserts equality wherever the lane checker decides; returns (lanes decided, lane-claim pairs)."""
    problem, spec = settings.problem(), settings.sweep_spec()
    run = bt.run_batch(problem, thetas, settings.steps, schedule=spec.schedule)
    view = ln.LaneView(run)
    decided = pairs = 0
    for claim in WITH_LANES:
        fast = claim.lanes(view)
        assert len(fast) == len(thetas)
        for k, out in enumerate(fast):
            if not run.completed(k):
                assert out is None, "a lane the batch did not certify has no lane outcome"
                continue
            pairs += 1
            if out is None:
                continue
            decided += 1
            case = Case(settings, run.init(k), k, problem)
            if out is ln.OUTSIDE:  # the runner's not-admitted outcome: admits must reject the init
                assert claim.admits(case) is False, (claim.id, k)
                continue
            case.__dict__["trajectory"] = run.trajectory(k, spec.prec)
            assert _text(out) == _text(claim.check(case)), (claim.id, k)
    return decided, pairs


@given(st.lists(init_strategy("a"), min_size=1, max_size=12), st.sampled_from(ETAS), st.integers(1, 400))
def test_lane_outcomes_equal_the_checkers(thetas, eta, steps):
    decided, pairs = _lanes_and_checker(CheckSettings(eta=eta, steps=steps), thetas)
    assert pairs == 0 or decided > 0  # phase-ordering (a true claim) decides every certified lane at least


@pytest.mark.parametrize("scheme", ["he", "pytorch", "normal"])
def test_lane_checkers_decide_most_lanes_of_a_sweep(scheme):
    """The equality above, on a sweep's own inits, where the lane checkers must decide most pairs
    (else the fast path would be dead code and the equality vacuous)."""
    from verify.init.schemes import sample_inits

    settings = CheckSettings(steps=300, scheme=scheme)
    thetas = sample_inits(settings.problem().network, scheme, 7, 60)
    decided, pairs = _lanes_and_checker(settings, thetas)
    assert decided >= 0.6 * pairs, (decided, pairs)


@pytest.mark.parametrize("keep", ["all", "examples"])
def test_a_check_gives_the_same_results_with_and_without_lane_checkers(keep):
    claims = [c for c in (*CLAIMS.values(), *MUTATIONS.values()) if c.scope != "once"]
    settings = CheckSettings(inits=48, steps=300)
    options = SweepOptions(executor="inline", progress=False)
    fast = check_claims(claims, settings, keep=keep, options=options)
    slow = check_claims([replace(c, lanes=None) for c in claims], settings, keep=keep, options=options)
    assert [json.dumps(r.to_dict()) for r in fast] == [json.dumps(r.to_dict()) for r in slow]
    assert sum(r.counts["certified"] for r in fast) > 0


# -- the directed-rounding primitives ---------------------------------------------------------------
doubles = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-300)


def _interval(draw_a, draw_b) -> tuple[float, float]:
    return (min(draw_a, draw_b), max(draw_a, draw_b))


@given(st.lists(st.tuples(st.sampled_from((1, -1)), doubles, doubles), min_size=1, max_size=4))
def test_inner_linear_is_inside_the_exact_image(terms):
    parts = [(c, _interval(a, b)) for c, a, b in terms]
    lo, hi = ln.inner_linear([(c, (np.array([a]), np.array([b]))) for c, (a, b) in parts])
    exact_lo = sum((Fraction(a) if c == 1 else -Fraction(b) for c, (a, b) in parts), Fraction(0))
    exact_hi = sum((Fraction(b) if c == 1 else -Fraction(a) for c, (a, b) in parts), Fraction(0))
    assert exact_lo <= Fraction(lo[0]) and Fraction(hi[0]) <= exact_hi
    if all(a == b for _, (a, b) in parts) and len(parts) == 2:
        # the sum of two doubles: a point when it is a double, else an empty inner interval
        assert (lo[0] == hi[0]) == (exact_lo == Fraction(float(exact_lo)))


@given(st.lists(st.tuples(st.sampled_from((1, -1)), doubles, doubles), min_size=1, max_size=4))
def test_outer_linear_holds_the_exact_image(terms):
    parts = [(c, _interval(a, b)) for c, a, b in terms]
    lo, hi = ln.outer_linear([(c, (np.array([a]), np.array([b]))) for c, (a, b) in parts])
    exact_lo = sum((Fraction(a) if c == 1 else -Fraction(b) for c, (a, b) in parts), Fraction(0))
    exact_hi = sum((Fraction(b) if c == 1 else -Fraction(a) for c, (a, b) in parts), Fraction(0))
    assert Fraction(lo[0]) <= exact_lo and exact_hi <= Fraction(hi[0])
    if exact_lo == exact_hi == Fraction(float(exact_lo)) and len(parts) == 2:
        assert lo[0] == hi[0]  # a sum of two doubles that is a double stays a point


@given(doubles, doubles, small_rationals())
def test_widened_intervals_hold_the_arb_balls_and_decide_like_them(a, b, q):
    lo, hi = _interval(a, b)
    be = get_backend("arb", 128)
    ball = be.from_doubles(lo, hi)
    wlo, whi = ln.widen((np.array([lo]), np.array([hi])))
    assert arb(float(wlo[0])) <= ball.lower() and ball.upper() <= arb(float(whi[0]))
    with be.working_precision():
        arb_lt = be.lt(ball, be.exact(q))
    if ln.below((wlo, whi), q)[0]:
        assert arb_lt.certainly()
    if ln.not_below((wlo, whi), q)[0]:
        assert arb_lt is Tri.FALSE


# -- the merged rows of a LaneView --------------------------------------------------------------------
class _Log:
    def __init__(self, lane, t, pat, P, L):
        self.lane, self.t, self.pat, self.P, self.L, self.used = lane, t, pat, P, L, len(lane)


class _Run:
    """What LaneView reads of a BatchRun, with a random change log."""

    def __init__(self, lanes, steps, rec_steps, log, rec_P, rec_L):
        self.status = np.zeros(lanes, np.int8)
        self.steps, self.rec_steps, self.log, self.rec_P, self.rec_L = steps, rec_steps, log, rec_P, rec_L

    def __len__(self):
        return len(self.status)


@st.composite
def _runs(draw):
    lanes, steps, p = draw(st.integers(1, 5)), draw(st.integers(1, 40)), draw(st.integers(1, 3))
    inner = draw(st.sets(st.integers(1, steps - 1), max_size=steps - 1)) if steps > 1 else set()
    rec_steps = np.array(sorted({0, steps} | inner), np.int64)
    per_lane = [draw(st.sets(st.integers(0, steps), max_size=8)) for _ in range(lanes)]
    entries = sorted((t, k) for k, ts in enumerate(per_lane) for t in ts)  # appended in step order
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    E, R = len(entries), len(rec_steps)
    pat = rng.integers(0, draw(st.sampled_from((2, 3))), (E, draw(st.integers(1, 5)))).astype(np.int8)  # 3: not bits
    log = _Log(np.array([k for _, k in entries], np.int64).reshape(E), np.array([t for t, _ in entries], np.int64)
               .reshape(E), pat, rng.normal(size=(2, E, p)),
               rng.normal(size=(2, E)))
    return _Run(lanes, steps, rec_steps, log, rng.normal(size=(2, lanes, R, p)), rng.normal(size=(2, lanes, R)))


def _inserted(run, sched, logged):
    """The rows as LaneView built them with np.insert (the reference for the merge plan)."""
    L, used = len(run), run.log.used
    extra = np.flatnonzero(~np.isin(run.log.t[:used], run.rec_steps))
    span = int(run.steps) + 1
    sched_key = (np.arange(L)[:, None] * span + run.rec_steps[None, :]).reshape(-1)
    extra_key = run.log.lane[:used][extra] * span + run.log.t[:used][extra]
    order = np.argsort(extra_key, kind="stable")
    extra, extra_key = extra[order], extra_key[order]
    return np.insert(sched, np.searchsorted(sched_key, extra_key), logged[extra], axis=0)


@given(_runs())
def test_merged_rows_equal_the_inserted_rows(run):
    view, log, L, p = ln.LaneView(run), run.log, len(run), run.rec_P.shape[-1]
    expect = {"lane": _inserted(run, np.repeat(np.arange(L), len(run.rec_steps)), log.lane),
              "t": _inserted(run, np.tile(run.rec_steps, L), log.t),
              "lo": _inserted(run, run.rec_P[0].reshape(-1, p), log.P[0]),
              "hi": _inserted(run, run.rec_P[1].reshape(-1, p), log.P[1]),
              "loss_lo": _inserted(run, run.rec_L[0].reshape(-1), log.L[0]),
              "loss_hi": _inserted(run, run.rec_L[1].reshape(-1), log.L[1])}
    for name, want in expect.items():
        got = getattr(view, name)
        assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes(), name
    assert view.row_start.tolist() == np.searchsorted(expect["lane"], np.arange(L + 1)).tolist()
    porder = np.argsort(log.lane, kind="stable")
    assert view.phase_pat == ["".join(map(str, bits)) for bits in log.pat[porder].tolist()]
    # the phase helpers against each lane's phases read one by one
    seqs = [[(t, "".join(map(str, b))) for k2, t, b in zip(log.lane.tolist(), log.t.tolist(), log.pat.tolist(),
                                                         strict=True) if k2 == k] for k in range(L)]
    assert [view.phases(k) for k in range(L)] == seqs
    path_of, paths = view.phase_paths()
    assert [paths[i] for i in path_of.tolist()] == [tuple(p for _, p in seq) for seq in seqs]
    mask = np.random.default_rng(len(view.t)).random(len(view.t)) < 0.3
    per_lane = [np.flatnonzero(mask & (view.lane == k)) for k in range(L)]
    assert view.first(mask).tolist() == [int(r[0]) if len(r) else -1 for r in per_lane]
    assert view.count(mask).tolist() == [len(r) for r in per_lane]
    assert view.every(mask).tolist() == [bool(mask[view.lane == k].all()) for k in range(L)]
    for pattern in {*view.patterns, "none"}:
        t, last = view.first_phase(pattern)
        firsts = [next((i for i, (_, q) in enumerate(seq) if q == pattern), None) for seq in seqs]
        assert t.tolist() == [-1 if i is None else seqs[k][i][0] for k, i in enumerate(firsts)]
        assert last.tolist() == [i is not None and i == len(seqs[k]) - 1 for k, i in enumerate(firsts)]
    # rows sorted by (lane, step): each lane's rows are its recorded steps in order, without duplicates
    key = view.lane * (run.steps + 1) + view.t
    assert (np.diff(key) > 0).all()


any_doubles = st.floats(allow_nan=False, allow_infinity=False)


@given(st.lists(st.tuples(any_doubles, any_doubles, any_doubles, any_doubles), min_size=1, max_size=8))
def test_basin_of_doubles_is_the_exact_basin(rows):
    """The float sums decide the signs of w1 + b1 and b2 - w2 exactly (huge, subnormal, cancelling)."""
    got = lk.basin_of_doubles(np.array(rows, np.float64)).tolist()
    assert got == [ck.in_basin(tuple(Fraction(v) for v in row)) for row in rows]


@given(any_doubles, st.sampled_from((1.0, -1.0, 2.0**-1074, -(2.0**-1074))))
def test_basin_of_doubles_at_cancellation(v, d):
    """w1 + b1 (and b2 - w2) at 0 exactly or one subnormal step from it."""
    w1 = v
    rows = [(w1, -w1, -w1, -w1), (w1, -w1 + d, -w1, -w1 + d), (w1, d - w1, w1, w1 + d)]
    got = lk.basin_of_doubles(np.array(rows, np.float64)).tolist()
    assert got == [ck.in_basin(tuple(Fraction(x) for x in row)) for row in rows]


_SPECIAL = (0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 2.0**-1022, -(2.0**-1022), 1.7976931348623157e308,
            -1.7976931348623157e308)


@given(st.lists(st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from(_SPECIAL)), min_size=1, max_size=40),
       st.booleans())
def test_next_double_is_nextafter_bit_for_bit(items, strided):
    """Every bit pattern (NaN payloads, subnormals, zeros of both signs, infinities) steps as np.nextafter."""
    bits = np.array([v if isinstance(v, int) else int(np.float64(v).view(np.int64)) for v in items], np.int64)
    x = bits.view(np.float64)
    if strided:  # a column of a matrix (not contiguous)
        x = np.stack([x, x], axis=1)[:, 0]
    with np.errstate(all="ignore"):
        assert ln._up(x).tobytes() == np.nextafter(x, np.inf).tobytes()
        assert ln._down(x).tobytes() == np.nextafter(x, -np.inf).tobytes()


zero_or_not = st.one_of(st.sampled_from((0.0, -0.0)), any_doubles)


@given(st.lists(st.tuples(any_doubles, zero_or_not, any_doubles, zero_or_not), min_size=1, max_size=8))
def test_zero_bias_f_start_of_doubles_is_the_hypothesis(rows):
    got = lk.zero_bias_f_start_of_doubles(np.array(rows, np.float64)).tolist()
    settings = CheckSettings()
    assert got == [ck.zero_bias_f_start(Case(settings, tuple(Fraction(v) for v in row))) for row in rows]
