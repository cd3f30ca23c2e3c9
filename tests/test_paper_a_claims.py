"""Paper A's true claims: certified (or honestly inconclusive / not admitted), never refuted, on
every init scheme and on adversarial exact inits; the runner's contract (one trajectory per init,
determinism, once-scope, not-admitted, undecidable -> inconclusive, smallest counterexample)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import verify.dynamics.sweep as sweep_mod
from proofs.paper_a import checks as ck
from proofs.paper_a.catalog import CLAIMS, MUTATIONS
from proofs.paper_a.problem import paper_a_problem
from tests.conftest import min_reach
from verify.claims.claim import Case, Claim
from verify.claims.result import ClaimResult, Outcome, Status
from verify.claims.runner import check_claims, smallest_refutation
from verify.dynamics.gd import run_gd
from verify.errors import UndecidableError
from verify.init.schemes import SCHEMES, sample_init, sample_inits
from verify.papers import get_paper
from verify.settings import CheckSettings

STEPS = 600
SETTINGS = CheckSettings(steps=STEPS, inits=8)
NET_PROBLEM = paper_a_problem()
NET = NET_PROBLEM.network
ALL_TRUE = list(CLAIMS.values())
BAD = {Status.REFUTED}


def frac(lo: int, hi: int, den: int = 1000) -> st.SearchStrategy[Fraction]:
    return st.integers(lo, hi).map(lambda k: Fraction(k, den))


scheme_inits = st.builds(lambda s, seed, i: sample_init(NET, s, seed, i),
                         st.sampled_from(SCHEMES), st.integers(0, 2**20), st.integers(0, 50))
near_zero = frac(-5, 5, 10**6)
# pre-activations near 0: b = -w*x + tiny, so some z_ij is within 1e-5 of 0
near_kink = st.builds(lambda w1, e1, w2, e2, s1, s2: (w1, s1 * w1 + e1, w2, s2 * w2 + e2),
                      frac(-2000, 2000), near_zero, frac(-2000, 2000), near_zero,
                      st.sampled_from([1, -1]), st.sampled_from([1, -1]))
zero_bias_f = st.builds(lambda a, b: (a, Fraction(0), -b, Fraction(0)), frac(1, 3000), frac(1, 3000))
# w1(0) + w2(0) near 0
near_cancel = st.builds(lambda a, d: (a, Fraction(0), -a + d, Fraction(0)), frac(10, 3000), near_zero)
adversarial = st.one_of(scheme_inits, near_kink, zero_bias_f, near_cancel,
                        st.tuples(frac(-3000, 3000), frac(-3000, 3000), frac(-3000, 3000), frac(-3000, 3000)))
etas = st.sampled_from([Fraction(1, 10), Fraction(1, 2), Fraction(2), Fraction(5)])


def outcomes_for(theta0, settings=SETTINGS, claims=ALL_TRUE) -> dict[str, Outcome]:
    res = check_claims(claims, settings, inits=[theta0])
    return {r.claim_id: r.outcomes[-1].outcome for r in res}


# --- the catalog ----------------------------------------------------------------------------
def test_catalog_shape():
    paper = get_paper("a")
    assert paper.claims() is CLAIMS and paper.mutations() is MUTATIONS and paper.title
    assert get_paper("paper_a") is paper
    seen: set[str] = set()
    for cid, c in CLAIMS.items():
        assert cid == c.id and c.mutation_of is None and c.source and c.statement
        assert set(c.depends_on) <= seen, f"{cid} depends on a later claim"
        seen.add(cid)
    for cid, m in MUTATIONS.items():
        assert cid == m.id and m.mutation_of in CLAIMS


def test_limit_network_certified_exactly():
    (res,) = check_claims([CLAIMS["limit-network"]], SETTINGS)
    assert res.verdict is Status.CERTIFIED and len(res.outcomes) == 1
    assert res.outcomes[0].outcome.data["lam"] == ["1/2", "1/2"]


def test_kkt_multipliers_exact():
    margins, lam, grads = ck.kkt_multipliers([Fraction(1, 2), Fraction(1, 2), Fraction(-1, 2), Fraction(1, 2)])
    assert margins == [1, 1] and lam == [Fraction(1, 2)] * 2
    assert ck.kkt_multipliers([Fraction(1), Fraction(0), Fraction(-1), Fraction(3)]) is None


# --- true claims on inits -------------------------------------------------------------------
ALWAYS_ADMITTED = ("phase-ordering", "convergence-basin")  # admitted on every certified run


def assert_reached(outs: dict[str, Outcome], theta0, eta=None) -> None:
    """The example exercised the checkers: some claim certified, or GD itself was not certified."""
    if any(out.status is Status.CERTIFIED for out in outs.values()):
        return
    out = outs["phase-ordering"]
    assert out.status is Status.INCONCLUSIVE and "GD not certified" in out.detail, (theta0, eta, out.detail)


@given(scheme_inits)
def test_true_claims_on_scheme_inits(theta0):
    outs = outcomes_for(theta0)
    for cid, out in outs.items():
        assert out.status in (Status.CERTIFIED, Status.NOT_ADMITTED), (cid, out.detail)
    assert all(outs[cid].status is Status.CERTIFIED for cid in ALWAYS_ADMITTED), theta0


@given(adversarial, etas)
def test_true_claims_never_refuted(theta0, eta):
    outs = outcomes_for(theta0, SETTINGS.with_(eta=eta))
    for cid, out in outs.items():
        assert out.status not in BAD, (cid, theta0, eta, out.detail)
    assert_reached(outs, theta0, eta)


@given(zero_bias_f)
def test_monotone_numerator_inside_hypotheses(theta0):
    out = outcomes_for(theta0, claims=[CLAIMS["monotone-numerator"]])["monotone-numerator"]
    assert out.status is Status.CERTIFIED, out.detail
    assert out.data["limit"] == str(abs(theta0[0] + theta0[2]) / 2)


@given(zero_bias_f)
@example((Fraction(1, 10), Fraction(0), Fraction(-1, 10), Fraction(0)))  # (-1/10, 0, -1/10, 0): z12 = 0 at t = 1
def test_convergence_basin_zero_bias_iff(theta0):
    w1, _, w2, _ = theta0
    for th in (theta0, (-w1, Fraction(0), w2, Fraction(0)), (w1, Fraction(0), -w2, Fraction(0))):
        out = outcomes_for(th, claims=[CLAIMS["convergence-basin"]])["convergence-basin"]
        if out.status is Status.INCONCLUSIVE:  # only when GD itself is undecidable: a moving neuron's z is exactly 0
            assert "GD not certified" in out.detail and not run_gd(NET_PROBLEM, th, STEPS, max_prec=256).certified
            continue
        assert out.status is Status.CERTIFIED, out.detail
        assert out.data["basin"] == (th[0] > 0 > th[2])


@min_reach(1.0)
@given(st.integers(1, 5).map(Fraction), frac(1, 500), frac(500, 3000))
def test_monotone_numerator_outside_criterion_is_never_certified(eta, w1, minus_w2):
    """eta >= e^{u0} breaks lem:monotone_limit's criterion: refuted or inconclusive, never certified."""
    settings = SETTINGS.with_(eta=eta)
    case = Case(settings, (w1, Fraction(0), -minus_w2, Fraction(0)))
    assume(not ck.monotone_admits(case))
    (res,) = check_claims([CLAIMS["monotone-numerator"]], settings, inits=[case.theta0], check_outside=True)
    out = res.outcomes[0].outcome
    assert out.status is Status.NOT_ADMITTED and out.data["outside"] is True
    assert out.data["outside_status"] in ("refuted", "inconclusive"), out.detail
    assert res.counterexample is None  # outside-hypotheses refutations do not count against the claim


