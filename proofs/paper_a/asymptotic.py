"""Paper A's asymptotic claims, certified for EVERY step ``t >= T0`` (not only up to the horizon).

Each checker takes the case's certified GD run (``case.trajectory``, ``case.settings.steps`` steps),
requires its last recorded step ``T`` to be in F = ``1001``, and builds the all-``t`` certificate of
:mod:`proofs.paper_a.certificate` from the enclosures of ``(w1, b1, w2, b2)`` at ``T``: closed-form bands for
``u_t = w1 + b1`` and ``v_t = b2 - w2`` (the proofs are in that module's docstring), from which
explicit per-init constants follow. ``Outcome.data`` carries them as exact rational strings.

Hypotheses (``admits``): exponential loss; the run ends in F (an inconclusive run is admitted and
reported inconclusive). The margin lower bound also needs ``c1 + c2 != 0`` certified, the angle
lower bound ``c1^2 + c2^2 > 0``. Mutations (deliberately false variants) are refuted with an exact
witness step ``t`` and the certified enclosures there.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from proofs.paper_a.certificate import (
    Certificate,
    Constants,
    enc_str,
    endpoints,
    exact_str,
    ln_of,
    round_out,
    state_from_trajectory,
)
from verify.arith import Enclosure
from verify.claims.claim import Case, Claim
from verify.claims.result import Outcome, Status

Checker = Callable[[Case], Outcome]
LimitFn = Callable[[Case, Certificate], Fraction | Enclosure]
NAMES = ("w1", "b1", "w2", "b2")
F_PATTERN = "1001"
LADDER_EXPONENTS = tuple(3 * 2**i for i in range(13))  # T0 = 10^3, 10^6, ..., 10^12288
WITNESS_EXPONENTS = tuple(range(1, 401))  # witness steps t = 10^j


# --- outcomes ---------------------------------------------------------------------------------
def _theta_dict(case: Case) -> dict[str, str]:
    return {n: str(q) for n, q in zip(NAMES, case.theta0, strict=True)} if case.theta0 is not None else {}


def _prec(case: Case) -> int | None:
    return case.trajectory.prec if case.theta0 is not None and "trajectory" in case.__dict__ else None


def _out(status: Status, detail: str, case: Case, cx: dict[str, str] | None = None, **data: Any) -> Outcome:
    counterexample = {**_theta_dict(case), **(cx or {})} if status is Status.REFUTED else None
    return Outcome(status, detail, _prec(case), counterexample, {k: v for k, v in data.items() if v is not None})


def t_str(t: int) -> str:
    """An exact step: decimal digits, or ``10^j`` for powers of ten above ``10^30``."""
    if t > 10**30:
        s = str(t)
        if s[0] == "1" and set(s[1:]) == {"0"}:
            return f"10^{len(s) - 1}"
    return str(t)


# --- hypotheses -------------------------------------------------------------------------------
def ends_in_f(case: Case) -> bool:
    """Exponential loss, and the run ends in F (an uncertified run is admitted: it reports inconclusive)."""
    if case.theta0 is None or case.settings.loss != "exponential":
        return False
    traj = case.trajectory
    return (not traj.certified) or (bool(traj.records) and traj.final.pattern == F_PATTERN)


def _cert_or_none(case: Case) -> Certificate | None:
    traj = case.trajectory
    if not traj.certified or not traj.records or traj.final.pattern != F_PATTERN:
        return None
    return Certificate(state_from_trajectory(traj))


def margin_admits(case: Case) -> bool:
    """:func:`ends_in_f` and ``c1 + c2 != 0`` certified (for a certified run)."""
    if not ends_in_f(case):
        return False
    cert = _cert_or_none(case)
    return cert is None or cert.s_nonzero()


def angle_admits(case: Case) -> bool:
    """:func:`ends_in_f` and ``c1^2 + c2^2 > 0`` certified (for a certified run)."""
    if not ends_in_f(case):
        return False
    cert = _cert_or_none(case)
    return cert is None or cert.k_positive()


def zero_bias_admits(case: Case) -> bool:
    """:func:`ends_in_f` and ``b1(0) = b2(0) = 0`` (zero-bias runs end in F iff they start there)."""
    return ends_in_f(case) and case.theta0[1] == 0 and case.theta0[3] == 0


def prepare(case: Case) -> Certificate | Outcome:
    """The certificate at the run's last step, or the outcome explaining why there is none."""
    if case.settings.loss != "exponential":
        return _out(Status.NOT_ADMITTED, "the F recurrences need the exponential loss", case)
    traj = case.trajectory
    if not traj.certified:
        return _out(Status.INCONCLUSIVE, f"GD not certified: {traj.reason}", case, failed_step=traj.failed_step)
    if not traj.records or traj.final.pattern != F_PATTERN:
        return _out(Status.NOT_ADMITTED, "the run does not end in F", case)
    cert = Certificate(state_from_trajectory(traj))
    if not cert.state.in_f():
        return _out(Status.INCONCLUSIVE, "the state at T is not certified in F by its enclosures", case)
    return cert


