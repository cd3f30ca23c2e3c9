"""All-t certificates in paper A's final phase F: the closed-form band contains the iterated arb
enclosures and an independent 300-bit mpmath computation; the per-init constants certify on
He-normal inits; the asymptotic mutations are refuted; outside the hypotheses nothing certifies."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofs.paper_a.asymptotic import ASYMPTOTIC_CLAIMS, ASYMPTOTIC_MUTATIONS, t_str
from proofs.paper_a.certificate import (
    Certificate,
    FState,
    NotInF,
    band,
    certificate,
    iterate_band_check,
    ln_of,
    round_out,
    state_from_trajectory,
    symbolic_identities,
)
from proofs.paper_a.geometry import zero_set
from proofs.paper_a.problem import paper_a_problem
from verify.arith import Enclosure, get_backend
from verify.claims.result import Status
from verify.claims.runner import check_claims
from verify.dynamics.gd import run_gd
from verify.dynamics.schedule import RecordSchedule
from verify.init.schemes import sample_init
from verify.settings import CheckSettings

PROBLEM = paper_a_problem()
NET = PROBLEM.network
STEPS = 500
SETTINGS = CheckSettings(steps=STEPS, inits=1, seed=1)


def frac(lo: int, hi: int, den: int = 1000) -> st.SearchStrategy[Fraction]:
    return st.integers(lo, hi).map(lambda k: Fraction(k, den))


states = st.builds(
    lambda u, v, c1, c2, eta, T: FState.exact(u, v, c1, c2, eta, T),
    frac(-2000, 5000), frac(-2000, 5000), frac(0, 3000), frac(-3000, 0), frac(10, 1000), st.integers(0, 1000))


def he_inits_in_f(count: int, seed: int = 1) -> list[tuple[Fraction, ...]]:
    """The first ``count`` zero-bias He inits that start (hence stay) in F."""
    out, i = [], 0
    while len(out) < count:
        th = sample_init(NET, "he", seed, i)
        if th[0] > 0 > th[2]:
            out.append(th)
        i += 1
    return out


HE_F = he_inits_in_f(4)


# --- algebra -----------------------------------------------------------------------------------
def test_symbolic_identities_hold():
    checks = symbolic_identities()
    assert checks and all(checks.values()), checks


@pytest.mark.parametrize("q", [Fraction(1, 3), Fraction(-22, 7), Fraction(10**40 + 1, 3), Fraction(7, 10**30)])
def test_round_out_is_outward(q):
    down, up = round_out(q, up=False), round_out(q, up=True)
    assert down <= q <= up and up - down <= abs(q) * Fraction(1, 10**18)


# --- the band ------------------------------------------------------------------------------------
@given(states, st.data())
def test_iterated_enclosure_inside_band(state, data):
    t_max = state.T + 2000
    marks = data.draw(st.lists(st.integers(state.T, t_max), min_size=1, max_size=6))
    rows = iterate_band_check(state, state.eta, t_max, marks + [t_max, state.T + 1])
    assert rows and all(r.inside for r in rows), [r.strings() for r in rows if not r.inside]


@given(states, st.integers(1, 3000))
def test_band_contains_mpmath_point(state, k):
    """Independent 300-bit point iteration of u <- u + eta e^{-u} lies in the closed-form band."""
    t = state.T + k
    with mpmath.workprec(300):
        eta = mpmath.mpf(state.eta.numerator) / state.eta.denominator
        u = mpmath.mpf(state.u.lower.numerator) / state.u.lower.denominator
        for _ in range(k):
            u = u + eta * mpmath.exp(-u)
        sign, man, exp, _ = u._mpf_
        point = (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp)
    ub, _ = band(state, t)
    assert ub.lower < point < ub.upper, (t, float(point), float(ub.lower), float(ub.upper))


def test_band_contains_later_gd_enclosures():
    """The band built at an early F record contains the certified GD enclosures of later records."""
    traj = run_gd(PROBLEM, HE_F[0], 3000, schedule=RecordSchedule(stride=500, per_decade=0))
    early = next(r for r in traj.records if r.t == 500)
    cert = Certificate(state_from_trajectory(traj, early))
    for rec in traj.records:
        if rec.t <= 500:
            continue
        th = traj.enclosures(rec)
        ub, vb = cert.band(rec.t)
        assert (th["w1"] + th["b1"]).overlaps(ub) and (th["b2"] - th["w2"]).overlaps(vb)
        assert cert.denominator(rec.t).overlaps(th["w1"] - th["w2"])


def test_band_rejects_states_outside_f():
    traj = run_gd(PROBLEM, (Fraction(-1), Fraction(0), Fraction(-1), Fraction(0)), 10)
    with pytest.raises(NotInF):
        state_from_trajectory(traj)


# --- constants -----------------------------------------------------------------------------------
@pytest.mark.parametrize("theta0", HE_F)
def test_constants_hold_at_explicit_steps(theta0):
    cert = certificate(run_gd(PROBLEM, theta0, STEPS))
    k = cert.choose_constants()
    assert k is not None and k.a is not None and k.c is not None and k.angle_lo is not None
    assert 0 < k.a <= 1 <= k.A and 0 < k.c <= k.C and 0 < k.angle_lo <= k.angle_hi
    lim = cert.deficit_limit()
    assert lim == abs(theta0[0] + theta0[2]) / 2  # exact: the run is in F from t = 0
    assert k.deficit_ln_lo <= lim <= k.deficit_ln_hi
    for t in (k.T0, k.T0 + 1, 10 * k.T0, 10**9, 10**40):
        if t < k.T0:
            continue
        lt = ln_of(cert.backend, Fraction(t))
        den, dfc = cert.denominator(t), cert.deficit(t)
        assert (den >= lt * k.a).certainly() and (den <= lt * k.A).certainly()
        assert (dfc * lt >= k.c).certainly() and (dfc * lt <= k.C).certainly()
        lo, hi = cert.angle_bounds(t)
        assert 0 < lo <= hi
        assert (Enclosure.of(cert.backend, lo) * lt >= k.angle_lo).certainly()
        assert (Enclosure.of(cert.backend, hi) * lt <= k.angle_hi).certainly()
    ladder = cert.ladder(4)
    widths = [kk.deficit_ln_hi - kk.deficit_ln_lo for kk in ladder]
    assert all(w2 < w1 for w1, w2 in zip(widths, widths[1:], strict=False))  # brackets shrink to the limit


def test_degenerate_interval_vanishes_at_certified_step():
    theta0 = (Fraction(1), Fraction(-1, 2), Fraction(-1), Fraction(-1, 2))  # in F with a degenerate interval
    traj = run_gd(PROBLEM, theta0, 400, schedule=RecordSchedule(stride=1, per_decade=0))
    cert = Certificate(state_from_trajectory(traj, traj.records[0]))
    tdeg = cert.degenerate_vanish_step()
    assert tdeg is not None and tdeg > 0
    for rec in traj.records:
        comps = zero_set(PROBLEM, [Enclosure(traj.backend, v) for v in rec.theta])
        if rec.t >= tdeg:
            assert not any(z.degenerate for z in comps), rec.t
    assert any(z.degenerate for z in zero_set(PROBLEM, [Enclosure(traj.backend, v) for v in traj.records[0].theta]))


# --- claims and mutations --------------------------------------------------------------------------
@pytest.mark.parametrize("theta0", HE_F[:2])
def test_claims_certify_on_he_inits(theta0):
    res = check_claims(list(ASYMPTOTIC_CLAIMS.values()), SETTINGS, inits=[theta0])
    for r in res:
        out = r.outcomes[0].outcome
        assert out.status is Status.CERTIFIED, (r.claim_id, out.detail)
        for v in out.data.values():
            assert not isinstance(v, float)
    data = {r.claim_id: r.outcomes[0].outcome.data for r in res}
    assert Fraction(data["margin-deficit-rate"]["limit"]) == abs(theta0[0] + theta0[2]) / 2
    assert Fraction(data["numerator-limit"]["limit"]) == (theta0[0] + theta0[2]) / 2
    assert data["numerator-limit"]["zero_bias_formula"] == "true"
    assert 0 < Fraction(data["denominator-log-growth"]["a"]) <= Fraction(data["denominator-log-growth"]["A"])


def test_claims_not_admitted_off_f():
    res = check_claims(list(ASYMPTOTIC_CLAIMS.values()), SETTINGS,
                       inits=[(Fraction(-1), Fraction(0), Fraction(1, 2), Fraction(0))])
    assert all(r.outcomes[0].outcome.status is Status.NOT_ADMITTED for r in res)


@pytest.mark.parametrize("mid", list(ASYMPTOTIC_MUTATIONS))
def test_mutation_refuted_exactly(mid):
    (res,) = check_claims([ASYMPTOTIC_MUTATIONS[mid]], SETTINGS, inits=HE_F[:2])
    assert res.verdict is Status.REFUTED, res.counts
    cx = res.counterexample.outcome.counterexample
    for name in ("w1", "b1", "w2", "b2"):
        Fraction(cx[name])
    assert cx["t"].startswith("10^") or cx["t"] == t_str(int(cx["t"]))
    (again,) = check_claims([ASYMPTOTIC_MUTATIONS[mid]], SETTINGS, inits=[tuple(Fraction(q) for q in
                                                                              res.counterexample.theta0)])
    assert again.outcomes[0].outcome == res.counterexample.outcome


@given(frac(1, 3000))
def test_margin_lower_bound_not_certified_when_c1_plus_c2_is_zero(a):
    """w1(0) = -w2(0), zero bias: u_t = v_t, gamma = gamma* for ever; outside the hypotheses."""
    theta0 = (a, Fraction(0), -a, Fraction(0))
    (res,) = check_claims([ASYMPTOTIC_CLAIMS["margin-deficit-rate"]], SETTINGS, inits=[theta0], check_outside=True)
    out = res.outcomes[0].outcome
    assert out.status is Status.NOT_ADMITTED and out.data["outside_status"] != "certified"
    cert = certificate(run_gd(PROBLEM, theta0, 50))
    assert cert.S.sign() == 0 and cert.deficit_limit() == 0 and not cert.s_nonzero()
    k = cert.choose_constants()
    assert k is not None and k.c is None and k.C is None


def test_backend_precision_is_a_parameter():
    st_ = FState.exact("1/2", "3/2", 1, -1, "1/10", 0, backend=get_backend("arb", 256))
    rows = iterate_band_check(st_, None, 500, [1, 10, 500])
    assert all(r.inside for r in rows) and st_.backend.prec == 256
