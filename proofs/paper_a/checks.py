"""Three-valued checkers for paper A's claims (and, with other parameters, their mutations).

Each public ``*_checker`` returns a function ``Case -> Outcome``. Decisions are taken only on
certified answers: exact ``Fraction`` arithmetic for facts about ``theta_0`` and ``theta*``,
:class:`~verify.arith.Tri` comparisons of enclosures for facts about ``theta_t``. An undecided
comparison makes the outcome *inconclusive*, never a guess. Facts valid for all ``t`` come from
:mod:`proofs.paper_a.derivations` (sympy), which every checker that relies on them consults.

Notation: ``z11 = w1 + b1``, ``z12 = -w1 + b1``, ``z21 = w2 + b2``, ``z22 = -w2 + b2``;
F = ``1001``; ``c1 = w1 - b1``, ``c2 = w2 + b2``; ``u = w1 + b1``, ``v = b2 - w2``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

from proofs.paper_a import derivations as der
from proofs.paper_a.geometry import THETA_STAR, neurons_of, robustness_margin, zero_set
from proofs.paper_a.problem import paper_a_problem
from verify.arith import Enclosure, Tri
from verify.claims.claim import Case
from verify.claims.result import Outcome, Status
from verify.dynamics.trajectory import StepRecord, Trajectory
from verify.errors import UndecidableError
from verify.exact import to_exact
from verify.geometry.line import output

Checker = Callable[[Case], Outcome]
Quantity = Callable[[dict[str, Enclosure]], Enclosure]
NAMES = ("w1", "b1", "w2", "b2")
F_PATTERN = der.FINAL
HALF = Fraction(1, 2)


# --- small helpers ---------------------------------------------------------
def exact_preacts(theta: Sequence[Fraction]) -> tuple[Fraction, ...]:
    """``(z11, z12, z21, z22)`` of an exact ``theta``."""
    w1, b1, w2, b2 = theta
    return (w1 + b1, -w1 + b1, w2 + b2, -w2 + b2)


def exact_pattern(theta: Sequence[Fraction]) -> str:
    """The activation pattern of an exact ``theta`` (``z > 0`` is active)."""
    return "".join("1" if z > 0 else "0" for z in exact_preacts(theta))


def zero_bias(theta: Sequence[Fraction]) -> bool:
    return theta[1] == 0 and theta[3] == 0


def in_basin(theta: Sequence[Fraction]) -> bool:
    """``z11 > 0`` and ``z22 > 0``: the two pre-activations whose sign GD can never change."""
    z = exact_preacts(theta)
    return z[0] > 0 and z[3] > 0


def l1(theta: Sequence[Fraction]) -> Fraction:
    return sum((abs(q) for q in theta), Fraction(0))


def theta_dict(theta: Sequence[Fraction] | None) -> dict[str, str]:
    return {n: str(q) for n, q in zip(NAMES, theta, strict=True)} if theta is not None else {}


def enc_str(e: Enclosure) -> str:
    """Exact endpoints of an enclosure as ``"[lo, hi]"`` (rationals)."""
    return f"[{e.lower}, {e.upper}]"


def _outcome(status: Status, detail: str, case: Case | None = None, cx: dict[str, str] | None = None,
             **data: Any) -> Outcome:
    prec = None
    if case is not None and case.theta0 is not None and "trajectory" in case.__dict__:
        prec = case.trajectory.prec
    counterexample = None
    if status is Status.REFUTED:
        counterexample = {**(theta_dict(case.theta0) if case is not None else {}), **(cx or {})}
    return Outcome(status, detail, prec, counterexample, {k: v for k, v in data.items() if v is not None})


def certified(detail: str, case: Case | None = None, **data: Any) -> Outcome:
    return _outcome(Status.CERTIFIED, detail, case, **data)


def refuted(detail: str, case: Case | None, cx: dict[str, str], **data: Any) -> Outcome:
    return _outcome(Status.REFUTED, detail, case, cx, **data)


def inconclusive(detail: str, case: Case | None = None, **data: Any) -> Outcome:
    return _outcome(Status.INCONCLUSIVE, detail, case, **data)


def not_admitted(detail: str, case: Case | None = None, **data: Any) -> Outcome:
    return _outcome(Status.NOT_ADMITTED, detail, case, **data)


def certified_trajectory(case: Case) -> Trajectory | Outcome:
    """The case's trajectory, or an inconclusive outcome when GD itself was not certified."""
    traj = case.trajectory
    if not traj.certified:
        return inconclusive(f"GD not certified: {traj.reason}", case, failed_step=traj.failed_step)
    return traj


