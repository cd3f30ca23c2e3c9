"""The ``verify`` command line: list, check, run, report, trajectory.

Every command validates its input through :class:`~verify.checks.settings.CheckSettings`;
a bad value prints one line ``error: field=value must ...`` and exits with status 2,
leaving no partial output. ``check`` and ``run`` exit with status 1 when a true claim is
refuted or a mutation (a deliberately false claim) is not refuted.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer
from tqdm import tqdm

from verify.checks.result import ClaimResult, Status
from verify.checks.settings import CheckSettings
from verify.errors import InvalidArgument, VerifyError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Certified GD and claim checking for ML-theory papers (paper A by default).")

Opt = typer.Option
InitsOpt = Annotated[int | None, Opt(help="number of initialisations")]
SchemeOpt = Annotated[str | None, Opt(help="he | xavier | pytorch | normal")]
SeedOpt = Annotated[int | None, Opt(help="seed of the init sampler")]
EtaOpt = Annotated[str | None, Opt(help="step size, exact (e.g. 0.1 or 1/10)")]
StepsOpt = Annotated[int | None, Opt(help="GD steps per init")]
PrecOpt = Annotated[int | None, Opt(help="working precision in bits")]
BackendOpt = Annotated[str | None, Opt(help="batch (float64 lanes, escalated to arb) | arb | mpmath")]
WorkersOpt = Annotated[int | None, Opt(help="worker processes (default: every core)")]
ConfigOpt = Annotated[Path | None, Opt(help="TOML file of settings (keys of CheckSettings)")]
QuietOpt = Annotated[bool, Opt("--quiet", "-q", help="no progress bars")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _settings(config: Path | None, **overrides: Any) -> CheckSettings:
    values: dict[str, Any] = {}
    if config is not None:
        try:
            values = tomllib.loads(config.read_text())
        except FileNotFoundError:
            raise InvalidArgument("config", str(config), "does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise InvalidArgument("config", str(config), f"is not valid TOML ({exc})") from None
        values = values.get("settings", values)
    return CheckSettings.from_mapping(values).with_(**overrides)


def _paper():
    from proofs import PAPERS

    return PAPERS["paper_a"]


def _workers(workers: int | None) -> int:
    from verify.dynamics.sweep import default_workers

    if workers is None:
        return default_workers()
    if workers < 1:
        raise InvalidArgument("workers", workers, "must be >= 1")
    return workers


def _check(claims: list, settings: CheckSettings, quiet: bool, label: str, workers: int) -> list[ClaimResult]:
    """All claims over the settings' inits, one shared GD run per init, in ``workers`` processes."""
    from proofs import find_claim
    from verify.checks.runner import check_claims

    with tqdm(total=settings.inits, desc=f"{label} ({settings.scheme})", disable=quiet, leave=False) as bar:
        return check_claims(claims, settings, progress=lambda k: bar.update(k - bar.n), lookup=find_claim,
                            workers=workers)


MUTATION_SCHEMES = ("he", "pytorch", "normal")


def _mutation_guard(mutations: list, settings: CheckSettings, quiet: bool, workers: int) -> list[ClaimResult]:
    """Check each mutation on the configured scheme; one that scheme cannot exercise (nothing
    admitted or not refuted) is tried on the other schemes before it is reported unrefuted."""
    results = {r.claim_id: r for r in _check(mutations, settings, quiet, "mutations", workers)}
    for scheme in MUTATION_SCHEMES:
        pending = [m for m in mutations if results[m.id].verdict is not Status.REFUTED]
        if not pending or scheme == settings.scheme:
            continue
        for r in _check(pending, settings.with_(scheme=scheme), quiet, "mutations", workers):
            if r.verdict is Status.REFUTED:
                results[r.claim_id] = r
    return [results[m.id] for m in mutations]


def _bad(claims: list[ClaimResult], mutations: list[ClaimResult]) -> list[str]:
    problems = [f"claim {r.claim_id} is REFUTED" for r in claims if r.verdict is Status.REFUTED]
    problems += [f"mutation {r.claim_id} was NOT refuted" for r in mutations if r.verdict is not Status.REFUTED]
    return problems