def _base(cert: Certificate, k: Constants) -> dict[str, Any]:
    tdeg = cert.degenerate_vanish_step()
    return {"state": cert.state.strings(), "T0": str(k.T0), "T_deg": None if tdeg is None else str(tdeg)}


def _exact_or_enc(x: Fraction | Enclosure) -> str:
    return exact_str(x)


# --- limits (true ones and mutated ones) -------------------------------------------------------
def numerator_limit(case: Case, cert: Certificate) -> Fraction | Enclosure:
    """``(c1 + c2)/2`` (exact when the run is in F from t = 0)."""
    return cert.numerator_limit()


def deficit_limit(case: Case, cert: Certificate) -> Fraction | Enclosure:
    """``|c1 + c2|/2``."""
    return cert.deficit_limit()


def half_w_difference(case: Case, cert: Certificate) -> Fraction:
    """(wrong) ``(w1(0) - w2(0))/2``."""
    w1, _, w2, _ = case.theta0
    return (w1 - w2) / 2


def abs_half_w_difference(case: Case, cert: Certificate) -> Fraction:
    """(wrong) ``|w1(0) - w2(0)|/2``."""
    w1, _, w2, _ = case.theta0
    return abs(w1 - w2) / 2


def _ladder_refutation(case: Case, cert: Certificate, claimed: Fraction | Enclosure, what: str,
                       bracket: Callable[[Constants], tuple[Fraction | None, Fraction | None]],
                       at: Callable[[int], Enclosure]) -> Outcome | None:
    """Refuted when some ``T0 = 10^j`` gives a bracket, valid for every ``t >= T0``, that excludes the
    claimed limit (then the quantity stays a fixed distance away from it for ever)."""
    for j in LADDER_EXPONENTS:
        T0 = 10**j
        k = cert.constants(max(T0, next(iter(cert.t0_candidates()))))
        lo_, hi_ = bracket(k)
        if lo_ is None or hi_ is None:
            continue
        c_lo, c_hi = endpoints(claimed)
        if c_hi < lo_ or c_lo > hi_:
            gap = lo_ - c_hi if c_hi < lo_ else c_lo - hi_
            value = at(k.T0)
            return _out(
                Status.REFUTED,
                f"for every t >= {t_str(k.T0)}, {what} lies in [{lo_}, {hi_}] (certified closed-form band), which "
                f"excludes the claimed limit {_exact_or_enc(claimed)} by at least {gap}", case,
                {"t": t_str(k.T0), "bracket_for_all_t_ge_t": f"[{lo_}, {hi_}]", "value_at_t": enc_str(value),
                 "claimed_limit": _exact_or_enc(claimed), "gap": str(gap)},
                **_base(cert, k))
    return None