def phase_at(traj: Trajectory, t: int) -> str:
    """Certified pattern of step ``t`` (from the run-length encoded phases)."""
    current = traj.phases[0][1]
    for start, pat in traj.phases:
        if start > t:
            break
        current = pat
    return current


def f_entry(traj: Trajectory) -> int | None:
    """First step whose certified pattern is F, or ``None``."""
    return next((t for t, p in traj.phases if p == F_PATTERN), None)


def records_from(traj: Trajectory, t0: int) -> list[StepRecord]:
    return [r for r in traj.records if r.t >= t0]


def output_at(traj: Trajectory, rec: StepRecord, x: int) -> Enclosure:
    """``Phi(theta_t; x)`` as an enclosure."""
    th = [Enclosure(traj.backend, v) for v in rec.theta]
    return output(neurons_of(traj.problem, th), x)


@lru_cache(maxsize=1)
def final_phase_identities_hold() -> bool:
    """Whether the sympy F-phase identities (conservation, decoupled updates) all simplify to 0."""
    return bool(der.final_phase_facts()["all_hold"])


# --- limit network ------------------------------------------------------------
def kkt_multipliers(theta: Sequence[Fraction]) -> tuple[list[Fraction], list[Fraction], list[list[Fraction]]] | None:
    """Exact KKT data of ``min 1/2 |theta|^2 s.t. y_i Phi(theta; x_i) >= 1`` at ``theta``.

    Returns ``(margins y_i Phi(x_i), multipliers lambda_i, gradients grad Phi(x_i))`` with the
    gradient element taken at ``relu'(0) = 0`` (an element of the Clarke subdifferential
    ``[0, 1]``); ``lambda`` solves ``theta = sum_i lambda_i y_i grad Phi(x_i)`` exactly (``None``
    when no exact solution exists).
    """
    w1, b1, w2, b2 = theta
    xs, ys = (Fraction(1), Fraction(-1)), (1, -1)
    margins, grads = [], []
    for x, y in zip(xs, ys, strict=True):
        z1, z2 = w1 * x + b1, w2 * x + b2
        a1, a2 = (1 if z1 > 0 else 0), (1 if z2 > 0 else 0)
        margins.append(y * (max(z1, 0) - max(z2, 0)))
        grads.append([a1 * x, Fraction(a1), -a2 * x, Fraction(-a2)])
    cols = [[ys[i] * g for g in grads[i]] for i in range(2)]  # theta = sum lambda_i * cols[i]
    # normal equations (2x2), solved exactly; then the residual must vanish exactly
    g = [[sum(cols[i][k] * cols[j][k] for k in range(4)) for j in range(2)] for i in range(2)]
    r = [sum(cols[i][k] * theta[k] for k in range(4)) for i in range(2)]
    det = g[0][0] * g[1][1] - g[0][1] * g[1][0]
    if det == 0:
        return None
    lam = [(r[0] * g[1][1] - r[1] * g[0][1]) / det, (g[0][0] * r[1] - g[1][0] * r[0]) / det]
    if any(sum(lam[i] * cols[i][k] for i in range(2)) != theta[k] for k in range(4)):
        return None
    return margins, lam, grads