def test_monotone_numerator_eta5_refuted_outside():
    case = Case(CheckSettings(eta=5, steps=STEPS), (Fraction(1, 10), Fraction(0), Fraction(-1), Fraction(0)))
    assert not ck.monotone_admits(case)
    assert CLAIMS["monotone-numerator"].check(case).status is Status.REFUTED


def test_degenerate_interval_appears_and_vanishes():
    out = outcomes_for((Fraction(1), Fraction(-1, 2), Fraction(-1), Fraction(-1, 2)),
                       SETTINGS.with_(steps=2000), [CLAIMS["degenerate-interval"]])["degenerate-interval"]
    assert out.status is Status.CERTIFIED and out.data["first_seen"] == 0 and out.data["last_seen"] > 0


def test_degenerate_interval_too_short_horizon_is_inconclusive():
    out = outcomes_for((Fraction(1), Fraction(-1, 2), Fraction(-1), Fraction(-1, 2)),
                       SETTINGS.with_(steps=3), [CLAIMS["degenerate-interval"]])["degenerate-interval"]
    assert out.status is Status.INCONCLUSIVE


# --- the runner -----------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["batch", "arb"])
def test_one_trajectory_per_init_and_once_scope(monkeypatch, backend):
    """Each init runs GD once whatever the number of claims (plus once on Arb if it is escalated)."""
    batch_lanes, engine_runs = [], []
    real_batch, real_engine = sweep_mod.bt.run_batch, sweep_mod.SweepSpec.engine_run

    def counting_batch(problem, inits, *args, **kwargs):
        batch_lanes.extend(inits)
        return real_batch(problem, inits, *args, **kwargs)

    def counting_engine(spec, theta0):
        engine_runs.append(tuple(theta0))
        return real_engine(spec, theta0)

    monkeypatch.setattr(sweep_mod.bt, "run_batch", counting_batch)
    monkeypatch.setattr(sweep_mod.SweepSpec, "engine_run", counting_engine)
    once_calls = []
    once = Claim("probe-once", "t", "s", "src", (), lambda c: once_calls.append(c.theta0) or Outcome(
        Status.CERTIFIED, "ok"), scope="once")
    settings = SETTINGS.with_(inits=5, backend=backend)
    progress: list[int] = []
    res = check_claims(ALL_TRUE + [once], settings, progress=progress.append)
    if backend == "batch":
        assert len(batch_lanes) == 5 and len(engine_runs) == res[1].engines["escalated"]
    else:
        assert batch_lanes == [] and len(engine_runs) == 5
    assert once_calls == [None] and progress == sorted(progress) and progress[-1] == 5
    default = sample_inits(NET, settings.scheme, settings.seed, settings.inits)
    assert [tuple(str(q) for q in th) for th in default] == [o.theta0 for o in res[1].outcomes]
    assert all(r.config == settings.to_dict() for r in res)