# --- checkers ------------------------------------------------------------------------------------
def denominator_checker() -> Checker:
    """``a ln t <= w1 - w2 <= A ln t`` and ``ln t + kappa_lo <= w1 - w2 <= ln t + kappa_hi`` for all t >= T0."""

    def check(case: Case) -> Outcome:
        cert = prepare(case)
        if isinstance(cert, Outcome):
            return cert
        k = cert.choose_constants(margin=False, angle=False)
        if k is None or k.a is None:
            return _out(Status.INCONCLUSIVE, "no T0 found with a >= 1/2 and A <= 2", case)
        return _out(
            Status.CERTIFIED,
            f"for every t >= T0 = {t_str(k.T0)}: {k.a} ln t <= w1 - w2 <= {k.A} ln t and "
            f"ln t + ({k.kappa_lo}) <= w1 - w2 <= ln t + ({k.kappa_hi}) (closed-form bands from step {cert.T})",
            case, a=str(k.a), A=str(k.A), kappa_lo=str(k.kappa_lo), kappa_hi=str(k.kappa_hi), **_base(cert, k))

    return check


def log_squared_growth_checker(K: int = 100) -> Checker:
    """(false) ``w1 - w2 >= ln^2 t / K`` for every ``t >= T``: refuted at ``t = 10^j`` where the certified
    upper band of ``w1 - w2`` is below ``ln^2 t / K`` (and for every later t, as ``ln t + kappa_hi``
    grows slower than ``ln^2 t / K``)."""

    def check(case: Case) -> Outcome:
        cert = prepare(case)
        if isinstance(cert, Outcome):
            return cert
        for j in WITNESS_EXPONENTS:
            t = 10**j
            if t <= cert.T:
                continue
            den = cert.denominator(t)
            lt = ln_of(cert.backend, Fraction(t))
            bound = lt * lt / K
            if (den < bound).certainly():
                k = cert.constants(t)
                return _out(
                    Status.REFUTED,
                    f"at t = {t_str(t)}: w1 - w2 <= {den.upper} < ln^2(t)/{K} (>= {bound.lower})", case,
                    {"t": t_str(t), "denominator": enc_str(den), "ln2t_over_K": enc_str(bound), "K": str(K)},
                    **_base(cert, k))
        return _out(Status.INCONCLUSIVE, f"no witness t = 10^j, j <= {WITNESS_EXPONENTS[-1]}", case)

    return check


def margin_deficit_checker(limit: LimitFn = deficit_limit) -> Checker:
    """``c/ln t <= gamma* - gamma(theta_t) <= C/ln t`` for every ``t >= T0`` and
    ``(gamma* - gamma) ln t -> limit`` (true limit ``|c1 + c2|/2``); refuted when a bracket of
    ``(gamma* - gamma) ln t`` valid for every ``t >= 10^j`` excludes the claimed limit."""

    def check(case: Case) -> Outcome:
        cert = prepare(case)
        if isinstance(cert, Outcome):
            return cert
        if not cert.s_nonzero():
            return _out(Status.INCONCLUSIVE, f"c1 + c2 = {_exact_or_enc(cert.S)} is not certified nonzero: the lower "
                        "bound c/ln t is not established (outside the hypotheses)", case)
        k = cert.choose_constants(margin=True, angle=False)
        if k is None or k.c is None or k.C is None:
            return _out(Status.INCONCLUSIVE, "no T0 found with explicit c > 0, C", case)
        claimed = limit(case, cert)

        def deficit_ln(t: int) -> Enclosure:
            return cert.deficit(t) * ln_of(cert.backend, Fraction(t))

        ref = _ladder_refutation(case, cert, claimed, "(gamma* - gamma) ln t",
                                 lambda kk: (kk.deficit_ln_lo, kk.deficit_ln_hi), deficit_ln)
        if ref is not None:
            return ref
        # consistency of the two rigorous routes at a few explicit steps
        for t in (k.T0, 10 * k.T0, k.T0 * k.T0):
            d = deficit_ln(t)
            if d.upper < k.c or d.lower > k.C:
                return _out(Status.INCONCLUSIVE, f"internal inconsistency at t={t_str(t)}: {enc_str(d)} vs "
                            f"[{k.c}, {k.C}]", case)
        return _out(
            Status.CERTIFIED,
            f"for every t >= T0 = {t_str(k.T0)} (degenerate interval gone from T_deg = "
            f"{cert.degenerate_vanish_step()}): {k.c}/ln t <= gamma* - gamma <= {k.C}/ln t; "
            f"(gamma* - gamma) ln t -> |c1 + c2|/2 = {_exact_or_enc(claimed)} (brackets valid for all t >= T0 "
            f"shrink to it as T0 grows)",
            case, c=str(k.c), C=str(k.C), limit=_exact_or_enc(claimed), deficit_ln_lo=str(k.deficit_ln_lo),
            deficit_ln_hi=str(k.deficit_ln_hi), delta=str(k.delta), **_base(cert, k))

    return check


