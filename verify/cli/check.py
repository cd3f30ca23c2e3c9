"""``verify check``: one claim (or a claim file) over many inits, with counts and a counterexample.

The inits are one chunked sweep (:func:`verify.claims.runner.check_claims`): on a local process
pool, or on dask.distributed with ``--scheduler tcp://host:8786`` (also ``scheduler = "..."`` in
the TOML config); every finished chunk goes to the result store (``--store DIR``, else
``$VERIFY_STORE``, else ``~/.cache/verify-mlt/store``; ``--no-store`` for none), and a rerun with
the same settings and code resumes from it automatically (``--fresh`` computes everything again).
``verify check CLAIM`` keeps per claim only the counts and a few example outcomes, so 10**6 inits
run in bounded memory. SIGTERM / SIGINT stop the workers and exit with status 128 + the signal,
saying what the store kept.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from verify.claims.result import ClaimResult
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
    diverged_phrase,
    engines_line,
    fail,
    print_counterexample,
    progress_factory,
    read_config,
    summary_line,
    verdict_failed,
    workers_or_default,
)
from verify.distributed.options import SweepOptions, options_from
from verify.errors import InvalidArgument, VerifyError
from verify.papers import RunContext, claim_owner, find_claim, get_paper
from verify.settings import CheckSettings

SchedulerOpt = Annotated[str | None, Opt(help="dask scheduler address (tcp://host:8786): run the sweep on its cluster "
                                              "(also `scheduler` in the config)")]
ExecutorOpt = Annotated[str | None, Opt(help="where chunks run: pool | dask | inline "
                                             "(default: pool; dask with --scheduler)")]
StoreOpt = Annotated[Path | None, Opt("--store", help="result store folder (default: $VERIFY_STORE, "
                                                      "else ~/.cache/verify-mlt/store)")]
NoStoreOpt = Annotated[bool, Opt("--no-store", help="keep no chunks on disk (no resume)")]
FreshOpt = Annotated[bool, Opt("--fresh", help="compute every chunk again, ignoring (and overwriting) the store")]
ChunkSizeOpt = Annotated[int | None, Opt("--chunk-size", help="inits per chunk "
                                                            "(default: a quarter of the inits, 16 to 2048)")]
ProgressOpt = Annotated[bool, Opt("--progress", help="the progress line on stderr even when it is not a terminal")]


def sweep_options(config: Path | None, quiet: bool, progress: bool, keep: str, *, store: Path | None,
                  no_store: bool, fresh: bool, executor: str | None, scheduler: str | None,
                  chunk_size: int | None) -> SweepOptions:
    """The sweep options of a command: flags over the config file, the store on unless ``--no-store``."""
    values = read_config(config) if config is not None else {}
    return options_from(values, store=store, no_store=no_store, fresh=fresh, executor=executor, scheduler=scheduler,
                        chunk_size=chunk_size, progress=True if progress else (False if quiet else None), keep=keep)


@contextlib.contextmanager
def exit_on_signals(options: SweepOptions) -> Iterator[None]:
    """SIGTERM / SIGINT in the block: workers stopped, staging removed (by the ``finally`` clauses
    on the way out), one line saying what the store kept, exit status 128 + the signal."""
    from verify.distributed import Interrupted, SweepInterrupted, stop_on_signals

    try:
        with stop_on_signals():
            yield
    except SweepInterrupted as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(128 + exc.signum) from None
    except Interrupted as exc:
        kept = (f"; the store {options.store} keeps every finished chunk: run again to resume"
                if options.store is not None else "; nothing was kept (no store)")
        typer.echo(f"stopped by {signal.Signals(exc.signum).name}: workers stopped, staging removed" + kept, err=True)
        raise typer.Exit(128 + exc.signum) from None


def check_with_progress(claims: list, settings: CheckSettings, ctx: RunContext, label: str,
                        options: SweepOptions | None = None) -> list[ClaimResult]:
    """Every claim over the paper's cases, one shared GD run per init, on ``ctx.workers`` processes
    (or where ``options`` say; the progress line is the sweep's own)."""
    from verify.claims.runner import check_claims

    return check_claims(claims, settings, lookup=partial(find_claim, settings.paper), workers=ctx.workers,
                        options=options)


def check(claim: Annotated[list[str] | None, typer.Argument(
              help="claim or mutation id (see `verify list`); with --claims, ids in the file (default: all)")] = None,
          claims: Annotated[Path | None, Opt("--claims", help="a TOML claim file (see examples/paper_a.toml)")] = None,
          init: Annotated[str | None, Opt(help="check on this one exact init (e.g. w1=1/2,b1=0,w2=-1/4,b2=0)")] = None,
          search: Annotated[int | None, Opt(help="also let Hypothesis draw N inits and shrink a refutation")] = None,
          paper: PaperOpt = None, inits: InitsOpt = None, scheme: SchemeOpt = None, seed: SeedOpt = None,
          eta: EtaOpt = None, steps: StepsOpt = None, prec: PrecOpt = None, max_prec: MaxPrecOpt = None,
          backend: BackendOpt = None, loss: LossOpt = None, config: ConfigOpt = None, set_: SetOpt = None,
          workers: WorkersOpt = None, quiet: QuietOpt = False, scheduler: SchedulerOpt = None,
          executor: ExecutorOpt = None, store: StoreOpt = None, no_store: NoStoreOpt = False, fresh: FreshOpt = False,
          chunk_size: ChunkSizeOpt = None, progress: ProgressOpt = False) -> None:
    """Check one claim (or a claim file) over many inits; print counts, engines and the smallest counterexample."""
    from verify.distributed.options import use_options

    try:
        options = sweep_options(config, quiet, progress, "examples", store=store, no_store=no_store, fresh=fresh,
                                executor=executor, scheduler=scheduler, chunk_size=chunk_size)
    except VerifyError as exc:
        fail(str(exc))
    if claims is not None or init is not None or search is not None:
        from verify.claims.language.command import check_command

        # the claim file's command draws its own progress bar: the sweep's line only when asked
        with exit_on_signals(options), use_options(options.with_(progress=True if progress else False)):
            code = check_command(
                claim or [], claims, init, search, paper=paper, config=config, sets=set_, workers=workers, quiet=quiet,
                inits=inits, scheme=scheme, seed=seed, eta=eta, steps=steps, prec=prec, max_prec=max_prec,
                backend=backend, loss=loss)
        raise typer.Exit(code)
    if not claim or len(claim) != 1:
        fail(str(InvalidArgument("claim", " ".join(claim or []) or None, "must be one claim id (or use --claims FILE "
                                 "[ID ...])")))
    claim = claim[0]
    try:
        owner = get_paper(paper) if paper else claim_owner(claim)
        table = {**owner.claims(), **owner.mutations()}
        if claim not in table:
            raise InvalidArgument("claim", claim, f"is not a claim of paper {owner.id}; see `verify list --paper "
                                  f"{owner.id}` ({len(table)} known)")
        settings = build_settings([owner], config, set_, inits=inits, scheme=scheme, seed=seed, eta=eta,
                                  steps=steps, prec=prec, max_prec=max_prec, backend=backend, loss=loss)[owner.id]
        ctx = RunContext(workers_or_default(workers), quiet, progress_factory(quiet))
        t0 = time.perf_counter()
        with exit_on_signals(options):
            r = check_with_progress([table[claim]], settings, ctx, "checking", options)[0]
        wall = time.perf_counter() - t0
    except VerifyError as exc:
        fail(str(exc))
    typer.echo(summary_line(r) + f"  ({wall:.1f} s, paper {owner.id}, scheme {settings.scheme}, "
               f"{sum(r.counts.values())} inits)")
    if r.engines:
        typer.echo(f"    engines: {engines_line(r.engines)}{diverged_phrase(r.diverged)}")
    print_counterexample(r)
    for o in r.outcomes:
        if o.outcome.status.value == "inconclusive":
            typer.echo(f"    inconclusive example: init #{o.index}: {o.outcome.detail}")
            break
    raise typer.Exit(EXIT_VERDICT if verdict_failed(r, claim in owner.mutations()) else EXIT_OK)
