"""Three-valued checkers of paper B's claims (and, with other parameters, of their mutations).

Each ``*_checker`` returns a function ``Case -> Outcome`` of scope ``once``: it reads the shared
objects of the setting (:func:`proofs.paper_b.world.world`: data, samples, certified training runs)
and decides on exact rationals or certified enclosures only. A claim about the training runs is
*certified* when it holds on every run its hypotheses admit (and some run is admitted), *refuted*
when some admitted run certifiably violates it (the run, step and exact values are the
counterexample), *inconclusive* otherwise (saying which run and why); runs outside the hypotheses
(the loss never certified below the threshold) are counted and named, never counted as support.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from verify.claims.claim import Case
from verify.claims.result import Outcome, Status
from verify.errors import UndecidableError

Checker = Callable[[Case], Outcome]
INIT_ERROR = Fraction(1, 100)  # the mutation "the init already generalizes": at most 1% test errors


def _world(case: Case):
    from proofs.paper_b.world import world

    return world(case.settings)


def _combine(per_run: list[tuple[str, str, Any]], what: str, outside: int,
             data: dict[str, Any] | None = None) -> Outcome:
    """One outcome from per-run ``(status, sentence, counterexample)`` (status strings)."""
    counts = {s: sum(1 for p in per_run if p[0] == s) for s in ("certified", "refuted", "inconclusive")}
    extra = {"runs": [[s, msg] for s, msg, _ in per_run], "counts": counts, "not_admitted_runs": outside,
             **(data or {})}
    tail = f" ({outside} run(s) outside the hypotheses)" if outside else ""
    refuted = [p for p in per_run if p[0] == "refuted"]
    if refuted:
        return Outcome(Status.REFUTED, f"{what}: refuted on {len(refuted)} of {len(per_run)} admitted runs: "
                       f"{refuted[0][1]}{tail}", 53, refuted[0][2], extra)
    if not per_run:
        return Outcome(Status.INCONCLUSIVE, f"{what}: no run admitted{tail}", None, None, extra)
    if counts["inconclusive"]:
        first = next(p for p in per_run if p[0] == "inconclusive")
        return Outcome(Status.INCONCLUSIVE, f"{what}: certified on {counts['certified']} of {len(per_run)} admitted "
                       f"runs; inconclusive: {first[1]}{tail}", 53, None, extra)
    return Outcome(Status.CERTIFIED, f"{what}: certified on all {len(per_run)} admitted runs{tail}", 53, None, extra)


def _run_name(run) -> str:
    return f"width {run.width}, init {run.seed}"


# --- Lemma 2.1 -------------------------------------------------------------------------------
def separability_checker(sign: int = 1) -> Checker:
    """Lemma 2.1: an exact rational separator (LP candidate, checked exactly) and the witness
    ``sign * u`` with ``y_i <sign u, x_i> > 0`` on every training point (``sign = -1``: a mutation)."""

    def check(case: Case) -> Outcome:
        from proofs.paper_b.separability import certify_separable, check_witness

        w = _world(case)
        direction = None if sign == 1 else -w.model.u
        wit = check_witness(w.model, w.sample, 0, direction)
        data = {"witness_min_margin": str(wit.min_margin), "witness_over_d": str(wit.over_d)}
        if wit.status == "refuted":
            i = wit.counterexample
            return Outcome(Status.REFUTED, f"y_i <{'u' if sign == 1 else '-u'}, x_i> = {wit.min_margin} <= 0 at "
                           f"training point {i}", None, {"point": str(i), "margin": str(wit.min_margin)}, data)
        sep = certify_separable(w.sample)
        data["separator"] = sep.status
        if sep.status != "certified":
            return Outcome(Status.INCONCLUSIVE, f"witness certified (min y<u,x>/d = {float(wit.over_d):.3f}); "
                           f"LP separator: {sep.reason}", None, None, data)
        return Outcome(Status.CERTIFIED, f"exact separator with min margin {sep.min_margin}; witness u: min "
                       f"y<u,x> = {float(wit.min_margin):.4g} = {float(wit.over_d):.3f} d", None, None, data)

    return check


# --- Theorem 2.1 -----------------------------------------------------------------------------
def _bias_of(run, w):
    """The Theorem-2.1 quantities of a run from its threshold step on (cached on the run)."""
    from proofs.paper_b.bias import trajectory_bias

    if not hasattr(run, "_bias"):
        run._bias = trajectory_bias(run.trajectory, run.reached) if run.reached is not None else []
    return run._bias


PerRun = tuple[str, str, Any]  # (status, sentence, counterexample or None) of one admitted run


def _judge_admitted(w, judge: Callable[[Any, list], PerRun]) -> tuple[list[PerRun], int]:
    """``judge(run, bias records)`` on every run whose loss was certified below the threshold, and the
    number of runs outside the hypotheses (never below it). A run whose Theorem-2.1 quantities
    cannot be certified (:class:`UndecidableError` from :func:`_bias_of`) is inconclusive, saying why."""
    per_run, outside = [], 0
    for run in w.runs():
        if run.reached is None:
            outside += 1
            continue
        try:
            bs = _bias_of(run, w)
        except UndecidableError as exc:
            per_run.append(("inconclusive", f"{_run_name(run)}: {exc}", None))
            continue
        per_run.append(judge(run, bs))
    return per_run, outside


def margin_checker(quantity: str = "margin", increasing: bool = True) -> Checker:
    """Theorem 2.1 (Lyu & Li): once the loss is certified below the threshold, the normalized
    margin (``quantity="margin"``) or the smoothed margin (``"smoothed"``) is non-decreasing over the
    recorded steps (``increasing=False``: the mutation "non-increasing")."""

    def judge(run, bs: list) -> PerRun:
        from proofs.paper_b.bias import monotone_verdict

        vals = [(b.t, getattr(b, f"{quantity}_lo"), getattr(b, f"{quantity}_hi")) for b in bs
                if getattr(b, f"{quantity}_lo") is not None]
        if len(vals) < 2:
            return ("inconclusive", f"{_run_name(run)}: fewer than two certified steps after the threshold (run "
                    f"{run.summary.status}: {run.summary.reason})", None)
        status, msg = monotone_verdict(vals, increasing)
        cx = {"width": str(run.width), "init": str(run.seed)} if status == "refuted" else None
        stop = "" if run.trajectory.certified else f"; certified up to step {run.trajectory.steps_done}"
        return status, f"{_run_name(run)}: {msg} (steps {vals[0][0]}..{vals[-1][0]}{stop})", cx

    def check(case: Case) -> Outcome:
        per_run, outside = _judge_admitted(_world(case), judge)
        return _combine(per_run, f"{quantity} {'non-decreasing' if increasing else 'non-increasing'} after L < "
                        f"threshold", outside)

    return check


def kkt_checker(mutated: bool = False) -> Checker:
    """Theorem 2.1: theta_t / sqrt(q_min) is an eps_t-approximate KKT point of Problem (2) with a
    certified bound eps_t < 1 at every KKT-evaluated step after the threshold, the bound at the last
    such step below the one at the first (shrinking).

    ``mutated``: "the best KKT eps grows": ``eps*_last > eps*_first`` for the best eps of the
    iterate (the infimum over multipliers, :mod:`proofs.paper_b.bias`). Refuted only soundly: the
    upper bound at the last step is below the *lower* bound (dual certificate) at the first;
    certified when the lower bound at the last step exceeds the upper bound at the first."""

    def judge(run, bs: list) -> PerRun:
        eps = [(b.t, b.eps_hi, b.eps_lo) for b in bs if b.eps_hi is not None]
        if len(eps) < 2:
            return "inconclusive", f"{_run_name(run)}: fewer than two certified steps after the threshold", None
        (t0, e0, l0), (t1, e1, l1) = eps[0], eps[-1]
        text = f"{_run_name(run)}: eps_{t0} <= {float(e0):.4g}, eps_{t1} <= {float(e1):.4g}"
        if not mutated:
            shrinks = e1 < e0 and all(e < 1 for _, e, _ in eps)
            return "certified" if shrinks else "inconclusive", text, None
        low = (f"{_run_name(run)}: eps*_{t0} in [{_show(l0)}, {float(e0):.4g}], eps*_{t1} in "
               f"[{_show(l1)}, {float(e1):.4g}] (dual lower bound, nnls upper bound)")
        if l0 is not None and e1 < l0:
            return "refuted", low, {"width": str(run.width), "init": str(run.seed), "t_first": str(t0),
                                    "eps_first_lower": str(l0), "t": str(t1), "eps_bound": str(e1)}
        if l1 is not None and l1 > e0:
            return "certified", low, None
        return "inconclusive", low, None

    def check(case: Case) -> Outcome:
        per_run, outside = _judge_admitted(_world(case), judge)
        what = "best KKT eps* grows" if mutated else "certified KKT bound eps_t < 1 and shrinking"
        return _combine(per_run, what, outside)

    return check


def _show(x: Fraction | None) -> str:
    return "?" if x is None else f"{float(x):.4g}"


def balance_checker(quantity: str = "balance") -> Checker:
    """v_j^2 - ||w_j||^2 - b_j^2 -> 0 relative to ||theta||^2: ``max_j |c_j| / ||theta||^2`` is
    non-increasing over the recorded steps after the threshold (``quantity="sum"``, the mutation:
    ``||theta||^2``, "the sum v^2 + ||w||^2 + b^2 is conserved", refuted when it certifiably changes)."""

    def judge(run, bs: list) -> PerRun:
        from proofs.paper_b.bias import monotone_verdict

        if len(bs) < 2:
            return "inconclusive", f"{_run_name(run)}: fewer than two certified steps", None
        if quantity == "sum":
            a, b = bs[0], bs[-1]
            if b.norm2_lo > a.norm2_hi or b.norm2_hi < a.norm2_lo:
                return ("refuted", f"{_run_name(run)}: ||theta||^2 in [{float(a.norm2_lo):.6g}, "
                        f"{float(a.norm2_hi):.6g}] at step {a.t}, [{float(b.norm2_lo):.6g}, "
                        f"{float(b.norm2_hi):.6g}] at step {b.t}",
                        {"width": str(run.width), "init": str(run.seed), "t": str(b.t)})
            return "certified", f"{_run_name(run)}: overlapping enclosures", None
        vals = [(b.t, b.balance_lo, b.balance_hi) for b in bs]
        status, msg = monotone_verdict(vals, increasing=False)
        return (status, f"{_run_name(run)}: {msg}; max_j |c_j|/||theta||^2 <= {float(bs[-1].balance_hi):.3g} at step "
                f"{bs[-1].t}", None)

    def check(case: Case) -> Outcome:
        per_run, outside = _judge_admitted(_world(case), judge)
        what = "||theta||^2 conserved" if quantity == "sum" else "max_j |v_j^2 - ||w_j||^2 - b_j^2| / ||theta||^2 " \
            "non-increasing"
        return _combine(per_run, what, outside)

    return check


def generalization_checker(initial: bool = False) -> Checker:
    """Theorem 3.1: every trained network (runs reaching the threshold) misclassifies at most
    ``max_test_error * n_test`` fresh test points, each sign certified; the Clopper-Pearson bound is
    reported. ``initial`` (the mutation): the same of the untrained init."""

    def check(case: Case) -> Outcome:
        from proofs.paper_b.generalization import initial_test_error, run_test_error

        w = _world(case)
        limit = INIT_ERROR if initial else w.opts.max_test_error
        allowed = limit * w.test.n
        per_run, outside, rows = [], 0, []
        for run in w.runs():
            if run.reached is None:
                outside += 1
                continue
            err = initial_test_error(run, w.test) if initial else run_test_error(run, w.test)
            rows.append({"width": run.width, "init": run.seed, **err.to_dict()})
            text = (f"{_run_name(run)}: {err.errors_lo}..{err.errors_hi} errors of {err.n} "
                    f"(CP95 upper {float(err.cp_upper):.3g})")
            if err.errors_hi <= allowed:
                per_run.append(("certified", text, None))
            elif err.errors_lo > allowed:
                per_run.append(("refuted", text, {"width": str(run.width), "init": str(run.seed),
                                                  "errors": str(err.errors_lo)}))
            else:
                per_run.append(("inconclusive", text + " (undecided signs)", None))
        what = f"test error <= {limit} of {w.test.n} points" + (" at init" if initial else "")
        return _combine(per_run, what, outside, {"errors": rows})

    return check


def robust_checker(factor: Fraction | None = None) -> Checker:
    """Theorem 4.1: the width-k network w_j = mu_j, b_j = -d/2, v_j = y_j has exactly one active
    neuron and the right sign on every test point, and its certified radius lower bound is at least
    ``robust_c sqrt(d)`` on at least ``flip_fraction`` of them (``factor`` overrides robust_c: the
    mutation uses 1, refuted when certified attacks below sqrt(d) exist on too many points)."""

    def check(case: Case) -> Outcome:
        from proofs.paper_b.robust import check_robust, robust_radii

        w = _world(case)
        c = w.opts.robust_c if factor is None else factor
        rc = check_robust(w.model, w.test)
        radii = robust_radii(w.model, w.test)
        n, d = w.test.n, w.model.d
        need = -((-w.opts.flip_fraction * n) // 1)
        # r >= c sqrt(d)  <=>  r^2 >= c^2 d (exact)
        ok = sum(1 for r in radii if r.lower is not None and r.lower >= 0 and r.lower ** 2 >= c * c * d)
        beaten = sum(1 for r in radii if r.upper is not None and r.upper ** 2 < c * c * d)
        lo, hi = rc.margin_over_half_d()
        data = {"one_active": rc.n_one_active, "correct": rc.n_correct, "n": n, "margin_over_half_d": [str(lo),
                str(hi)], "radius_ok": ok, "attacks_below": beaten}
        text = (f"one active neuron on {rc.n_one_active}/{n}, correct on {rc.n_correct}/{n}, y N(x)/(d/2) in "
                f"[{float(lo):.3f}, {float(hi):.3f}]; certified radius >= {c} sqrt(d) on {ok}/{n}; attacks below "
                f"{c} sqrt(d) on {beaten}/{n}")
        if beaten > n - need:
            return Outcome(Status.REFUTED, text, None, {"attacks_below": str(beaten), "n": str(n)}, data)
        if rc.n_one_active == n and rc.n_correct == n and ok >= need:
            return Outcome(Status.CERTIFIED, text, None, None, data)
        return Outcome(Status.INCONCLUSIVE, text, None, None, data)

    return check


def universal_checker(c: Fraction | None = None) -> Checker:
    """Theorem 4.2 (transfer): ONE z = q u with ||z|| <= c sqrt(d/k) (``c = law_c``) flips sign
    N(x - y z) on at least ``flip_fraction`` of the test points for every trained network reaching
    the threshold (certified on the enclosures), while the robust network keeps (certified) more than
    ``flip_fraction`` of them. A smaller ``c`` is the mutation (refuted when some trained network
    keeps too many test points certified)."""

    def check(case: Case) -> Outcome:
        import math

        from proofs.paper_b.boxnet import IntervalFlips
        from proofs.paper_b.law import Q_BITS
        from proofs.paper_b.robust import robust_network
        from proofs.paper_b.universal import FlipOracle, u_norm_bracket

        w = _world(case)
        cc = w.opts.law_c if c is None else c
        un = u_norm_bracket(w.model)
        n = w.test.n
        need = -((-w.opts.flip_fraction * n) // 1)
        # q <= c sqrt(d/k) / ||u||: a dyadic below the float value, checked exactly via squares
        target = cc * cc * Fraction(w.model.d, w.model.k)
        qnum = int(math.sqrt(float(target)) / float(un[1]) * (1 << Q_BITS))
        while Fraction(qnum, 1 << Q_BITS) ** 2 * un[1] ** 2 > target:
            qnum -= 1
        q = Fraction(qnum, 1 << Q_BITS)
        per_run, outside = [], 0
        for run in w.runs():
            if run.reached is None:
                outside += 1
                continue
            flips, keeps = IntervalFlips(run.trajectory.final.params, w.model.u, w.test).counts(q)
            text = f"{_run_name(run)}: {flips} certified flips, {keeps} certified kept of {n}"
            if flips >= need:
                per_run.append(("certified", text, None))
            elif keeps > n - need:
                per_run.append(("refuted", text, {"width": str(run.width), "init": str(run.seed), "q": str(q),
                                                  "kept": str(keeps)}))
            else:
                per_run.append(("inconclusive", text, None))
        robust_flips = int(FlipOracle.build(robust_network(w.model), w.model, w.test).flips(qnum, Q_BITS).sum())
        data = {"q": str(q), "z_norm": [str(q * un[0]), str(q * un[1])], "robust_flips": robust_flips}
        out = _combine(per_run, f"one z of norm <= {cc} sqrt(d/k) flips >= {w.opts.flip_fraction} of the test points "
                       f"of every trained net; the robust net loses {robust_flips}/{n}", outside, data)
        if out.status is Status.CERTIFIED and robust_flips > n - need:
            return Outcome(Status.INCONCLUSIVE, out.detail + " (the robust network is flipped too)", None, None,
                           out.data)
        return out

    return check


def law_checker(mutated: bool = False) -> Checker:
    """The sqrt(d/k) law on the grid: at every grid point whose training reached the threshold, the
    eta90 bracket is certified and eta90 / sqrt(d/k) lies in [1/law_c, law_c] (certified on the
    bracket); the fitted slopes are reported (statistics, not certificates). ``mutated``: "eta90 of a
    trained network is at least the robust scale sqrt(d)/2 at every grid point" (refuted by a
    certified bracket below it)."""

    def check(case: Case) -> Outcome:
        w = _world(case)
        law = w.law()
        c = w.opts.law_c
        per_run, outside = [], 0
        for row in law["rows"]:
            tr = row.get("trained")
            if tr is None or not tr["found"]:
                outside += 1
                continue
            k, d = row["k"], row["d"]
            lo, hi = Fraction(tr["eta_lo"]), Fraction(tr["eta_hi"])
            text = (f"k={k}, d={d}: eta90 in [{float(lo):.4g}, {float(hi):.4g}], "
                    f"sqrt(d/k) = {row['sqrt_d_over_k']:.4g}")
            if mutated:  # eta90 >= sqrt(d)/2  <=>  eta90^2 >= d/4
                if hi * hi < Fraction(d, 4):
                    per_run.append(("refuted", text, {"k": str(k), "d": str(d), "eta_hi": str(hi)}))
                elif lo * lo >= Fraction(d, 4):
                    per_run.append(("certified", text, None))
                else:
                    per_run.append(("inconclusive", text, None))
                continue
            ratio2_lo, ratio2_hi = lo * lo * k / d, hi * hi * k / d
            if ratio2_lo >= 1 / (c * c) and ratio2_hi <= c * c:
                per_run.append(("certified", text, None))
            elif ratio2_hi < 1 / (c * c) or ratio2_lo > c * c:
                per_run.append(("refuted", text, {"k": str(k), "d": str(d)}))
            else:
                per_run.append(("inconclusive", text, None))
        fits = {"trained_fit": law["trained_fit"], "robust_fit": law["robust_fit"], "misses": law["misses"]}
        what = "eta90 >= sqrt(d)/2 on the grid" if mutated else f"eta90 / sqrt(d/k) in [1/{c}, {c}] on the grid"
        return _combine(per_run, what, outside, fits)

    return check