def deficit_rate_1_over_t_checker(C: int = 1000) -> Checker:
    """(false) ``gamma* - gamma(theta_t) <= C/t`` for every ``t >= T``: refuted at ``t = 10^j`` where the
    certified lower bound of the deficit exceeds ``C/t`` (and for every later t, by ``c/ln t > C/t``)."""

    def check(case: Case) -> Outcome:
        cert = prepare(case)
        if isinstance(cert, Outcome):
            return cert
        if not cert.s_nonzero():
            return _out(Status.INCONCLUSIVE, "c1 + c2 not certified nonzero", case)
        tdeg = cert.degenerate_vanish_step()
        if tdeg is None:
            return _out(Status.INCONCLUSIVE, "degenerate interval not certified to vanish", case)
        for j in WITNESS_EXPONENTS:
            t = 10**j
            if t < max(tdeg, cert.T + 1):
                continue
            d = cert.deficit(t)
            bound = Fraction(C, t)
            if d.lower > bound:
                return _out(Status.REFUTED, f"at t = {t_str(t)}: gamma* - gamma >= {d.lower} > {C}/t", case,
                            {"t": t_str(t), "deficit": enc_str(d), "claimed_bound": str(bound), "C": str(C)},
                            **_base(cert, cert.constants(max(t, 2))))
        return _out(Status.INCONCLUSIVE, "no witness t = 10^j found", case)

    return check


def numerator_checker(limit: LimitFn = numerator_limit) -> Checker:
    """``|b2 - b1 - (c1 + c2)/2| <= delta(T0)/2`` for every ``t >= T0`` with ``delta(T0) -> 0``: the numerator
    tends to ``(c1 + c2)/2`` (``= (w1(0) + w2(0))/2`` for a zero-bias init, which starts in F)."""

    def check(case: Case) -> Outcome:
        cert = prepare(case)
        if isinstance(cert, Outcome):
            return cert
        claimed = limit(case, cert)
        ref = _ladder_refutation(case, cert, claimed, "b2 - b1",
                                 lambda kk: (kk.numerator_lo, kk.numerator_hi), cert.numerator)
        if ref is not None:
            return ref
        k = cert.choose_constants(margin=False, angle=False)
        if k is None:
            return _out(Status.INCONCLUSIVE, "no T0 found", case)
        ladder = cert.ladder(4)
        true_lim = cert.numerator_limit()
        (cl_lo, cl_hi), (tl_lo, tl_hi) = endpoints(claimed), endpoints(true_lim)
        if not (cl_lo <= tl_lo and tl_hi <= cl_hi):
            return _out(Status.INCONCLUSIVE, f"claimed limit {_exact_or_enc(claimed)} is not certified equal to "
                        f"(c1 + c2)/2 = {_exact_or_enc(true_lim)}", case)
        th0 = case.theta0
        zero_bias_formula = None
        if th0[1] == 0 and th0[3] == 0 and isinstance(true_lim, Fraction):
            zero_bias_formula = str(true_lim == (th0[0] + th0[2]) / 2).lower()
        return _out(
            Status.CERTIFIED,
            f"for every t >= T0 = {t_str(k.T0)}: b2 - b1 in [{k.numerator_lo}, {k.numerator_hi}]; the brackets "
            f"shrink to (c1 + c2)/2 = {_exact_or_enc(true_lim)} (delta = {ladder[-1].delta} for t >= "
            f"{t_str(ladder[-1].T0)})",
            case, limit=_exact_or_enc(true_lim), numerator_lo=str(k.numerator_lo), numerator_hi=str(k.numerator_hi),
            delta=str(k.delta), ladder=[[t_str(kk.T0), str(kk.delta)] for kk in ladder],
            zero_bias_formula=zero_bias_formula, **_base(cert, k))

    return check