def _engines_line(engines: dict[str, Any]) -> str:
    """E.g. ``batch-f64 993, arb 7 (escalated: 5 undecided sign, 2 inconclusive claim)``."""
    line = ", ".join(f"{name} {count}" for name, count in engines["engines"].items())
    if engines["escalated"]:
        line += " (escalated: " + "; ".join(f"{c} {why}" for why, c in engines["escalation_reasons"].items()) + ")"
    return line


def _summary_line(r: ClaimResult) -> str:
    c = r.counts
    return (f"{r.claim_id:<36} {r.verdict.value:<12} certified {c['certified']:>5}  refuted {c['refuted']:>5}  "
            f"inconclusive {c['inconclusive']:>5}  not-admitted {c['not-admitted']:>5}")


def _print_counterexample(r: ClaimResult) -> None:
    cx = r.counterexample
    if cx is not None:
        typer.echo(f"    counterexample: init #{cx.index} theta0 = ({', '.join(cx.theta0)})")
        typer.echo(f"      {cx.outcome.detail}")
        for key, value in (cx.outcome.counterexample or {}).items():
            typer.echo(f"      {key} = {value}")


@app.command("list")
def list_claims() -> None:
    """List paper A's claims and mutations with their source and hypotheses."""
    paper = _paper()
    for title, claims in (("claims", paper.CLAIMS), ("mutations (must be refuted)", paper.MUTATIONS)):
        typer.echo(f"# {title}")
        for claim in claims.values():
            typer.echo(f"{claim.id}  [{claim.source}]")
            typer.echo(f"    {claim.title}")
            for h in claim.hypotheses:
                typer.echo(f"    hypothesis: {h}")


@app.command()
def check(claim: Annotated[str, typer.Argument(help="claim or mutation id (see `verify list`)")],
          inits: InitsOpt = None, scheme: SchemeOpt = None, seed: SeedOpt = None, eta: EtaOpt = None,
          steps: StepsOpt = None, prec: PrecOpt = None, backend: BackendOpt = None, config: ConfigOpt = None,
          workers: WorkersOpt = None, quiet: QuietOpt = False) -> None:
    """Check one claim over many inits; print status counts and the smallest counterexample."""
    try:
        settings = _settings(config, inits=inits, scheme=scheme, seed=seed, eta=eta, steps=steps, prec=prec,
                             backend=backend)
        workers = _workers(workers)
        paper = _paper()
        registry = {**paper.CLAIMS, **paper.MUTATIONS}
        if claim not in registry:
            raise InvalidArgument("claim", claim, f"is not a known claim; see `verify list` ({len(registry)} known)")
        t0 = time.perf_counter()
        r = _check([registry[claim]], settings, quiet, "checking", workers)[0]
        wall = time.perf_counter() - t0
    except VerifyError as exc:
        _fail(str(exc))
    typer.echo(_summary_line(r) + f"  ({wall:.1f} s, scheme {settings.scheme}, {settings.inits} inits)")
    if r.engines:
        typer.echo(f"    engines: {_engines_line(r.engines)}")
    _print_counterexample(r)
    for o in r.outcomes:
        if o.outcome.status is Status.INCONCLUSIVE:
            typer.echo(f"    inconclusive example: init #{o.index}: {o.outcome.detail}")
            break
    is_mutation = claim in paper.MUTATIONS
    failed = (r.verdict is not Status.REFUTED) if is_mutation else (r.verdict is Status.REFUTED)
    raise typer.Exit(1 if failed else 0)


def _provenance(settings: CheckSettings, wall: float | None = None) -> dict[str, Any]:
    versions = {}
    for pkg in ("verify-mlt", "python-flint", "mpmath", "sympy", "numpy", "numba", "scipy", "matplotlib", "hypothesis"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"versions": versions, "python": sys.version.split()[0], "command": " ".join(["verify", *sys.argv[1:]]),
            "settings_digest": settings.digest(), "seed": settings.seed}