def limit_network_checker(theta_star: Sequence[object] = THETA_STAR, gamma: object = 1) -> Checker:
    """``theta*`` has robustness margin exactly ``gamma`` and is a KKT point of the max-margin problem."""
    ts = tuple(to_exact(q, "theta_star") for q in theta_star)
    target = to_exact(gamma, "gamma")

    def check(case: Case) -> Outcome:
        s = case.settings
        be = s.arith()
        problem = paper_a_problem(s.eta, s.loss)
        with be.working_precision():
            g = robustness_margin(problem, [Enclosure.of(be, q) for q in ts])
        cx = {**theta_dict(ts), "gamma_enclosure": enc_str(g), "gamma_claimed": str(target)}
        if not g.contains(target):
            return refuted(f"gamma(theta*) lies in {enc_str(g)}, which excludes the claimed {target}", None, cx)
        if g.width != 0:
            return inconclusive(f"gamma(theta*) enclosure {enc_str(g)} contains {target} but is not a point")
        kkt = kkt_multipliers(ts)
        if kkt is None:
            return refuted("no exact multipliers with theta* = sum lambda_i y_i grad Phi(x_i)", None, theta_dict(ts))
        margins, lam, _ = kkt
        if any(m_ != 1 for m_ in margins) or any(lm < 0 for lm in lam):
            return refuted("KKT fails: constraints not all active at 1 or a multiplier is negative", None,
                           {**theta_dict(ts), "margins": str(margins), "lambda": str(lam)})
        return certified(
            f"gamma(theta*) = {target} exactly; y_i Phi(theta*; x_i) = 1 for both points (active) and "
            f"theta* = sum lambda_i y_i grad Phi(x_i) with lambda = ({lam[0]}, {lam[1]}) >= 0 (relu'(0) = 0)",
            gamma=str(target), lam=[str(v) for v in lam],
        )

    return check


# --- phase ordering -----------------------------------------------------------
def phase_ordering_checker() -> Checker:
    """Every consecutive pair of certified patterns is an edge of the derived transition graph."""

    def check(case: Case) -> Outcome:
        traj = certified_trajectory(case)
        if isinstance(traj, Outcome):
            return traj
        graph = der.transition_graph()
        if graph[F_PATTERN] != {F_PATTERN}:
            return refuted("the derived transition graph has an edge out of F", case, {})
        seq = traj.phases
        for (_, p), (t1, q) in zip(seq, seq[1:], strict=False):
            if q not in graph[p]:
                return refuted(f"step {t1 - 1} -> {t1}: {p} -> {q} is not an edge of the derived graph", case,
                               {"t": str(t1), "from": p, "to": q})
        path = "->".join(p for _, p in seq)
        return certified(f"pattern path {path} follows the derived graph", case, path=path)

    return check


def absorbing_checker(pattern: str) -> Checker:
    """(For mutations) ``pattern`` is never left once entered."""

    def check(case: Case) -> Outcome:
        traj = certified_trajectory(case)
        if isinstance(traj, Outcome):
            return traj
        seq = traj.phases
        for k, (t, p) in enumerate(seq):
            if p == pattern:
                if k + 1 < len(seq):
                    t1, q = seq[k + 1]
                    return refuted(f"entered {pattern} at step {t} and left it for {q} at step {t1}", case,
                                   {"t_enter": str(t), "t_leave": str(t1), "next_pattern": q})
                return certified(f"{pattern} entered at step {t} and kept to step {traj.steps_done}", case)
        return not_admitted(f"the run never visits {pattern}", case)

    return check


# --- F invariance and conserved quantities --------------------------------------
@dataclass(frozen=True)
class Linear:
    """The quantity ``sign_1 theta[name_1] + sign_2 theta[name_2] + ...`` (signs +1 or -1): called on
    a record's enclosures (a dict by name), and read term by term by the lane checkers."""

    terms: tuple[tuple[int, str], ...]

    def __call__(self, th: dict[str, Enclosure]) -> Enclosure:
        (c, name), *rest = self.terms
        total = th[name] if c == 1 else -th[name]
        for c, name in rest:
            total = total + th[name] if c == 1 else total - th[name]
        return total

    def exact(self, theta: Sequence[Fraction]) -> Fraction:
        """The quantity at an exact ``theta``."""
        return sum((c * theta[NAMES.index(name)] for c, name in self.terms), Fraction(0))