def angle_checker() -> Checker:
    """``d/ln t <= angle(theta_t, theta*) <= D/ln t`` for every ``t >= T0``; ``(angle ln t)^2 -> (c1^2 + c2^2)/2``."""

    def check(case: Case) -> Outcome:
        cert = prepare(case)
        if isinstance(cert, Outcome):
            return cert
        if not cert.k_positive():
            return _out(Status.INCONCLUSIVE, "c1^2 + c2^2 > 0 not certified: the lower bound is not established",
                        case)
        k = cert.choose_constants(margin=False, angle=True)
        if k is None or k.angle_lo is None or k.angle_hi is None:
            return _out(Status.INCONCLUSIVE, "no T0 found with explicit angle constants", case)
        lim2 = cert.angle_limit_squared()
        ladder = cert.ladder(4)
        l2_lo, l2_hi = endpoints(lim2)
        for kk in ladder:  # the brackets must contain sqrt(lim2)
            if kk.angle_lo is not None and kk.angle_hi is not None and (
                    kk.angle_lo * kk.angle_lo > l2_hi or kk.angle_hi * kk.angle_hi < l2_lo):
                return _out(Status.INCONCLUSIVE, f"internal inconsistency at T0 = {t_str(kk.T0)}", case)
        return _out(
            Status.CERTIFIED,
            f"for every t >= T0 = {t_str(k.T0)}: {k.angle_lo}/ln t <= angle(theta_t, theta*) <= {k.angle_hi}/ln t; "
            f"(angle ln t)^2 -> (c1^2 + c2^2)/2 = {_exact_or_enc(lim2)}",
            case, angle_lo=str(k.angle_lo), angle_hi=str(k.angle_hi), limit_squared=_exact_or_enc(lim2),
            ladder=[[t_str(kk.T0), str(kk.angle_lo), str(kk.angle_hi)] for kk in ladder], **_base(cert, k))

    return check


def angle_rate_1_over_t_checker(C: int = 1000) -> Checker:
    """(false) ``angle(theta_t, theta*) <= C/t`` for every ``t >= T``: refuted at ``t = 10^j`` where the
    certified lower bound ``sin(angle)`` exceeds ``C/t``."""

    def check(case: Case) -> Outcome:
        cert = prepare(case)
        if isinstance(cert, Outcome):
            return cert
        for j in WITNESS_EXPONENTS:
            t = 10**j
            if t <= cert.T:
                continue
            lo_, hi_ = cert.angle_bounds(t)
            bound = Fraction(C, t)
            if lo_ > bound:
                return _out(Status.REFUTED, f"at t = {t_str(t)}: angle >= {round_out(lo_, False)} > {C}/t", case,
                            {"t": t_str(t), "angle": f"[{lo_}, {hi_}]", "claimed_bound": str(bound), "C": str(C)},
                            **_base(cert, cert.constants(max(t, 2))))
        return _out(Status.INCONCLUSIVE, "no witness t = 10^j found", case)

    return check


# --- the catalog -------------------------------------------------------------------------------
HYP_F = "the certified run of settings.steps steps ends in F = 1001 (exponential loss)"
SRC = "Section 'inside F' (reconstructed); headline Theta(1/ln t) rate"

