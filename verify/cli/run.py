"""``verify run``: the main job. Every claim and mutation of each chosen paper, the paper's own
figures, and the report in ``OUT/paper_<id>/``, written atomically.

The claims' and mutations' sweeps run like ``verify check``'s (:mod:`verify.cli.check`: pool or
dask, chunks stored as they finish, resumed automatically when the settings and code match), and
keep every outcome (``results.json`` lists them; it is byte-identical whatever the executor, the
workers or what came from the store). SIGTERM / SIGINT: workers stopped, the report's staging
folder removed, exit 128 + the signal with a line saying what the store kept.
"""

from __future__ import annotations

import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer

from verify.claims.result import ClaimResult, Status
from verify.cli.check import (
    ChunkSizeOpt,
    ExecutorOpt,
    FreshOpt,
    NoStoreOpt,
    ProgressOpt,
    SchedulerOpt,
    StoreOpt,
    check_with_progress,
    exit_on_signals,
    sweep_options,
)
from verify.cli.common import (
    EXIT_OK,
    EXIT_VERDICT,
    BackendOpt,
    ConfigOpt,
    EtaOpt,
    InitsOpt,
    LossOpt,
    MaxPrecOpt,
    Opt,
    PaperOpt,
    PrecOpt,
    QuietOpt,
    SchemeOpt,
    SeedOpt,
    SetOpt,
    StepsOpt,
    WorkersOpt,
    build_settings,
    fail,
    print_counterexample,
    progress_factory,
    read_config,
    select_papers,
    summary_line,
    workers_or_default,
)
from verify.errors import VerifyError
from verify.papers import Paper, RunContext
from verify.settings import CheckSettings

PACKAGES = ("verify-mlt", "python-flint", "mpmath", "sympy", "numpy", "numba", "scipy", "matplotlib", "hypothesis")


def provenance(settings: CheckSettings) -> dict[str, Any]:
    """Versions, command and settings digest (not part of the deterministic results)."""
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"versions": versions, "python": sys.version.split()[0], "command": " ".join(["verify", *sys.argv[1:]]),
            "settings_digest": settings.digest(), "seed": settings.seed}


def mutation_guard(paper: Paper, settings: CheckSettings, ctx: RunContext) -> list[ClaimResult]:
    """Each mutation on the configured settings; one they cannot exercise (nothing admitted, or not
    refuted) is tried on the paper's other :meth:`~verify.papers.Paper.mutation_settings`."""
    mutations = list(paper.mutations().values())
    if not mutations:
        return []
    results = {r.claim_id: r for r in check_with_progress(mutations, settings, ctx, "mutations")}
    for other in paper.mutation_settings(settings):
        pending = [m for m in mutations if results[m.id].verdict is not Status.REFUTED]
        if not pending:
            break
        for r in check_with_progress(pending, other, ctx, "mutations"):
            if r.verdict is Status.REFUTED:
                results[r.claim_id] = r
    return [results[m.id] for m in mutations]


def problems_of(claims: list[ClaimResult], mutations: list[ClaimResult]) -> list[str]:
    problems = [f"claim {r.claim_id} is REFUTED" for r in claims if r.verdict is Status.REFUTED]
    problems += [f"mutation {r.claim_id} was NOT refuted" for r in mutations if r.verdict is not Status.REFUTED]
    return problems


def run_paper(paper: Paper, settings: CheckSettings, ctx: RunContext, out: Path) -> tuple[Path, list[str]]:
    """One paper's claims, mutation guard, figures and report; returns the report folder and its problems."""
    from verify.report.document import results_document
    from verify.report.write import write_report

    t0 = time.perf_counter()
    claims = check_with_progress(list(paper.claims().values()), settings, ctx, f"paper {paper.id} claims")
    t_claims = time.perf_counter() - t0
    mutations = mutation_guard(paper, settings, ctx)
    t_mut = time.perf_counter() - t0 - t_claims
    extras = paper.run_extras(settings, ctx)
    timings = {"claims_seconds": t_claims, "mutations_seconds": t_mut,
               "extras_seconds": time.perf_counter() - t0 - t_claims - t_mut, **extras.timings}
    doc = results_document(settings, claims, mutations, extras.data)
    timings["total_seconds"] = time.perf_counter() - t0
    target = write_report(out / paper.folder, doc, timings, provenance(settings), extras.figures)
    for r in claims + mutations:
        typer.echo(summary_line(r))
    typer.echo(f"report: {target / 'index.html'}  ({timings['total_seconds']:.0f} s)")
    typer.echo("    wall time: " + ", ".join(f"{name.removesuffix('_seconds')} {secs:.1f} s"
                                             for name, secs in timings.items() if name != "total_seconds"))
    problems = problems_of(claims, mutations)
    for r in claims:
        if r.verdict is Status.REFUTED:
            print_counterexample(r)
    return target, problems


def run(out: Annotated[Path, Opt(help="report root; each paper's report goes to OUT/paper_<id>")] = Path("reports"),
        paper: PaperOpt = None, inits: InitsOpt = None, scheme: SchemeOpt = None, seed: SeedOpt = None,
        eta: EtaOpt = None, steps: StepsOpt = None, prec: PrecOpt = None, max_prec: MaxPrecOpt = None,
        backend: BackendOpt = None, loss: LossOpt = None, config: ConfigOpt = None, set_: SetOpt = None,
        workers: WorkersOpt = None, quiet: QuietOpt = False, scheduler: SchedulerOpt = None,
        executor: ExecutorOpt = None, store: StoreOpt = None, no_store: NoStoreOpt = False, fresh: FreshOpt = False,
        chunk_size: ChunkSizeOpt = None, progress: ProgressOpt = False) -> None:
    """The main job: every claim and mutation of each paper (all installed papers unless --paper),
    the paper's figures, and the report in OUT/paper_<id>."""
    from verify.distributed.options import use_options
    from verify.report.write import check_output_root, check_report_target
    from verify.store import probe_location

    try:
        check_output_root(out)
        options = sweep_options(config, quiet, progress, "all", store=store, no_store=no_store, fresh=fresh,
                                executor=executor, scheduler=scheduler, chunk_size=chunk_size)
        if options.store is not None:
            probe_location(options.store)  # an unusable store: one line now, before any work
        chosen = select_papers(paper, read_config(config) if config is not None else {})
        for p in chosen:
            check_report_target(out / p.folder)
        all_settings = build_settings(chosen, config, set_, inits=inits, scheme=scheme, seed=seed, eta=eta,
                                      steps=steps, prec=prec, max_prec=max_prec, backend=backend, loss=loss)
        ctx = RunContext(workers_or_default(workers), quiet, progress_factory(quiet))
    except VerifyError as exc:
        fail(str(exc))
    problems: list[str] = []
    for p in chosen:
        try:
            with exit_on_signals(options), use_options(options):
                _, found = run_paper(p, all_settings[p.id], ctx, out)
        except VerifyError as exc:
            fail(str(exc))
        problems += [f"paper {p.id}: {msg}" for msg in found]
    for msg in problems:
        typer.echo(f"FAIL: {msg}", err=True)
    raise typer.Exit(EXIT_VERDICT if problems else EXIT_OK)