def test_claim_inconclusive_on_float64_is_checked_again_on_arb():
    """A claim that needs more than float64 widths gets the init's Arb trajectory instead."""
    def needs_arb(case: Case) -> Outcome:
        if case.trajectory.max_width() > Fraction(1, 10**20):
            return Outcome(Status.INCONCLUSIVE, "enclosure too wide", case.trajectory.prec)
        return Outcome(Status.CERTIFIED, "narrow enough", case.trajectory.prec)

    probe = Claim("probe-narrow", "t", "s", "src", (), needs_arb)
    (res,) = check_claims([probe], SETTINGS.with_(inits=4, backend="batch"))
    assert res.verdict is Status.CERTIFIED and {o.outcome.prec for o in res.outcomes} == {128}
    assert res.engines["engines"] == {"arb": 4}
    assert res.engines["escalation_reasons"] == {"a claim was inconclusive on the float64 enclosures": 4}
    dead = [(Fraction(-1), Fraction(-2), Fraction(1), Fraction(-2))] * 2  # no neuron active: exact points forever
    (exact,) = check_claims([probe], SETTINGS.with_(backend="batch"), inits=dead)
    assert exact.engines["engines"] == {"batch-f64": 2} and {o.outcome.prec for o in exact.outcomes} == {53}


def test_results_deterministic_and_round_trip():
    settings = CheckSettings(steps=300, inits=6, scheme="pytorch")
    claims = ALL_TRUE + list(MUTATIONS.values())
    a = [r.to_dict() for r in check_claims(claims, settings)]
    b = [r.to_dict() for r in check_claims(claims, settings)]
    assert a == b
    assert [ClaimResult.from_dict(d).to_dict() for d in a] == a


