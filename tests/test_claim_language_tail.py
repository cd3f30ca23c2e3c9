"""The tail: paper A's tail certificate states only what a longer certified run confirms, verdicts about
steps beyond a short run hold on a longer one, the symbolic rewriting preserves values, and without a
tail (or with sparse records) an outcome says exactly which steps it covers."""

from __future__ import annotations

from fractions import Fraction as F

import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from proofs.paper_a.geometry import robustness_margin
from proofs.paper_a.tail import E_U, E_V, PaperATail, tail_certificate
from verify.arith import Enclosure, Tri
from verify.claims.claim import Case
from verify.claims.language.claims import file_claims
from verify.claims.language.compile import EnclosureOps, compile_expr
from verify.claims.language.tail import TAU, R, ladder, normalize, sign_parts
from verify.claims.result import Status
from verify.dynamics.schedule import EVERY_STEP
from verify.dynamics.sweep import certified_run
from verify.settings import CheckSettings

THETA0 = (F(1, 2), F(0), F(-1, 4), F(0))
SHORT, LONG = CheckSettings(steps=300), CheckSettings(steps=10_000)


def _run(settings, theta0=THETA0):
    return certified_run(settings.sweep_spec(EVERY_STEP), theta0)[1]


SHORT_RUN, LONG_RUN = _run(SHORT), _run(LONG)


def test_paper_a_tail_statements_hold_on_a_longer_run():
    tail = tail_certificate(SHORT_RUN)
    assert isinstance(tail, PaperATail) and tail.T == 300 and tail.start == 0 and tail.pattern == "1001"
    be = LONG_RUN.backend
    forms = {n: compile_expr(f) for n, f in tail.param_forms().items()}
    qforms = tail.quantity_forms()
    tdeg = qforms["margin"][1]
    boxes = {T0: tail.box(T0) for T0 in (301, 1000, 5000)}
    for rec in LONG_RUN.records[::97]:
        theta = LONG_RUN.enclosures(rec)
        coords = tail.coords_of(theta)
        consts = {s: sp.sympify(v).subs({sp.Symbol(f"{n}_0", real=True): q for n, q in
                                         zip(("w1", "b1", "w2", "b2"), THETA0, strict=True)})
                  for s, v in tail.constants.items()}
        ops = EnclosureOps(be)
        with be.working_precision():
            vals = {**{s: c.value for s, c in coords.items()}, **{s: ops.enter(F(str(v))) for s, v in consts.items()}}
            for name, f in forms.items():  # parameters from the coordinates
                assert Enclosure(be, f(ops, vals)).overlaps(theta[name])
            loss = compile_expr(qforms["L"][0])(ops, vals)
            assert Enclosure(be, loss).overlaps(LONG_RUN.loss(rec))
            if rec.t >= tdeg:
                margin = compile_expr(qforms["margin"][0])(ops, vals)
                assert Enclosure(be, margin).overlaps(robustness_margin(LONG_RUN.problem, list(theta.values())))
        if rec.t >= tail.T:  # the band at the exact step
            band = tail.band(rec.t)
            assert all(band[s].overlaps(coords[s]) for s in coords)
        for T0, box in boxes.items():  # the offsets u_t - ln t, v_t - ln t lie in box(T0) for every t >= T0
            if rec.t >= T0:
                with be.working_precision():
                    ln_t = Enclosure.of(be, rec.t).log()
                for off, coord in ((E_U, coords[tail.coordinates[0]]), (E_V, coords[tail.coordinates[1]])):
                    lo, hi = box[off]
                    e = coord - ln_t
                    assert lo <= e.upper and e.lower <= hi, (rec.t, T0, off)
    # the boxes shrink to ln(eta) as T0 grows
    ln_eta = Enclosure.of(be, F(1, 10)).log()
    widths = []
    for piece in ladder(301)[:5]:
        lo, hi = tail.box(piece.T_lo)[E_U]
        assert lo <= ln_eta.upper and ln_eta.lower <= hi
        widths.append(hi - lo)
    assert widths == sorted(widths, reverse=True) and widths[-1] < widths[0] / 100


BEYOND = '''paper = "a"
[claim.c1]
form = "always"
holds = "w1 - b1 == w1_0 - b1_0"
[claim.rate]
form = "rate"
quantity = "gamma_star - margin"
like = "1/log(t)"
[claim.small]
form = "eventually"
holds = "L < 1/20"
[claim.not-small]
form = "always"
holds = "L > 1/100"
[claim.limit]
form = "limit"
quantity = "b2 - b1"
to = "(w1_0 + w2_0)/2"
'''


def _outcomes(tmp_path, settings, theta0=THETA0, text=BEYOND):
    path = tmp_path / "beyond.toml"
    path.write_text(text)
    claims = file_claims(path, settings)
    out = {}
    for cid, claim in claims.items():
        case = Case(settings, theta0, every_step=claim.every_step)
        out[cid] = claim.check(case) if claim.admits(case) else None
    return out