c1_of = Linear(((1, "w1"), (-1, "b1")))  # c1 = w1 - b1
c2_of = Linear(((1, "w2"), (1, "b2")))  # c2 = w2 + b2
u_of = Linear(((1, "w1"), (1, "b1")))  # u = w1 + b1


def f_invariance_checker(quantities: dict[str, Quantity] | None = None) -> Checker:
    """Once in F the run stays in F and each quantity is unchanged: its enclosures at every recorded
    F step overlap the one at F entry, and contain the exact value when ``theta_0`` is in F."""
    qs = quantities or {"c1": c1_of, "c2": c2_of}

    def check(case: Case) -> Outcome:
        traj = certified_trajectory(case)
        if isinstance(traj, Outcome):
            return traj
        t_f = f_entry(traj)
        if t_f is None:
            return not_admitted("the run never enters F", case)
        later = [p for t, p in traj.phases if t > t_f]
        if later:
            return refuted(f"entered F at step {t_f} and left it for {later[0]}", case,
                           {"t_enter": str(t_f), "next_pattern": later[0]})
        recs = records_from(traj, t_f)
        entry = {name: q(traj.enclosures(recs[0])) for name, q in qs.items()}
        for rec in recs[1:]:
            th = traj.enclosures(rec)
            for name, q in qs.items():
                val = q(th)
                if not val.overlaps(entry[name]):
                    return refuted(
                        f"{name} at step {rec.t} lies in {enc_str(val)}, disjoint from its value "
                        f"{enc_str(entry[name])} at F entry (step {t_f})", case,
                        {"quantity": name, "t_enter": str(t_f), "t": str(rec.t),
                         "at_entry": enc_str(entry[name]), "at_t": enc_str(val)})
                if t_f == 0 and isinstance(q, Linear):
                    q0 = q.exact(case.theta0)
                    if not val.contains(q0):
                        return refuted(f"{name} at step {rec.t} lies in {enc_str(val)}, excluding its exact "
                                       f"initial value {q0}", case,
                                       {"quantity": name, "t": str(rec.t), "exact_initial": str(q0),
                                        "at_t": enc_str(val)})
        if not final_phase_identities_hold():
            return inconclusive("sympy could not reduce the F-phase identities to 0", case)
        return certified(
            f"in F from step {t_f} to {traj.steps_done}; {', '.join(qs)} unchanged symbolically (derivations) and "
            f"consistent at {len(recs)} recorded steps", case, t_enter=t_f, recorded=len(recs))

    return check


# --- monotone numerator ---------------------------------------------------------
def zero_bias_f_start(case: Case) -> bool:
    """Hypothesis: zero-bias ``theta_0`` with ``w1(0) > 0 > w2(0)`` (so ``theta_0`` is in F)."""
    th = case.theta0
    return th is not None and zero_bias(th) and th[0] > 0 > th[2]


def criterion_holds(case: Case) -> Tri:
    """``eta < e^{min(u0, v0)}`` (``u0 = w1 + b1``, ``v0 = b2 - w2``), three-valued."""
    w1, b1, w2, b2 = case.theta0
    m = min(w1 + b1, b2 - w2)
    be = case.settings.arith()
    with be.working_precision():
        return Enclosure.of(be, case.settings.eta) < Enclosure.of(be, m).exp()


def monotone_admits(case: Case) -> bool:
    return zero_bias_f_start(case) and criterion_holds(case).certainly()


def true_numerator_limit(theta0: Sequence[Fraction]) -> Fraction:
    """``|c1 + c2| / 2`` at ``theta_0`` (``= |w1(0) + w2(0)|/2`` for zero bias)."""
    w1, b1, w2, b2 = theta0
    return abs((w1 - b1) + (w2 + b2)) / 2


