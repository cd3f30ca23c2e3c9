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


def undecided(view: ln.LaneView) -> LaneOutcomes:
    """No lane decided here: for a claim whose hypotheses (on the exact init) are what the runner
    can decide without the trajectory."""
    return [None] * len(view)


def phase_ordering_lanes(view: ln.LaneView) -> LaneOutcomes:
    """:func:`proofs.paper_a.checks.phase_ordering_checker`, certified lanes only."""
    graph = der.transition_graph()
    out: LaneOutcomes = [None] * len(view)
    if graph[F] != {F}:
        return out
    for k in np.flatnonzero(view.completed).tolist():
        seq = view.phases(k)
        if all(q in graph[p] for (_, p), (_, q) in zip(seq, seq[1:], strict=False)):
            path = "->".join(p for _, p in seq)
            out[k] = _at(view, ck.certified(f"pattern path {path} follows the derived graph", None, path=path))
    return out


def absorbing_lanes(pattern: str) -> Callable[[ln.LaneView], LaneOutcomes]:
    """:func:`proofs.paper_a.checks.absorbing_checker`: lanes that keep ``pattern`` once entered, or never visit it."""

    def lanes(view: ln.LaneView) -> LaneOutcomes:
        out: LaneOutcomes = [None] * len(view)
        for k in np.flatnonzero(view.completed).tolist():
            seq = view.phases(k)
            at = next((i for i, (_, p) in enumerate(seq) if p == pattern), None)
            if at is None:
                out[k] = _at(view, ck.not_admitted(f"the run never visits {pattern}"))
            elif at + 1 == len(seq):
                out[k] = _at(view, ck.certified(f"{pattern} entered at step {seq[at][0]} and kept to step "
                                                f"{view.last_step(k)}"))
        return out

    return lanes


def f_invariance_lanes(quantities: dict[str, ck.Linear] | None = None) -> Callable[[ln.LaneView], LaneOutcomes]:
    """:func:`proofs.paper_a.checks.f_invariance_checker`: lanes that never enter F (not admitted),
    and lanes that stay in F with every quantity's inner interval overlapping its value at F entry
    (and containing the exact initial value when the run starts in F)."""
    qs = quantities or {"c1": ck.c1_of, "c2": ck.c2_of}

    def lanes(view: ln.LaneView) -> LaneOutcomes:
        out: LaneOutcomes = [None] * len(view)
        t_f, stays = view.first_phase(F)
        never = _at(view, ck.not_admitted("the run never enters F"))
        for k in np.flatnonzero(view.completed & (t_f < 0)).tolist():
            out[k] = never
        stays &= view.completed & (t_f >= 0)
        if not stays.any() or not ck.final_phase_identities_hold():
            return out
        rows = np.flatnonzero(stays[view.lane])  # the rows of the lanes that enter F and stay
        lane, t = view.lane[rows], view.t[rows]
        in_f = t >= t_f[lane]
        entry_of = np.full(len(view), -1, np.int64)  # per lane: its row at F entry (its first row in F)
        lanes_in, at = np.unique(lane[in_f], return_index=True)
        entry_of[lanes_in] = rows[in_f][at]
        entry = entry_of[lane]
        after = in_f & (t > t_f[lane])
        starts = view.row_start[:-1]
        ok = np.ones(len(rows), bool)
        for q in qs.values():
            cols = [(c, ck.NAMES.index(name)) for c, name in q.terms]
            val = ln.inner_linear([(c, (view.lo[rows, i], view.hi[rows, i])) for c, i in cols])
            at_entry = ln.inner_linear([(c, (view.lo[entry, i], view.hi[entry, i])) for c, i in cols])
            ok &= ~after | ln.inner_overlaps(val, at_entry)
            # the exact initial value, for runs in F from step 0, enclosed from the step-0 row (the
            # tightest double enclosure of the exact init: a point where the init is a double)
            q0 = ln.outer_linear([(c, (view.lo[starts, i], view.hi[starts, i])) for c, i in cols])
            at0 = (t_f[lane] == 0) & after
            ok &= ~at0 | ((val[0] <= q0[0][lane]) & (q0[1][lane] <= val[1]))
        bad = np.bincount(lane[~ok], minlength=len(view))
        recorded = np.bincount(lane[in_f], minlength=len(view))
        names = ", ".join(qs)
        for k in np.flatnonzero(stays & (bad == 0)).tolist():
            out[k] = _at(view, ck.certified(
                f"in F from step {int(t_f[k])} to {view.last_step(k)}; {names} unchanged symbolically (derivations) "
                f"and consistent at {int(recorded[k])} recorded steps", None, t_enter=int(t_f[k]),
                recorded=int(recorded[k])))
        return out

    return lanes