def test_verdicts_beyond_a_short_run_hold_on_a_longer_run(tmp_path):
    out = _outcomes(tmp_path, SHORT)
    assert out["c1"].status is Status.CERTIFIED and out["c1"].data["every_t"]
    be = LONG_RUN.backend
    rate = out["rate"]
    assert rate.status is Status.CERTIFIED
    c, C, T0 = F(rate.data["c"]), F(rate.data["C"]), int(rate.data["T0"])
    assert T0 == 301
    small = out["small"]
    assert small.status is Status.CERTIFIED and small.data["every_t"]
    holds_from = int(small.data["holds_from"])
    for rec in LONG_RUN.records[T0::50]:
        theta = LONG_RUN.enclosures(rec)
        with be.working_precision():
            deficit_ln = (1 - robustness_margin(LONG_RUN.problem, list(theta.values()))) * Enclosure.of(be, rec.t).log()
        assert (deficit_ln >= c).certainly() and (deficit_ln <= C).certainly(), rec.t
        if rec.t >= holds_from:
            assert (LONG_RUN.loss(rec) < F(1, 20)).certainly()
    # a claim true on the short run but false later is refuted at a step beyond it, which the longer run confirms
    late = out["not-small"]
    assert late.status is Status.REFUTED
    t = int(late.counterexample["t"])
    assert 300 < t <= 10_000
    assert (LONG_RUN.loss(LONG_RUN.records[t]) <= F(1, 100)).certainly()
    assert out["limit"].status is Status.CERTIFIED


def test_without_a_tail_an_outcome_covers_only_the_steps_run(tmp_path):
    logistic = CheckSettings(steps=300, loss="logistic")  # paper A's tail needs the exponential loss
    out = _outcomes(tmp_path, logistic)
    assert out["not-small"].status is Status.CERTIFIED
    assert out["not-small"].data == {"covers": "0 <= t <= 300", "every_t": False}
    assert "nothing is claimed beyond step 300" in out["not-small"].detail
    # an equality of enclosures that are not exact points is never certified without exact coordinates
    assert out["c1"].status is Status.INCONCLUSIVE
    for cid in ("rate", "small", "limit"):
        assert out[cid].status is Status.INCONCLUSIVE and "no tail certificate" in out[cid].detail
    # a run that does not end in F has no tail either
    dead = _outcomes(tmp_path, SHORT, (F(1, 2), F(0), F(1, 4), F(0)))
    assert dead["not-small"].data["covers"] == "0 <= t <= 300" and not dead["not-small"].data["every_t"]


def test_sparse_records_say_so(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(BEYOND)
    logistic = CheckSettings(steps=300, loss="logistic")
    claim = file_claims(path, logistic, ["not-small"])["not-small"]
    case = Case(logistic, THETA0, every_step=False)  # the default schedule: log-spaced records
    out = claim.check(case)
    n = len(case.trajectory.records)
    assert n < 301 and out.status is Status.CERTIFIED
    assert out.data["covers"] == f"the {n} recorded steps of 0 <= t <= 300"
    # with a tail: every t beyond the run, but still only the recorded steps of the run
    c1 = file_claims(path, SHORT, ["c1"])["c1"]
    sparse = Case(SHORT, THETA0, every_step=False)
    out = c1.check(sparse)
    assert out.status is Status.CERTIFIED and out.data["every_t"] is False
    assert out.data["covers"] == f"the {len(sparse.trajectory.records)} recorded steps of 0 <= t <= 300, and every " \
        "t >= 301"


# --- the rewriting -------------------------------------------------------------------------------
X = sp.Symbol("x", real=True)
atoms = st.one_of(st.sampled_from([TAU, R, X, 1 / TAU, 1 / R]),
                  st.builds(lambda p, q: sp.Rational(p, q), st.integers(-5, 5), st.integers(1, 4)))


def _grow(children):
    two = st.tuples(children, children)
    return st.one_of(two.map(lambda ab: ab[0] + ab[1]), two.map(lambda ab: ab[0] * ab[1]),
                     two.map(lambda ab: ab[0] / (ab[1] ** 2 + TAU)), children.map(sp.Abs),
                     two.map(lambda ab: sp.Max(*ab)), two.map(lambda ab: sp.Min(ab[0], 0)))


tau_exprs = st.recursive(atoms, _grow, max_leaves=8)
positive = st.builds(F, st.integers(1, 50), st.integers(1, 50))


@given(tau_exprs, positive, positive, st.builds(F, st.integers(-20, 20), st.integers(1, 7)))
def test_normalize_and_sign_parts_preserve_values(e, tau, r, x):
    point = {TAU: sp.Rational(tau.numerator, tau.denominator), R: sp.Rational(r.numerator, r.denominator),
             X: sp.Rational(x.numerator, x.denominator)}
    value = e.xreplace(point)
    n = normalize(e)
    assert sp.simplify(n.xreplace(point) - value) == 0
    P, Q = sign_parts(n)
    p, q = P.xreplace(point), Q.xreplace(point)
    assert q != 0 and sp.sign(p) * sp.sign(q) == sp.sign(value)


def test_box_decisions_use_the_sign_of_numerator_and_denominator():
    """(u + 1)(v + 1) grows like ln^2 t: its interval over a box reaching tau = 0 is not finite, but once the
    monomial tau^-2 is split off the numerator is decided positive on the box."""
    tail = tail_certificate(SHORT_RUN)
    U, V = tail.coordinates
    e = normalize(((U + 1) * (V + 1)).xreplace({U: 1 / TAU + E_U, V: 1 / TAU + E_V}))
    P, Q = sign_parts(e)
    assert P.subs(TAU, 0) == 1 and Q == 1
    be = tail.backend
    ops = EnclosureOps(be)
    with be.working_precision():
        box = {TAU: be.hull(be.exact(F(0)), be.exact(F(1, 10))), E_U: be.exact(F(-2)), E_V: be.exact(F(-2))}
        assert ops.endpoints(compile_expr(e)(ops, box)) is None  # not finite as it stands
        assert ops.lt(ops.const(F(0)), compile_expr(P)(ops, box)) is Tri.TRUE
