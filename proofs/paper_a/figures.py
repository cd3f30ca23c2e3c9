"""Paper A's figures (1: the limit network, 2: phase transitions, 3: the numerator's lower bound,
and the rate plot), computed from certified GD runs, and the report section they feed.

* :func:`convergence_sweep` runs many inits per scheme through one sweep (the float64 batch
  backend on every core, lanes it cannot certify escalated to Arb) and keeps, per init, the
  certified phase path, whether ``L < 1/2`` is certified at the end, and the Figure-3 quantity
  ``min{|b2 - b1|, |w1(0) + w2(0)|/2}`` (enclosure midpoint; a plot value).
* :func:`sweep_summary` gives counts, a 95% Wilson interval, exact binomial tests of our count and
  of the paper's 2,368/10,000 against the convergence probability *derived* in
  :mod:`proofs.paper_a.derivations` (1/4 for every scheme here), and a Kolmogorov-Smirnov p-value
  against the density ``f_B`` derived there (zero-bias Gaussian schemes only; PyTorch's uniform
  biases are outside its hypotheses).
Every number stored is deterministic for a given seed: no wall times.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from verify.dynamics.sweep import Lane
from verify.dynamics.trajectory import Trajectory
from verify.papers import Figure, PaperRun, RunContext, Section
from verify.report.render import FIGURES_NOT_DRAWN
from verify.settings import CheckSettings

FIG3_SCHEMES = ("he", "xavier", "pytorch")
SIGMA2 = {"he": Fraction(2), "xavier": Fraction(2, 3)}  # fan_in = 1, fan_out = 2
PAPER_CONVERGED, PAPER_TOTAL = 2368, 10_000


def plot_float(q: Any) -> float:
    """``q`` (a Fraction or a float-convertible number) as a float for plotting: +-inf past the float
    range (``float(Fraction)`` raises there), so :func:`_finite` drops it instead of the figure crashing."""
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def convergence_row(index: int, run: Trajectory, lane: Lane) -> dict[str, Any]:
    """One init of the Figure-3 sweep: its certified phase path, whether ``L < 1/2`` is certified at
    the end, and ``min{|b2 - b1|, |w1(0) + w2(0)|/2}`` (a plot value, from the enclosure's centre)."""
    row: dict[str, Any] = {"index": index, "status": run.status, "path": [p for _, p in run.phases],
                           "engine": lane.engine, "escalated": lane.escalated}
    if run.certified:
        be, final, theta0 = run.backend, run.final, run.theta0
        row["converged"] = be.upper(final.loss) < Fraction(1, 2)
        th = run.enclosures(final)
        num = abs(plot_float((th["b2"] - th["b1"]).mid))
        limit = abs(float(theta0[0] + theta0[2])) / 2
        row["fig3"] = min(num, limit)
        row["limit"] = limit
    return row


def convergence_sweep(settings: CheckSettings, scheme: str, count: int, workers: int | None = None,
                      progress: Callable[[int], None] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Certified GD on inits ``0 .. count-1`` of ``scheme`` (one sweep, see
    :mod:`verify.dynamics.sweep`): the rows in index order, and which engines certified them."""
    from verify.dynamics.schedule import RecordSchedule
    from verify.dynamics.sweep import sweep
    from verify.init.schemes import sample_inits

    inits = sample_inits(settings.problem().network, scheme, settings.seed, count)
    result = sweep(settings.sweep_spec(RecordSchedule(per_decade=0)), inits, convergence_row, workers=workers,
                   progress=progress)
    return result.values, result.summary()


def sweep_summary(scheme: str, rows: list[dict[str, Any]], engines: dict[str, Any] | None = None) -> dict[str, Any]:
    """Convergence count with a 95% Wilson interval; KS p-value of the Figure-3 quantity vs f_B."""
    from scipy import integrate, stats

    n = len(rows)
    converged = [r for r in rows if r.get("converged")]
    k = len(converged)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson") if n else None
    edges = Counter()
    for r in rows:
        for a, b in zip(r["path"], r["path"][1:], strict=False):
            edges[f"{a}->{b}"] += 1
    from proofs.paper_a.derivations import convergence_probability

    p = convergence_probability(scheme)
    p_float = float(p)
    summary: dict[str, Any] = {
        "scheme": scheme, "inits": n, "converged": k,
        "inconclusive": sum(r["status"] != "complete" for r in rows),
        "wilson95": [round(float(ci.low), 6), round(float(ci.high), 6)] if ci else None,
        "paper": {"converged": PAPER_CONVERGED, "inits": PAPER_TOTAL},
        "paper_inside_wilson95": bool(ci and ci.low <= PAPER_CONVERGED / PAPER_TOTAL <= ci.high),
        "derived_probability": str(p),
        "binomial_pvalue_ours_vs_derived": round(float(stats.binomtest(k, n, p_float).pvalue), 6) if n else None,
        "binomial_pvalue_paper_vs_derived": round(float(stats.binomtest(PAPER_CONVERGED, PAPER_TOTAL,
                                                                         p_float).pvalue), 6),
        "edges": dict(sorted(edges.items())),
        "starts": dict(sorted(Counter(r["path"][0] for r in rows if r["path"]).items())),
        "ends": dict(sorted(Counter(r["path"][-1] for r in rows if r["path"]).items())),
        "engines": engines,
    }
    if scheme in SIGMA2 and k >= 5:
        from proofs.paper_a.derivations import fb_callable

        f = fb_callable(SIGMA2[scheme])

        def cdf(x):
            import numpy as np

            return np.array([integrate.quad(f, 0, xi)[0] for xi in np.atleast_1d(x)])

        ks = stats.kstest([r["fig3"] for r in converged], cdf)
        summary["ks_statistic"] = round(float(ks.statistic), 6)
        summary["ks_pvalue"] = round(float(ks.pvalue), 6)
    return summary


def figure3(sweeps: dict[str, list[dict[str, Any]]], summaries: dict[str, dict[str, Any]]):
    """Histogram per scheme of min{|b2 - b1|, |w1(0)+w2(0)|/2} over converged runs, with f_B scaled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from proofs.paper_a.derivations import fb_callable

    fig, axes = plt.subplots(1, len(sweeps), figsize=(4.2 * len(sweeps), 3.4), squeeze=False)
    for ax, (scheme, rows) in zip(axes[0], sweeps.items(), strict=True):
        s = summaries[scheme]
        values = np.array([v for r in rows if r.get("converged") and math.isfinite(v := r["fig3"])])
        if len(values):
            counts, bins, _ = ax.hist(values, bins=40, color="#8ab", label="certified runs")
            if scheme in SIGMA2:
                xs = np.linspace(0, bins[-1], 300)
                ax.plot(xs, f_scaled := fb_callable(SIGMA2[scheme])(xs) * len(values) * (bins[1] - bins[0]),
                        color="red", label=r"$f_B$ (scaled)")
                del f_scaled
            ax.legend(fontsize=7, loc="center right")
        else:
            ax.text(0.5, 0.5, "no certified converged run with a finite value: no histogram", ha="center",
                    va="center", fontsize=8, transform=ax.transAxes)
        lo, hi = s["wilson95"] or (0, 0)
        text = f"converged {s['converged']}/{s['inits']}\n95% Wilson [{lo:.4f}, {hi:.4f}]\npaper 2368/10000"
        if "ks_pvalue" in s:
            text += f"\nKS p = {s['ks_pvalue']:.3g}"
        ax.text(0.97, 0.97, text, transform=ax.transAxes, ha="right", va="top", fontsize=7)
        ax.set_title(f"Figure 3 — {scheme}", fontsize=9)
        ax.set_xlabel(r"min{|b2 - b1|, |w1(0)+w2(0)|/2}", fontsize=8)
    fig.tight_layout()
    return fig


def figure2(summaries: dict[str, dict[str, Any]]):
    """Figure 2 as the directed graph of activation patterns: every pattern a certified run visited
    (rows by the number of active bits, 1111 on top, F = 1001 at the bottom), every observed
    transition as an arrow labelled with its count over all sweeps (green: an edge of the graph
    derived in :mod:`proofs.paper_a.derivations`; red: not derivable, which would be a bug), and
    how many runs start and end in each pattern."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    from proofs.paper_a.derivations import absorbing_patterns, transition_graph

    graph = transition_graph()
    edges: Counter = Counter()
    starts: Counter = Counter()
    ends: Counter = Counter()
    for s in summaries.values():
        edges.update(s["edges"])
        starts.update(s.get("starts", {}))
        ends.update(s.get("ends", {}))
    nodes = sorted({p for e in edges for p in e.split("->")} | set(starts) | set(ends),
                   key=lambda p: (-p.count("1"), p))
    rows: dict[int, list[str]] = {}
    for p in nodes:
        rows.setdefault(p.count("1"), []).append(p)
    pos = {p: ((k + 1) / (len(row) + 1), ones) for ones, row in rows.items() for k, p in enumerate(row)}
    fig, ax = plt.subplots(figsize=(11, 1.6 + 1.5 * max(len(rows), 1)))
    bad = 0
    for edge, count in sorted(edges.items()):
        a, b = edge.split("->")
        allowed = b in graph[a]
        bad += not allowed
        (x0, y0), (x1, y1) = pos[a], pos[b]
        same_row = y0 == y1
        arrow = FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=14, shrinkA=22, shrinkB=22,
                                connectionstyle="arc3,rad=0.35" if same_row else "arc3,rad=0.08",
                                color="#2a2" if allowed else "#d22", lw=0.8 + 2.2 * min(count, 10_000) / 10_000)
        ax.add_patch(arrow)
        ax.text((x0 + x1) / 2 + (0.02 if not same_row else 0), (y0 + y1) / 2 + (0.25 if same_row else 0),
                str(count), fontsize=8, ha="center", va="center",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    for p, (x, y) in pos.items():
        final = p == "1001"
        ax.text(x, y, p, ha="center", va="center", fontsize=10, family="monospace",
                bbox={"boxstyle": "round", "fc": "#cde" if not final else "#9c9", "ec": "#333"})
        ax.text(x, y - 0.33, f"start {starts.get(p, 0)} / end {ends.get(p, 0)}", ha="center", fontsize=7,
                color="#555")
    ys = [y for _, y in pos.values()] or [0]
    ax.set_xlim(0, 1)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.5)
    ax.axis("off")
    n_edges = sum(len(v - {k}) for k, v in graph.items())
    ax.set_title(f"Figure 2: certified activation-pattern transitions over all sweeps (arrow label: runs)\n"
                 f"derived graph: {n_edges} allowed edges, absorbing {', '.join(absorbing_patterns())}; observed "
                 f"edges outside it: {bad} (green: derived edge, red: not derivable)", fontsize=9)
    fig.tight_layout()
    return fig


class FigureNotDrawn(Exception):
    """The data cannot draw this figure (no finite values, only divergent runs, nothing positive to put
    on a log axis); the message is the reason the report gives in place of the figure."""


def _finite(*columns: list[float]) -> list[tuple[float, ...]]:
    """The rows of ``columns`` whose every entry is a finite float (plot values only)."""
    return [row for row in zip(*columns, strict=True) if all(math.isfinite(v) for v in row)]


def rate_figure(settings: CheckSettings, steps: int = 100_000):
    """(gamma* - gamma) ln t and x* ln t on a log axis: certified enclosures up to ``steps``, then
    the closed-form certificate band (proofs.paper_a.certificate) up to 10^12. A run that GD does not
    complete (certified divergent, or inconclusive) is drawn up to its last certified step (a divergent
    one without a band); :class:`FigureNotDrawn` when no run has a finite point after step 0 to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from proofs.paper_a.certificate import NotInF, certificate
    from proofs.paper_a.geometry import boundary, robustness_margin
    from verify.dynamics.gd import run_gd
    from verify.dynamics.schedule import RecordSchedule
    from verify.errors import UndecidableError
    from verify.init.schemes import sample_inits

    problem = settings.problem()
    inits = sample_inits(problem.network, "he", settings.seed, 64)
    in_f = [k for k, th in enumerate(inits) if th[0] > 0 > th[2]]
    if not in_f:
        raise FigureNotDrawn("none of the seed's first 64 He inits starts in F")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    drawn, skipped = 0, []
    for index in in_f[:2]:  # the seed's first two He inits that start (hence stay) in F
        theta0 = inits[index]
        run = run_gd(problem, theta0, steps, prec=settings.prec, schedule=RecordSchedule(per_decade=12))
        label = f"He init #{index}"
        ts, deficit, xstar = [], [], []
        for rec in run.records[1:]:
            th = run.enclosures(rec)
            gamma = robustness_margin(problem, list(th.values()))
            ts.append(float(rec.t))
            deficit.append(plot_float((1 - gamma).mid) * math.log(rec.t))
            xstar.append(plot_float(boundary(th).mid) * math.log(rec.t))
        points = _finite(ts, deficit, xstar)
        how = ""
        if not run.certified:
            how = f"GD {run.status}" + (f" at step {run.failed_step}" if run.failed_step is not None else "")
        if not points:
            skipped.append(f"{label}: {how + ', ' if how else ''}no finite certified point after step 0")
            continue
        if how:
            label += f" ({how}; drawn to its last certified step{', no band' if run.diverged else ''})"
        drawn += 1
        t_pts, d_pts, x_pts = zip(*points, strict=True)
        (line,) = axes[0].plot(t_pts, d_pts, label=f"{label} (iterated enclosures)")
        axes[1].plot(t_pts, x_pts, label=label)
        axes[0].axhline(float(abs(theta0[0] + theta0[2])) / 2, ls=":", color="grey")
        if run.diverged:  # certified divergent: no band of an F-state that GD leaves
            continue
        far = [round(10 ** (k / 2)) for k in range(2 * int(math.log10(steps)) + 1, 25)]
        try:
            cert = certificate(run)
            band = _finite([float(t) for t in far], [plot_float(cert.deficit(t).lower) * math.log(t) for t in far],
                           [plot_float(cert.deficit(t).upper) * math.log(t) for t in far])
        except (NotInF, UndecidableError):  # e.g. eta = 1e6: the band's constants are beyond enclosure; no band
            band = []
        if band:
            far_t, lo, hi = zip(*band, strict=True)
            axes[0].fill_between(far_t, lo, hi, alpha=0.3)
            axes[0].plot(far_t, hi, "o", ms=3, color=line.get_color(),
                         label=f"{label} closed-form certificate (band thinner than the markers)")
    if not drawn:
        plt.close(fig)
        raise FigureNotDrawn("; ".join(skipped))
    axes[0].set_title(r"$(\gamma^\star - \gamma(\theta_t)) \ln t$ (dotted: $|w_1(0)+w_2(0)|/2$)", fontsize=9)
    axes[1].set_title(r"$x^\star(t) \ln t$; the margin drops from 1 at t = 0, then recovers like $1/\ln t$",
                      fontsize=9)
    for ax in axes:
        ax.set_xscale("log")  # every drawn t is >= 1
        ax.set_xlabel("t")
        ax.legend(fontsize=7)
    if skipped:
        fig.text(0.5, 0.01, "not drawn: " + "; ".join(skipped), ha="center", fontsize=7)
    fig.tight_layout()
    return fig


def figure_limit_network() -> Any:
    """Figure 1: Phi(theta*; x) for theta* = (1/2, 1/2, -1/2, 1/2), the two points, the boundary."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from proofs.paper_a.geometry import THETA_STAR, robustness_margin
    from proofs.paper_a.problem import paper_a_problem
    from verify.arith import Enclosure, get_backend

    be = get_backend("arb", 128)
    gamma = robustness_margin(paper_a_problem(), [Enclosure.of(be, v) for v in THETA_STAR])
    x = np.linspace(-2, 2, 401)
    phi = np.maximum(0.5 * x + 0.5, 0) - np.maximum(-0.5 * x + 0.5, 0)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(x, phi, color="black", label=r"$\Phi(\theta^\star; x)$")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="purple", ls="--", label="decision boundary x = 0")
    ax.scatter([1], [0], color="red", zorder=3, s=50, label="(x1, y1) = (1, +1)")
    ax.scatter([-1], [0], color="blue", zorder=3, s=50, label="(x2, y2) = (-1, -1)")
    ax.annotate("", xy=(1, -0.35), xytext=(0, -0.35), arrowprops={"arrowstyle": "<->"})
    ax.text(0.5, -0.5, f"gamma* = [{gamma.lower}, {gamma.upper}] (certified)", ha="center", fontsize=8)
    ax.set_xlabel("x")
    ax.set_title(r"Figure 1: the limiting network, $\theta^\star = (0.5, 0.5, -0.5, 0.5)$")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def _add_figure(out: PaperRun, title: str, stem: str, draw: Callable[[], Any]) -> None:
    """Append the figure ``draw()`` makes to ``out``, or, when the data cannot draw it, the reason
    under ``paper_data["figures_not_drawn"]`` (the report prints "figure <title> not drawn: <reason>")."""
    try:
        out.figures.append(Figure(title, stem, draw()))
    except FigureNotDrawn as e:
        out.data.setdefault(FIGURES_NOT_DRAWN, []).append({"title": title, "reason": str(e)})


def run_figures(settings: CheckSettings, ctx: RunContext) -> PaperRun:
    """Figures 1-3 and the rate plot for ``verify run``, with the Figure-3 sweep summaries as data."""
    import time

    opts = settings.options
    out = PaperRun(figures=[Figure("Figure 1: the limiting network", "figure1", figure_limit_network())])
    summaries: dict[str, Any] = {}
    if opts.fig3_inits:
        t0 = time.perf_counter()
        sweeps = {}
        for scheme in FIG3_SCHEMES:
            sweeps[scheme], engines = convergence_sweep(settings, scheme, opts.fig3_inits, ctx.workers,
                                                        progress=ctx.bar(f"Figure 3 ({scheme})", opts.fig3_inits))
            summaries[scheme] = sweep_summary(scheme, sweeps[scheme], engines)
        _add_figure(out, "Figure 2: phase transitions", "figure2", lambda: figure2(summaries))
        _add_figure(out, "Figure 3: numerator lower bound vs f_B", "figure3", lambda: figure3(sweeps, summaries))
        out.timings["figure3_seconds"] = time.perf_counter() - t0
    if opts.rate_steps:
        t0 = time.perf_counter()
        _add_figure(out, "Rate: margin deficit x ln t", "rate", lambda: rate_figure(settings, opts.rate_steps))
        out.timings["rate_seconds"] = time.perf_counter() - t0
    out.data["figure3"] = {"inits_per_scheme": opts.fig3_inits, "schemes": summaries}
    return out



def _fig3_items(data: dict[str, Any]) -> list[str]:
    items = []
    for scheme, s in data.get("figure3", {}).get("schemes", {}).items():
        lo, hi = s["wilson95"] or (None, None)
        ks = f"; KS p-value vs f_B = {s['ks_pvalue']}" if "ks_pvalue" in s else " (f_B assumes zero-bias Gaussian)"
        items.append(
            f"{scheme}: {s['converged']}/{s['inits']} converged (certified L < 1/2), 95% Wilson [{lo}, {hi}]; "
            f"derived convergence probability {s['derived_probability']} (exact binomial test of our count: "
            f"p = {s['binomial_pvalue_ours_vs_derived']}; of the paper's 2368/10000: "
            f"p = {s['binomial_pvalue_paper_vs_derived']}){ks}; {s['inconclusive']} runs inconclusive")
    return items


def figure3_section(data: dict[str, Any]) -> Section | None:
    """Figure 3's convergence counts against the derived probability and the paper's count."""
    import html

    items = _fig3_items(data)
    if not items:
        return None
    return Section("Figure 3: convergence", "\n".join(f"- {i}" for i in items),
                   "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")


def findings(data: dict[str, Any]) -> list[str]:
    """The summary's sentence on Figure 3: the paper's 2,368/10,000 against the derived probability."""
    schemes = data.get("figure3", {}).get("schemes", {})
    if not schemes:
        return []
    s = next(iter(schemes.values()))
    ours = ", ".join(f"{name} {v['converged']}/{v['inits']}" for name, v in schemes.items())
    return [f"Figure 3: the paper reports 2368/10000 converged runs; the derived convergence probability is "
            f"{s['derived_probability']} (exact binomial test p = {s['binomial_pvalue_paper_vs_derived']}); "
            f"our certified runs: {ours}."]