_CLAIMS = [
    Claim(
        id="denominator-log-growth",
        title="The denominator w1 - w2 grows like ln t, for every t",
        statement=("There are explicit T0, 0 < a <= A with a ln t <= w1(t) - w2(t) <= A ln t for every t >= T0 "
                   "(and ln t + kappa_lo <= w1 - w2 <= ln t + kappa_hi), from closed-form bands on u, v."),
        source=SRC, hypotheses=(HYP_F,), check=denominator_checker(), admits=ends_in_f,
        depends_on=("f-invariance",)),
    Claim(
        id="numerator-limit",
        title="The numerator b2 - b1 tends to (c1 + c2)/2 (= (w1(0) + w2(0))/2 at zero bias)",
        statement=("For every t >= T0, |b2 - b1 - (c1 + c2)/2| <= delta(T0)/2 with explicit delta(T0) -> 0; for a "
                   "zero-bias init (which ends in F iff it starts there) the limit is (w1(0) + w2(0))/2."),
        source="Figure 3; lem:monotone_limit", hypotheses=(HYP_F,), check=numerator_checker(), admits=ends_in_f,
        depends_on=("f-invariance",)),
    Claim(
        id="margin-deficit-rate",
        title="The margin deficit decays as Theta(1/ln t), with (gamma* - gamma) ln t -> |c1 + c2|/2",
        statement=("There are explicit T0, 0 < c <= C with c/ln t <= gamma* - gamma(theta_t) <= C/ln t for every "
                   "t >= T0, and (gamma* - gamma(theta_t)) ln t -> |c1 + c2|/2."),
        source="Abstract (headline rate); " + SRC,
        hypotheses=(HYP_F, "c1 + c2 != 0 (certified)"), check=margin_deficit_checker(), admits=margin_admits,
        depends_on=("denominator-log-growth", "numerator-limit")),
    Claim(
        id="directional-convergence",
        title="theta_t converges in direction to theta* with angle Theta(1/ln t)",
        statement=("There are explicit T0, 0 < d <= D with d/ln t <= angle(theta_t, theta*) <= D/ln t for every "
                   "t >= T0, theta* = (1, 1, -1, 1)/2, and (angle ln t)^2 -> (c1^2 + c2^2)/2."),
        source="Definition 2.1; Theorem 2.2; Figure 1",
        hypotheses=(HYP_F, "c1^2 + c2^2 > 0 (certified)"), check=angle_checker(), admits=angle_admits,
        depends_on=("denominator-log-growth",)),
]

_MUTATIONS = [
    Claim(
        id="mut-denominator-log2-growth",
        title="(false) w1 - w2 grows like ln^2 t",
        statement="w1(t) - w2(t) >= ln^2(t)/100 for every t >= T.",
        source="mutation of denominator-log-growth", hypotheses=(HYP_F,), check=log_squared_growth_checker(100),
        admits=ends_in_f, mutation_of="denominator-log-growth"),
    Claim(
        id="mut-deficit-rate-1-over-t",
        title="(false) the margin deficit decays like 1/t",
        statement="gamma* - gamma(theta_t) <= 1000/t for every t >= T.",
        source="mutation of margin-deficit-rate", hypotheses=(HYP_F, "c1 + c2 != 0 (certified)"),
        check=deficit_rate_1_over_t_checker(1000), admits=margin_admits, mutation_of="margin-deficit-rate"),
    Claim(
        id="mut-deficit-limit-difference",
        title="(false) (gamma* - gamma) ln t tends to |w1(0) - w2(0)|/2",
        statement="(gamma* - gamma(theta_t)) ln t -> |w1(0) - w2(0)|/2.",
        source="mutation of margin-deficit-rate", hypotheses=(HYP_F, "c1 + c2 != 0 (certified)"),
        check=margin_deficit_checker(abs_half_w_difference), admits=margin_admits,
        mutation_of="margin-deficit-rate"),
    Claim(
        id="mut-numerator-limit-w-difference",
        title="(false) b2 - b1 tends to (w1(0) - w2(0))/2 at zero bias",
        statement="For a zero-bias init ending in F, b2(t) - b1(t) -> (w1(0) - w2(0))/2.",
        source="mutation of numerator-limit", hypotheses=(HYP_F, "zero bias"),
        check=numerator_checker(half_w_difference), admits=zero_bias_admits, mutation_of="numerator-limit"),
    Claim(
        id="mut-angle-rate-1-over-t",
        title="(false) the angle to theta* decays like 1/t",
        statement="angle(theta_t, theta*) <= 1000/t for every t >= T.",
        source="mutation of directional-convergence", hypotheses=(HYP_F, "c1^2 + c2^2 > 0 (certified)"),
        check=angle_rate_1_over_t_checker(1000), admits=angle_admits, mutation_of="directional-convergence"),
]

ASYMPTOTIC_CLAIMS: dict[str, Claim] = {c.id: c for c in _CLAIMS}
ASYMPTOTIC_MUTATIONS: dict[str, Claim] = {c.id: c for c in _MUTATIONS}