def monotone_numerator_checker(limit: Callable[[Sequence[Fraction]], Fraction] = true_numerator_limit) -> Checker:
    """``|b2 - b1|`` is non-decreasing over recorded steps, bounded by ``limit(theta_0)``, satisfies the
    Figure-3 lower bound ``|b2 - b1|(t') >= min{|b2 - b1|(t), limit}`` for ``t' > t``, and tends to
    ``limit(theta_0)``: by lemma lem:monotone_limit (derivations) its limit is ``|c1 + c2|/2``, so a
    claimed limit that differs from it is refuted."""

    def check(case: Case) -> Outcome:
        th0 = case.theta0
        ell = limit(th0)
        true_ell = true_numerator_limit(th0)
        traj = certified_trajectory(case)
        if isinstance(traj, Outcome):
            return traj
        if any(p != F_PATTERN for _, p in traj.phases):
            return refuted("the run leaves F", case, {"path": "->".join(p for _, p in traj.phases)})
        nums = [(rec.t, abs(traj.enclosures(rec)["b2"] - traj.enclosures(rec)["b1"])) for rec in traj.records]
        if true_ell == 0:  # u0 = v0: u_t = v_t for all t, so b2 - b1 = (c1 + c2)/2 = 0 exactly
            bad = next(((t, n) for t, n in nums if not n.contains(0)), None)
            if bad is not None:
                return refuted(f"c1 + c2 = 0 forces b2 - b1 = 0, but at step {bad[0]} it lies in {enc_str(bad[1])}",
                               case, {"t": str(bad[0]), "numerator": enc_str(bad[1])})
            if ell != 0:
                return refuted(f"c1 + c2 = 0 forces b2 - b1 = 0 for all t, so its limit is 0, not {ell}", case,
                               {"claimed_limit": str(ell), "true_limit": "0", "gap": str(abs(ell))})
            if not criterion_holds(case).certainly():
                return inconclusive("b2 - b1 = 0 for all t, but eta < e^min(u0, v0) is not certified", case)
            return certified("w1(0) + w2(0) = 0: u_t = v_t and b2 - b1 = 0 for all t (enclosures contain 0)", case,
                             limit="0", recorded=len(nums))
        undecided = []
        for t, n in nums:
            bound = n <= ell
            if bound is Tri.FALSE:
                return refuted(f"|b2 - b1| at step {t} lies in {enc_str(n)}, above the claimed bound {ell}", case,
                               {"t": str(t), "numerator": enc_str(n), "bound": str(ell)})
            if bound is Tri.UNKNOWN:
                undecided.append(f"bound@{t}")
        for (t, a), (t2, b) in zip(nums, nums[1:], strict=False):
            mono = a <= b
            lower = a.min(Enclosure.of(a.backend, ell)) <= b
            if mono is Tri.FALSE:
                return refuted(f"|b2 - b1| decreases from step {t} {enc_str(a)} to step {t2} {enc_str(b)}", case,
                               {"t": str(t), "t_next": str(t2), "numerator_t": enc_str(a),
                                "numerator_next": enc_str(b)})
            if lower is Tri.FALSE:
                return refuted(f"Figure-3 lower bound fails between steps {t} and {t2}", case,
                               {"t": str(t), "t_next": str(t2)})
            if mono is not Tri.TRUE or lower is not Tri.TRUE:
                undecided.append(f"mono@{t}")
        if ell != true_ell:
            t_last, n_last = nums[-1]
            return refuted(
                f"claimed limit {ell} differs from |c1 + c2|/2 = {true_ell}: by lem:monotone_limit |b2 - b1| <= "
                f"{true_ell} for every t (last step {t_last}: {enc_str(n_last)}), so it stays at least "
                f"{abs(ell - true_ell)} away from {ell}" if ell > true_ell else
                f"claimed limit {ell} differs from the limit |c1 + c2|/2 = {true_ell} of lem:monotone_limit",
                case, {"claimed_limit": str(ell), "true_limit": str(true_ell), "gap": str(abs(ell - true_ell)),
                       "t": str(t_last), "numerator": enc_str(n_last)})
        if undecided:
            return inconclusive(f"{len(undecided)} comparisons undecided (first {undecided[0]})", case)
        if not criterion_holds(case).certainly():
            return inconclusive(
                f"|b2 - b1| non-decreasing and <= {ell} over {len(nums)} recorded steps, but eta < e^min(u0, v0) is "
                "not certified, so lem:monotone_limit does not give monotonicity for all t", case)
        return certified(
            f"|b2 - b1| non-decreasing over {len(nums)} recorded steps, <= {ell} = |w1(0) + w2(0)|/2, Figure-3 "
            f"lower bound holds; criterion eta < e^min(u0, v0) holds, so the limit is {ell} (lem:monotone_limit)",
            case, limit=str(ell), recorded=len(nums))

    return check


