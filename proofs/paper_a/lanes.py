"""Lane checkers for paper A's per-init claims: the outcomes of :mod:`proofs.paper_a.checks` decided
for every lane of a float64 batch at once (:mod:`verify.claims.lanes`).

Each ``*_lanes`` mirrors the checker of the same name and returns, per lane, the outcome that checker
gives on the lane's trajectory, or ``None`` where it would refute, stay inconclusive, or where the
double intervals cannot tell what the Arb balls would give (the runner then runs the checker).
``tests/test_lane_checks.py`` holds the two equal on random inits.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np

from proofs.paper_a import checks as ck
from proofs.paper_a import derivations as der
from verify.arith.f64 import enclose
from verify.claims import lanes as ln
from verify.claims.result import Outcome

LaneOutcomes = list[Outcome | None]
F = ck.F_PATTERN


def _at(view: ln.LaneView, out: Outcome) -> Outcome:
    """``out`` as a checker on a float64 trajectory states it (its precision, 53 bits)."""
    return Outcome(out.status, out.detail, view.prec, out.counterexample, out.data)


def _place(view: ln.LaneView, lanes: np.ndarray, make: Callable[..., Outcome], *keys: np.ndarray) -> LaneOutcomes:
    """Outcomes for ``lanes`` (others: None): ``make(*key)`` with each lane's values of ``keys`` as
    Python scalars, made once per distinct key and shared by the lanes that have it (outcomes are
    frozen; many lanes share e.g. the step of F entry). The lanes are grouped by their keys in
    numpy (each key column's distinct values, combined), not one by one."""
    out = np.empty(len(view), object)  # None everywhere
    if len(lanes) == 0:
        return out.tolist()
    code = np.zeros(len(lanes), np.int64)  # per lane: the index of its distinct key
    for k in keys:
        _, inverse = np.unique(np.asarray(k)[lanes], return_inverse=True)
        _, code = np.unique(code * (int(inverse.max()) + 1) + inverse.reshape(-1), return_inverse=True)
    _, first, code = np.unique(code, return_index=True, return_inverse=True)
    columns = [np.asarray(k)[lanes[first]].tolist() for k in keys]  # the keys as Python scalars, as given
    made = np.empty(len(first), object)
    for u, key in enumerate(zip(*columns, strict=True) if columns else [()]):
        made[u] = make(*key)
    out[lanes] = made[code.reshape(-1)]
    return out.tolist()


def undecided(view: ln.LaneView) -> LaneOutcomes:
    """No lane decided here: for a claim whose hypotheses (on the exact init) are what the runner
    can decide without the trajectory."""
    return [None] * len(view)


def zero_bias_f_start_of_doubles(theta: np.ndarray) -> np.ndarray:
    """:func:`proofs.paper_a.checks.zero_bias_f_start` of each row ``(w1, b1, w2, b2)`` of doubles
    (comparisons of doubles with 0 are exact)."""
    w1, b1, w2, b2 = (theta[:, i] for i in range(4))
    return (b1 == 0) & (b2 == 0) & (w1 > 0) & (w2 < 0)


def monotone_lanes(view: ln.LaneView) -> LaneOutcomes:
    """For a claim whose hypotheses are :func:`proofs.paper_a.checks.monotone_admits`: the lanes whose
    init is not zero-bias with ``w1(0) > 0 > w2(0)`` are outside them (:data:`verify.claims.lanes.OUTSIDE`,
    no init built); the others are left to ``admits`` and the checker."""
    theta = view.init_doubles()
    if theta is None or theta.shape[1] != 4:
        return undecided(view)
    return _place(view, np.flatnonzero(view.completed & ~zero_bias_f_start_of_doubles(theta)), lambda: ln.OUTSIDE)


def phase_ordering_lanes(view: ln.LaneView) -> LaneOutcomes:
    """:func:`proofs.paper_a.checks.phase_ordering_checker`, certified lanes only (one outcome per
    distinct pattern path)."""
    graph = der.transition_graph()
    if graph[F] != {F}:
        return [None] * len(view)
    path_of, paths = view.phase_paths()
    lanes = np.flatnonzero(view.completed)
    follows = np.zeros(len(paths), bool)
    for i in set(path_of[lanes].tolist()):
        seq = paths[i]
        follows[i] = all(q in graph[p] for p, q in zip(seq, seq[1:], strict=False))

    def make(i: int) -> Outcome:
        path = "->".join(paths[i])
        return _at(view, ck.certified(f"pattern path {path} follows the derived graph", None, path=path))

    return _place(view, lanes[follows[path_of[lanes]]], make, path_of)


def absorbing_lanes(pattern: str) -> Callable[[ln.LaneView], LaneOutcomes]:
    """:func:`proofs.paper_a.checks.absorbing_checker`: lanes that keep ``pattern`` once entered, or never visit it."""

    def lanes(view: ln.LaneView) -> LaneOutcomes:
        t, last = view.first_phase(pattern)
        never, keeps = view.completed & (t < 0), view.completed & (t >= 0) & last
        end = view.last_step(0) if len(view) else 0

        def make(t_in: int) -> Outcome:
            if t_in < 0:
                return _at(view, ck.not_admitted(f"the run never visits {pattern}"))
            return _at(view, ck.certified(f"{pattern} entered at step {t_in} and kept to step {end}"))

        return _place(view, np.flatnonzero(never | keeps), make, t)

    return lanes


def f_invariance_lanes(quantities: dict[str, ck.Linear] | None = None) -> Callable[[ln.LaneView], LaneOutcomes]:
    """:func:`proofs.paper_a.checks.f_invariance_checker`: lanes that never enter F (not admitted),
    and lanes that stay in F with every quantity's inner interval overlapping its value at F entry
    (and containing the exact initial value when the run starts in F)."""
    qs = quantities or {"c1": ck.c1_of, "c2": ck.c2_of}

    def lanes(view: ln.LaneView) -> LaneOutcomes:
        L = len(view)
        t_f, stays = view.first_phase(F)
        never = view.completed & (t_f < 0)
        stays &= view.completed & (t_f >= 0)
        if not stays.any() or not ck.final_phase_identities_hold():
            return _place(view, np.flatnonzero(never), lambda: _at(view, ck.not_admitted("the run never enters F")))
        ids = np.flatnonzero(stays)  # the lanes that enter F and stay: only their rows are merged
        sub = ln.LaneView(view.run.lanes(ids))
        K, lane, t = len(ids), sub.lane, sub.t
        t_lane = t_f[ids][lane]
        in_f = t >= t_lane
        entry_of = np.full(K, -1, np.int64)  # per lane: its row at F entry (its first row in F)
        first = in_f.copy()  # rows in F are a suffix of each lane's rows: the first is where the lane changes
        first[1:] &= (lane[1:] != lane[:-1]) | ~in_f[:-1]
        entry_of[lane[first]] = np.flatnonzero(first)
        after = in_f & (t > t_lane)
        at0 = (t_lane == 0) & after
        starts = sub.row_start[:-1]
        entry_lanes = np.flatnonzero(entry_of >= 0)
        entry_rows = entry_of[entry_lanes]
        spread = np.zeros(K, np.int64)  # values per entry lane, spread over its rows (elementwise: the same doubles)
        spread[entry_lanes] = np.arange(len(entry_lanes))
        spread = spread[lane]
        ok = np.ones(len(lane), bool)
        lo, hi = sub.lo, sub.hi
        for q in qs.values():
            cols = [(c, ck.NAMES.index(name)) for c, name in q.terms]
            val = ln.inner_linear([(c, (lo[:, i], hi[:, i])) for c, i in cols])
            at_entry = ln.inner_linear([(c, (lo[entry_rows, i], hi[entry_rows, i])) for c, i in cols])
            ok &= ~after | ln.inner_overlaps(val, (at_entry[0][spread], at_entry[1][spread]))
            # the exact initial value, for runs in F from step 0, enclosed from the step-0 row (the
            # tightest double enclosure of the exact init: a point where the init is a double)
            q0 = ln.outer_linear([(c, (lo[starts, i], hi[starts, i])) for c, i in cols])
            ok &= ~at0 | ((val[0] <= q0[0][lane]) & (q0[1][lane] <= val[1]))
        bad, recorded = np.zeros(L, np.int64), np.zeros(L, np.int64)
        bad[ids] = np.bincount(lane[~ok], minlength=K)
        recorded[ids] = np.bincount(lane[in_f], minlength=K)
        names, end = ", ".join(qs), view.last_step(0)

        def make(t_in: int, n: int) -> Outcome:
            if t_in < 0:
                return _at(view, ck.not_admitted("the run never enters F"))
            return _at(view, ck.certified(
                f"in F from step {t_in} to {end}; {names} unchanged symbolically (derivations) "
                f"and consistent at {n} recorded steps", None, t_enter=t_in, recorded=n))

        return _place(view, np.flatnonzero(never | (stays & (bad == 0))), make, t_f, recorded)

    return lanes


def _wide_loss(view: ln.LaneView) -> ln.Interval:
    """The loss at every row widened to hold its Arb ball (outer mode), made once per view."""
    key = (__name__, "wide loss")
    if key not in view.memo:
        view.memo[key] = ln.widen((view.loss_lo, view.loss_hi))
    return view.memo[key]  # type: ignore[return-value]


def _classified(view: ln.LaneView, rows: np.ndarray) -> np.ndarray | None:
    """:func:`_classified_rows` at ``rows``, each row computed once per view (the small-loss claims
    of several thresholds ask for overlapping rows)."""
    key = (__name__, "classified")
    known = view.memo.get(key)
    if key not in view.memo:
        first = _classified_rows(view, rows)
        if first is None:
            view.memo[key] = None
            return None
        known = view.memo[key] = np.full(len(view.t), -1, np.int8)  # -1: not computed yet
        known[rows] = first
        return first
    if known is None:
        return None
    assert isinstance(known, np.ndarray)
    todo = rows[known[rows] < 0]
    if len(todo):
        known[todo] = _classified_rows(view, todo)
    return known[rows] == 1


def _classified_rows(view: ln.LaneView, rows: np.ndarray) -> np.ndarray | None:
    """At each of ``rows``: every training point certainly correctly classified (``y_i Phi(x_i) > 0``
    TRUE on the Arb balls), from outer intervals; None when the network is not paper A's kind (fixed
    output weights, inputs and weights that are doubles). Elementwise in the rows, so the same on a
    subset of the rows as on all of them."""
    problem = view.run.problem
    net, data = problem.network, problem.data
    if net.dim != 1 or net.trains_output:
        return None
    weights = [float(a) for a in net.output_weights]
    xs = [float(row[0]) for row in data.X]
    if any(Fraction(v) != q for v, q in zip(weights + xs, [*net.output_weights, *(r[0] for r in data.X)],
                                           strict=True)):
        return None
    lo, hi = np.take(view.lo, rows, axis=0), np.take(view.hi, rows, axis=0)  # faster than lo[rows]
    wide = {}  # each parameter widened once, for every training point
    ok = np.ones(len(rows), bool)
    for x, y in zip(xs, data.y, strict=True):
        total = None
        for j, a in enumerate(weights):
            w_at, b_at = range(net.n_params)[net.neuron_slice(j)]
            for q in (w_at, b_at):
                if q not in wide:
                    wide[q] = ln.widen((lo[:, q], hi[:, q]))
            z = ln.outer_add(ln.outer_scale(wide[w_at], x), wide[b_at])
            term = ln.outer_scale(ln.outer_relu(z), a)
            total = term if total is None else ln.outer_add(total, term)
        ok &= ln.positive(ln.widen(ln.outer_scale(total, float(y))))
    return ok


def small_loss_lanes(threshold: object = ck.HALF) -> Callable[[ln.LaneView], LaneOutcomes]:
    """:func:`proofs.paper_a.checks.small_loss_checker`: lanes with no recorded step of possibly small
    loss (not admitted), and lanes correctly classified at each such step (checked on those steps
    only)."""
    thr = Fraction(threshold)

    def lanes(view: ln.LaneView) -> LaneOutcomes:
        loss = _wide_loss(view)
        small, large = ln.below(loss, thr), ln.not_below(loss, thr)
        decided = view.every(small | large) & view.completed
        seen = view.count(~large)
        rows = np.flatnonzero(~large & decided[view.lane])  # where classification matters
        classified = _classified(view, rows)
        if classified is not None:
            decided &= np.bincount(view.lane[rows[~classified]], minlength=len(view)) == 0
        else:
            decided &= seen == 0

        def make(n: int) -> Outcome:
            if n == 0:
                return _at(view, ck.not_admitted(f"no recorded step has L < {thr}"))
            return _at(view, ck.certified(f"{n} recorded steps with L < {thr}; both points correctly classified "
                                          "at each", None, small_steps=n))

        return _place(view, np.flatnonzero(decided), make, seen)

    return lanes


def basin_of_doubles(theta: np.ndarray) -> np.ndarray:
    """:func:`proofs.paper_a.checks.in_basin` of each row ``(w1, b1, w2, b2)`` of doubles (their exact
    values): ``w1 + b1 > 0`` and ``b2 - w2 > 0``. The float sums decide the signs exactly: a
    rounded-to-nearest sum of two doubles has the sign of the exact sum (rounding is monotone,
    keeps 0, and a nonzero sum of doubles is at least the least subnormal; overflow keeps the sign)."""
    w1, b1, w2, b2 = (theta[:, i] for i in range(4))
    with np.errstate(over="ignore"):
        return (w1 + b1 > 0) & (-w2 + b2 > 0)


def _in_basin(view: ln.LaneView, lanes: np.ndarray) -> np.ndarray:
    """Per lane (``lanes`` meaningful only): :func:`proofs.paper_a.checks.in_basin` of its exact init."""
    theta = view.init_doubles()
    if theta is not None and theta.shape[1] == 4:
        return basin_of_doubles(theta)
    basin = np.zeros(len(view), bool)
    basin[lanes] = [ck.in_basin(view.theta0(k)) for k in lanes.tolist()]
    return basin


def convergence_basin_lanes(view: ln.LaneView) -> LaneOutcomes:
    """:func:`proofs.paper_a.checks.convergence_basin_checker`, certified lanes only."""
    loss = (view.loss_lo, view.loss_hi)
    small = ln.below(_wide_loss(view), ck.HALF)
    not_small = loss[1] >= enclose(ck.HALF)[1]  # the Arb ball reaches at least as high: never certified < 1/2
    row = view.first(small)
    unsure = view.first(~small & ~not_small)
    # whether Arb certifies L < 1/2 at an unsure row (and so which step is first) is unknown there
    known = view.completed & ~((unsure >= 0) & ((row < 0) | (unsure < row)))
    stuck = view.first_entry(view.codes_where(lambda p: p[0] == "0" or p[3] == "0"))
    dead = view.first_entry(view.codes_where(lambda p: p[:2] == "00" or p[2:] == "00"))
    lanes = np.flatnonzero(known)
    basin = _in_basin(view, lanes)
    converged = basin & (stuck < 0) & (row >= 0)
    outside = ~basin & (row < 0) & (stuck >= 0) & ck.frozen_while_inactive()
    step, stuck_t, dead_t = ln.pick(view.t, row), ln.pick(view.phase_t, stuck), ln.pick(view.phase_t, dead)

    def make(inside: bool, t: int, stuck_t: int, stuck_code: int, dead_t: int) -> Outcome:
        data = {"basin": inside, "stuck_step": stuck_t if stuck_t >= 0 else None,
                "dead_neuron_step": dead_t if dead_t >= 0 else None}
        if inside:
            return _at(view, ck.certified(f"in the basin (z11(0), z22(0) > 0); L < 1/2 certified at step {t}", None,
                                          converged_step=t, **data))
        return _at(view, ck.certified(f"outside the basin; stuck from step {stuck_t} (pattern "
                                      f"{view.patterns[stuck_code]}), so L >= 1/2 for ever", None, **data))

    return _place(view, np.flatnonzero(known & (converged | outside)), make, basin, step, stuck_t,
                  ln.pick(view.phase_code, stuck), dead_t)


def degenerate_interval_lanes(view: ln.LaneView) -> LaneOutcomes:
    """:func:`proofs.paper_a.checks.degenerate_interval_checker`: the lanes whose run does not end in F
    (not admitted); the others need the decision set's geometry, on the checker's path."""
    last = view.last_entry()
    ends_in_f = ln.pick(view.phase_code, last) == view.code_of(F)  # -1 only for a lane without phases (masked below)
    lanes = np.flatnonzero(view.completed & (last >= 0) & ~ends_in_f)  # a lane without phases: left to the checker
    return _place(view, lanes, lambda: _at(view, ck.not_admitted("the run does not end in F")))