def _classified(view: ln.LaneView) -> np.ndarray | None:
    """Per row: every training point certainly correctly classified (``y_i Phi(x_i) > 0`` TRUE on the
    Arb balls), from outer intervals; None when the network is not paper A's kind (fixed output
    weights, inputs and weights that are doubles)."""
    problem = view.run.problem
    net, data = problem.network, problem.data
    if net.dim != 1 or net.trains_output:
        return None
    weights = [float(a) for a in net.output_weights]
    xs = [float(row[0]) for row in data.X]
    if any(Fraction(v) != q for v, q in zip(weights + xs, [*net.output_weights, *(r[0] for r in data.X)],
                                           strict=True)):
        return None
    ok = np.ones(len(view.t), bool)
    for x, y in zip(xs, data.y, strict=True):
        total = None
        for j, a in enumerate(weights):
            w_at, b_at = range(net.n_params)[net.neuron_slice(j)]
            z = ln.outer_add(ln.outer_scale(ln.widen(view.param(w_at)), x), ln.widen(view.param(b_at)))
            term = ln.outer_scale(ln.outer_relu(z), a)
            total = term if total is None else ln.outer_add(total, term)
        ok &= ln.positive(ln.widen(ln.outer_scale(total, float(y))))
    return ok


def small_loss_lanes(threshold: object = ck.HALF) -> Callable[[ln.LaneView], LaneOutcomes]:
    """:func:`proofs.paper_a.checks.small_loss_checker`: lanes with no recorded step of possibly small
    loss (not admitted), and lanes correctly classified at each such step."""
    thr = Fraction(threshold)

    def lanes(view: ln.LaneView) -> LaneOutcomes:
        out: LaneOutcomes = [None] * len(view)
        loss = ln.widen((view.loss_lo, view.loss_hi))
        small, large = ln.below(loss, thr), ln.not_below(loss, thr)
        classified = _classified(view)
        decided = view.every(small | large) & view.completed
        seen = view.count(~large)
        if classified is not None:
            decided &= view.every(large | classified)
        for k in np.flatnonzero(decided).tolist():
            if seen[k] == 0:
                out[k] = _at(view, ck.not_admitted(f"no recorded step has L < {thr}"))
            elif classified is not None:
                out[k] = _at(view, ck.certified(f"{int(seen[k])} recorded steps with L < {thr}; both points "
                                                "correctly classified at each", None, small_steps=int(seen[k])))
        return out

    return lanes


def convergence_basin_lanes(view: ln.LaneView) -> LaneOutcomes:
    """:func:`proofs.paper_a.checks.convergence_basin_checker`, certified lanes only."""
    out: LaneOutcomes = [None] * len(view)
    loss = (view.loss_lo, view.loss_hi)
    small = ln.below(ln.widen(loss), ck.HALF)
    not_small = loss[1] >= enclose(ck.HALF)[1]  # the Arb ball reaches at least as high: never certified < 1/2
    first_small = view.first(small)
    first_unsure = view.first(~small & ~not_small)
    frozen = ck.frozen_while_inactive()
    for k in np.flatnonzero(view.completed).tolist():
        row = int(first_small[k])
        if 0 <= first_unsure[k] and (row < 0 or first_unsure[k] < row):
            continue  # whether Arb certifies L < 1/2 there (and so which step is first) is unknown
        phases = view.phases(k)
        stuck = next(((t, p) for t, p in phases if p[0] == "0" or p[3] == "0"), None)
        dead = next((t for t, p in phases if p[:2] == "00" or p[2:] == "00"), None)
        data = {"basin": ck.in_basin(view.theta0(k)), "stuck_step": stuck[0] if stuck else None,
                "dead_neuron_step": dead}
        if data["basin"] and stuck is None and row >= 0:
            t = int(view.t[row])
            out[k] = _at(view, ck.certified(f"in the basin (z11(0), z22(0) > 0); L < 1/2 certified at step {t}", None,
                                            converged_step=t, **data))
        elif not data["basin"] and row < 0 and stuck is not None and frozen:
            out[k] = _at(view, ck.certified(f"outside the basin; stuck from step {stuck[0]} (pattern {stuck[1]}), so "
                                            "L >= 1/2 for ever", None, **data))
    return out


def degenerate_interval_lanes(view: ln.LaneView) -> LaneOutcomes:
    """:func:`proofs.paper_a.checks.degenerate_interval_checker`: the lanes whose run does not end in F
    (not admitted); the others need the decision set's geometry, on the checker's path."""
    out: LaneOutcomes = [None] * len(view)
    for k in np.flatnonzero(view.completed).tolist():
        if view.phases(k)[-1][1] != F:
            out[k] = _at(view, ck.not_admitted("the run does not end in F"))
    return out