# --- small loss classifies ----------------------------------------------------------
def small_loss_checker(threshold: object = HALF) -> Checker:
    """At every recorded step with certified ``L < threshold`` both points are certified correctly
    classified (``y_i Phi(x_i) > 0``). Not admitted when no recorded step possibly has small loss."""
    thr = Fraction(threshold) if not isinstance(threshold, Fraction) else threshold

    def check(case: Case) -> Outcome:
        traj = certified_trajectory(case)
        if isinstance(traj, Outcome):
            return traj
        seen = 0
        undecided = 0
        xs, ys = [row[0] for row in traj.problem.data.X], traj.problem.data.y
        for rec in traj.records:
            small = traj.loss(rec) < thr
            if small is Tri.FALSE:
                continue
            seen += 1
            for x, y in zip(xs, ys, strict=True):
                margin = output_at(traj, rec, x) * y
                ok = margin > 0
                if ok is Tri.TRUE:
                    continue
                if ok is Tri.FALSE and small is Tri.TRUE:
                    return refuted(
                        f"step {rec.t}: L in {enc_str(traj.loss(rec))} < {thr} but y Phi(x={x}) in {enc_str(margin)}"
                        " is not > 0", case,
                        {"t": str(rec.t), "x": str(x), "loss": enc_str(traj.loss(rec)), "y_phi": enc_str(margin)})
                undecided += 1
        if seen == 0:
            return not_admitted(f"no recorded step has L < {thr}", case)
        if undecided:
            return inconclusive(f"{undecided} classifications undecided at steps with possibly small loss", case)
        return certified(f"{seen} recorded steps with L < {thr}; both points correctly classified at each", case,
                         small_steps=seen)

    return check


# --- convergence basin -----------------------------------------------------------------
def stuck_step(traj: Trajectory) -> tuple[int, str] | None:
    """First certified step whose pattern has ``z11 <= 0`` or ``z22 <= 0``.

    By the derivations those two pre-activations do not change while inactive, so from there on
    ``y_1 Phi(x_1) <= 0`` or ``y_2 Phi(x_2) <= 0`` for ever and ``L >= 1/2``. A dead neuron
    (inactive at both points) is the special case ``00..`` / ``..00``.
    """
    for t, p in traj.phases:
        if p[0] == "0" or p[3] == "0":
            return t, p
    return None


@lru_cache(maxsize=1)
def frozen_while_inactive() -> bool:
    """Whether the derivations give ``z11`` and ``z22`` a change of exactly 0 whenever inactive (and
    of sign >= 0 otherwise), in every pattern."""
    return all(
        (der.preactivation_changes(p)[k][1] == 0) if p[k] == "0" else (der.preactivation_changes(p)[k][1] == 1)
        for p in der.PATTERNS for k in (0, 3)
    )