def test_not_admitted_and_undecidable():
    def boom(case: Case) -> Outcome:
        raise UndecidableError("straddles")

    def admits_boom(case: Case) -> bool:
        raise UndecidableError("hyp straddles")

    claims = [
        Claim("never", "t", "s", "src", (), lambda c: Outcome(Status.CERTIFIED, "x"), admits=lambda c: False),
        Claim("boom", "t", "s", "src", (), boom),
        Claim("admits-boom", "t", "s", "src", (), boom, admits=admits_boom),
    ]
    res = {r.claim_id: r for r in check_claims(claims, SETTINGS.with_(inits=2))}
    assert res["never"].counts["not-admitted"] == 2
    assert res["boom"].counts["inconclusive"] == 2 and "straddles" in res["boom"].outcomes[0].outcome.detail
    assert res["admits-boom"].counts["inconclusive"] == 2


def test_smallest_counterexample_by_l1():
    def refute_all(case: Case) -> Outcome:
        return Outcome(Status.REFUTED, "no", counterexample={"w1": str(case.theta0[0])})

    inits = [(Fraction(3), Fraction(0), Fraction(-1), Fraction(0)), (Fraction(1, 2), Fraction(0), Fraction(-1, 4),
             Fraction(0)), (Fraction(-1, 2), Fraction(0), Fraction(1, 4), Fraction(0))]
    (res,) = check_claims([Claim("r", "t", "s", "src", (), refute_all)], SETTINGS, inits=inits)
    assert res.counterexample is not None and res.counterexample.index == 1
    assert smallest_refutation(res.outcomes) == res.counterexample


# claims a scheme cannot reach: monotone-numerator needs zero biases, which pytorch and normal never draw
UNREACHABLE = {("monotone-numerator", "pytorch"), ("monotone-numerator", "normal")}


@pytest.mark.parametrize("scheme", SCHEMES)
def test_true_claims_certified_per_scheme(scheme):
    settings = CheckSettings(scheme=scheme, steps=STEPS, inits=20, seed=7)
    for res in check_claims(ALL_TRUE, settings):
        c = res.counts
        assert c["refuted"] == 0 and c["inconclusive"] == 0, (res.claim_id, c)
        if (res.claim_id, scheme) in UNREACHABLE:
            assert c["not-admitted"] == sum(c.values()), (res.claim_id, c)
        else:  # the claim was exercised, not passed by having nothing admitted
            assert c["certified"] >= 1, (res.claim_id, scheme, c)


@pytest.mark.slow
@pytest.mark.parametrize("scheme", SCHEMES)
def test_true_claims_at_the_default_settings(scheme):
    """The defaults of `verify run` (200 inits x 2000 steps) on every scheme: nothing refuted or
    inconclusive, and every reachable claim certified somewhere."""
    settings = CheckSettings(scheme=scheme)
    for res in check_claims(ALL_TRUE, settings, workers=2):
        c = res.counts
        assert c["refuted"] == 0 and c["inconclusive"] == 0, (res.claim_id, c)
        assert (res.claim_id, scheme) in UNREACHABLE or c["certified"] >= 1, (res.claim_id, scheme, c)