@app.command()
def run(out: Annotated[Path, Opt(help="report root; the report goes to OUT/paper_a")] = Path("reports"),
        inits: InitsOpt = None, scheme: SchemeOpt = None, seed: SeedOpt = None, eta: EtaOpt = None,
        steps: StepsOpt = None, prec: PrecOpt = None, backend: BackendOpt = None, config: ConfigOpt = None,
        quiet: QuietOpt = False,
        fig3_inits: Annotated[int, Opt(help="GD inits per scheme for Figures 2-3 (0 skips them)")] = 10_000,
        rate_steps: Annotated[int, Opt(help="GD steps of the rate plot (0 skips it)")] = 100_000,
        workers: WorkersOpt = None) -> None:
    """The main job: every claim of paper A and every mutation, Figures 1-3 and the rate plot,
    then the report in OUT/paper_a."""
    from verify.report import paper_a_figures as pf
    from verify.report.basic import results_document, write_report

    t0 = time.perf_counter()
    try:
        settings = _settings(config, inits=inits, scheme=scheme, seed=seed, eta=eta, steps=steps, prec=prec,
                             backend=backend)
        workers = _workers(workers)
        for name, value in (("fig3-inits", fig3_inits), ("rate-steps", rate_steps)):
            if value < 0:
                raise InvalidArgument(name, value, "must be >= 0")
        paper = _paper()
        claims = _check(list(paper.CLAIMS.values()), settings, quiet, "claims", workers)
        t_claims = time.perf_counter() - t0
        mutations = _mutation_guard(list(paper.MUTATIONS.values()), settings, quiet, workers)
    except VerifyError as exc:
        _fail(str(exc))
    t_mut = time.perf_counter() - t0 - t_claims
    extra_figures, summaries = [], {}
    if fig3_inits:
        sweeps = {}
        for scheme in ("he", "xavier", "pytorch"):
            if not quiet:
                typer.echo(f"Figure 3 sweep: {fig3_inits} {scheme} inits, {settings.steps} steps ...", err=True)
            with tqdm(total=fig3_inits, desc=f"Figure 3 ({scheme})", disable=quiet, leave=False) as bar:
                sweeps[scheme], engines = pf.convergence_sweep(settings, scheme, fig3_inits, workers,
                                                               progress=lambda k: bar.update(k - bar.n))
            summaries[scheme] = pf.sweep_summary(scheme, sweeps[scheme], engines)
        extra_figures += [("Figure 2: phase transitions", "figure2", pf.figure2(summaries)),
                          ("Figure 3: numerator lower bound vs f_B", "figure3", pf.figure3(sweeps, summaries))]
    if rate_steps:
        extra_figures.append(("Rate: margin deficit x ln t", "rate", pf.rate_figure(settings, rate_steps)))
    doc = results_document("paper_a", settings.to_dict(), settings.digest(), claims, mutations)
    doc["figure3"] = {"inits_per_scheme": fig3_inits, "schemes": summaries}
    timings = {"claims_seconds": t_claims, "mutations_seconds": t_mut,
               "figures_seconds": time.perf_counter() - t0 - t_claims - t_mut,
               "total_seconds": time.perf_counter() - t0}
    provenance = _provenance(settings)
    target = out / "paper_a"
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".paper_a-", dir=out))
    try:
        write_report(staging, doc, timings, provenance, extra_figures)
        (staging / "provenance.json").write_text(json.dumps(provenance, indent=1, sort_keys=True) + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not quiet:
        for r in claims + mutations:
            typer.echo(_summary_line(r))
        typer.echo(f"report: {target / 'index.html'}  ({timings['total_seconds']:.0f} s)")
    problems = _bad(claims, mutations)
    for p in problems:
        typer.echo(f"FAIL: {p}", err=True)
        for r in claims:
            if r.verdict is Status.REFUTED:
                _print_counterexample(r)
    raise typer.Exit(1 if problems else 0)


@app.command()
def report(source: Annotated[Path, typer.Argument(help="folder holding results.json")] = Path("reports/paper_a")
           ) -> None:
    """Render the report again from stored results.json (and timings/provenance)."""
    from verify.report.basic import write_report

    try:
        doc = json.loads((source / "results.json").read_text())
    except FileNotFoundError:
        _fail(f"results={str(source / 'results.json')!r} does not exist; run `verify run` first")
    except json.JSONDecodeError as exc:
        _fail(f"results={str(source / 'results.json')!r} is not valid JSON ({exc})")
    timings = json.loads((source / "timings.json").read_text()) if (source / "timings.json").exists() \
        else {"claims": {}}
    provenance = json.loads((source / "provenance.json").read_text()) \
        if (source / "provenance.json").exists() else {}
    write_report(source, doc, timings, provenance)
    typer.echo(f"report: {source / 'index.html'}")


@app.command()
def trajectory(init: Annotated[str | None, Opt(help="exact w1,b1,w2,b2 (e.g. 0.7,0,-0.4,0)")] = None,
               scheme: SchemeOpt = "he", seed: SeedOpt = 0, index: Annotated[int, Opt(help="init index")] = 0,
               eta: EtaOpt = "0.1", steps: Annotated[int, Opt(help="GD steps")] = 10_000,
               prec: Annotated[int, Opt(help="bits")] = 128, backend: BackendOpt = "arb",
               plot: Annotated[Path | None, Opt(help="write a PNG of loss, margin and parameters here")] = None
               ) -> None:
    """One init: its certified phases, enclosures at log-spaced steps, loss and margin (and a plot)."""
    from verify.arith import Enclosure
    from verify.dynamics.schedule import RecordSchedule
    from verify.dynamics.sweep import certified_run
    from verify.geometry.paper_a import robustness_margin
    from verify.init.schemes import sample_init

    try:
        settings = CheckSettings(scheme=scheme, seed=seed, eta=eta, steps=steps, prec=prec, backend=backend)
        problem = settings.problem()
        theta0 = problem.network.check_params(init.split(","), "init") if init else \
            sample_init(problem.network, scheme, seed, index)
        lane, traj = certified_run(settings.sweep_spec(RecordSchedule(per_decade=20 if plot else 1)), theta0)
    except VerifyError as exc:
        _fail(str(exc))
    typer.echo(f"theta0 = ({', '.join(str(q) for q in theta0)}), eta = {settings.eta}")
    typer.echo(f"engine: {lane.engine}" + (f" (escalated: {lane.escalated})" if lane.escalated else ""))
    typer.echo(f"status: {traj.status} at {traj.prec} bits" + (f" — {traj.reason}" if traj.reason else ""))
    typer.echo("phases: " + " -> ".join(f"{p}@{t}" for t, p in traj.phases))
    series: dict[str, list[float]] = {"t": [], "loss": [], "margin": []}
    for rec in traj.records:
        th = traj.enclosures(rec)
        try:
            gamma = robustness_margin(problem, [Enclosure(traj.backend, v) for v in rec.theta])
            g = f"[{float(gamma.lower):.12g}, {float(gamma.upper):.12g}]"
        except VerifyError:
            gamma, g = None, "undecided"
        series["t"].append(rec.t)
        series["loss"].append(float(traj.loss(rec)))
        series["margin"].append(float(gamma) if gamma is not None else float("nan"))
        for k, v in th.items():
            series.setdefault(k, []).append(float(v))
        if plot and rec.t not in {r.t for r in traj.records[:: max(len(traj.records) // 12, 1)]}:
            continue
        params = "  ".join(f"{k}={float(v.mid):+.12f}" for k, v in th.items())
        typer.echo(f"t={rec.t:>8}  {rec.pattern}  {params}  L≈{float(traj.loss(rec)):.6g}  gamma∈{g}  "
                   f"width≤{float(traj.max_width(rec)):.2g}")
    if plot:
        _plot_trajectory(series, traj.phases, plot)
        typer.echo(f"plot: {plot}")


def _plot_trajectory(series: dict[str, list[float]], phases: list[tuple[int, str]], path: Path) -> None:
    """Loss, margin and parameters against t (log axis), phase changes marked (plot values only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [max(x, 1) for x in series["t"]]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    axes[0].plot(t, series["loss"])
    axes[0].set_yscale("log")
    axes[0].set_title("loss L(theta_t)")
    axes[1].plot(t, series["margin"])
    axes[1].set_title("robustness margin gamma(theta_t) (gamma* = 1)")
    for name, values in series.items():
        if name not in {"t", "loss", "margin"}:
            axes[2].plot(t, values, label=name)
    axes[2].legend(fontsize=7)
    axes[2].set_title("parameters")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("t")
        for start, _ in phases[1:]:
            ax.axvline(max(start, 1), color="grey", ls=":", lw=0.8)
    fig.suptitle("phases: " + " -> ".join(f"{p}@{s}" for s, p in phases), fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