def convergence_basin_checker() -> Checker:
    """GD reaches ``L < 1/2`` iff ``z11(0) > 0`` and ``z22(0) > 0`` (zero bias: iff ``w1(0) > 0 > w2(0)``).

    In the basin: certified when some recorded step has certified ``L < 1/2`` (inconclusive if the
    horizon is too short). Outside: certified when the run is certified stuck (see :func:`stuck_step`)
    and no recorded step has certified ``L < 1/2``.
    """
    def check(case: Case) -> Outcome:
        traj = certified_trajectory(case)
        if isinstance(traj, Outcome):
            return traj
        basin = in_basin(case.theta0)
        small = next((r for r in traj.records if (traj.loss(r) < HALF) is Tri.TRUE), None)
        stuck = stuck_step(traj)
        dead = next((t for t, p in traj.phases if p[:2] == "00" or p[2:] == "00"), None)
        data = {"basin": basin, "stuck_step": stuck[0] if stuck else None, "dead_neuron_step": dead}
        if basin:
            if stuck is not None:
                return refuted(f"init in the basin but certified stuck at step {stuck[0]} (pattern {stuck[1]})", case,
                               {"t": str(stuck[0]), "pattern": stuck[1]}, **data)
            if small is None:
                return inconclusive(f"in the basin but L < 1/2 not certified within {traj.steps_done} steps", case,
                                    **data)
            return certified(f"in the basin (z11(0), z22(0) > 0); L < 1/2 certified at step {small.t}", case,
                             converged_step=small.t, **data)
        if small is not None:
            return refuted(f"outside the basin but L < 1/2 certified at step {small.t}", case,
                           {"t": str(small.t), "loss": enc_str(traj.loss(small))}, **data)
        if stuck is None:
            return inconclusive("outside the basin but not certified stuck", case, **data)
        if not frozen_while_inactive():
            return inconclusive("derivations did not confirm z11, z22 frozen while inactive", case, **data)
        return certified(f"outside the basin; stuck from step {stuck[0]} (pattern {stuck[1]}), so L >= 1/2 for ever",
                         case, **data)

    return check


def zero_bias_admits(case: Case) -> bool:
    return case.theta0 is not None and zero_bias(case.theta0)


# --- degenerate interval ----------------------------------------------------------------
def f_degenerate(traj: Trajectory, rec: StepRecord) -> Tri:
    """Whether ``{Phi = 0}`` has a degenerate interval at ``rec``, three-valued
    (via :func:`proofs.paper_a.geometry.zero_set`; UNKNOWN when the geometry is undecided)."""
    th = [Enclosure(traj.backend, v) for v in rec.theta]
    try:
        return Tri.TRUE if any(c.degenerate for c in zero_set(traj.problem, th)) else Tri.FALSE
    except UndecidableError:
        return Tri.UNKNOWN


def degenerate_interval_checker() -> Checker:
    """For runs ending in F: a degenerate interval of the decision set (an interval where
    ``Phi = 0``) is absent at the last step. In F the kinks ``-b1/w1 = -1 + c1/w1`` and
    ``-b2/w2`` move monotonically apart (``c1 >= 0``, ``w1`` grows; symmetric for neuron 2), so once
    absent it stays absent; an interval seen earlier therefore vanished after finitely many steps."""

    def check(case: Case) -> Outcome:
        traj = certified_trajectory(case)
        if isinstance(traj, Outcome):
            return traj
        if traj.phases[-1][1] != F_PATTERN:
            return not_admitted("the run does not end in F", case)
        t_f = f_entry(traj)
        seen: list[int] = []
        undecided = 0
        for rec in records_from(traj, t_f):
            deg = f_degenerate(traj, rec)
            if deg is Tri.TRUE:
                seen.append(rec.t)
            elif deg is Tri.UNKNOWN:
                undecided += 1
        last = traj.final.t
        deg = f_degenerate(traj, traj.final)
        if deg is Tri.UNKNOWN:
            return inconclusive(f"whether a degenerate interval exists at the last step {last} is undecided", case)
        if deg is Tri.TRUE:
            return inconclusive(f"a degenerate interval is still present at the last step {last}", case,
                                first_seen=seen[0] if seen else None)
        if seen:
            return certified(f"degenerate interval present at steps {seen[0]}..{seen[-1]}, absent at the last step "
                             f"{last}", case, first_seen=seen[0], last_seen=seen[-1], undecided_steps=undecided or None)
        return certified(f"no degenerate interval at any decided recorded F step; none at the last step {last}",
                         case, undecided_steps=undecided or None)

    return check
