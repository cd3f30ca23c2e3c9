"""``verify check``: one claim (or a claim file) over many inits, with counts and a counterexample."""

from __future__ import annotations

import time
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
    engines_line,
    fail,
    print_counterexample,
    progress_factory,
    summary_line,
    verdict_failed,
    workers_or_default,
)
from verify.errors import InvalidArgument, VerifyError
from verify.papers import RunContext, claim_owner, find_claim, get_paper
from verify.settings import CheckSettings


def check_with_progress(claims: list, settings: CheckSettings, ctx: RunContext, label: str) -> list[ClaimResult]:
    """Every claim over the paper's cases, one shared GD run per init, on ``ctx.workers`` processes."""
    from verify.claims.runner import check_claims

    cases = settings.plugin.cases(settings)
    return check_claims(claims, settings, cases=cases, progress=ctx.bar(f"{label} ({settings.scheme})", len(cases)),
                        lookup=partial(find_claim, settings.paper), workers=ctx.workers)


def check(claim: Annotated[list[str] | None, typer.Argument(
              help="claim or mutation id (see `verify list`); with --claims, ids in the file (default: all)")] = None,
          claims: Annotated[Path | None, Opt("--claims", help="a TOML claim file (see examples/paper_a.toml)")] = None,
          init: Annotated[str | None, Opt(help="check on this one exact init (e.g. w1=1/2,b1=0,w2=-1/4,b2=0)")] = None,
          search: Annotated[int | None, Opt(help="also let Hypothesis draw N inits and shrink a refutation")] = None,
          paper: PaperOpt = None, inits: InitsOpt = None, scheme: SchemeOpt = None, seed: SeedOpt = None,
          eta: EtaOpt = None, steps: StepsOpt = None, prec: PrecOpt = None, max_prec: MaxPrecOpt = None,
          backend: BackendOpt = None, loss: LossOpt = None, config: ConfigOpt = None, set_: SetOpt = None,
          workers: WorkersOpt = None, quiet: QuietOpt = False) -> None:
    """Check one claim (or a claim file) over many inits; print counts, engines and the smallest counterexample."""
    if claims is not None or init is not None or search is not None:
        from verify.claims.language.command import check_command

        raise typer.Exit(check_command(
            claim or [], claims, init, search, paper=paper, config=config, sets=set_, workers=workers, quiet=quiet,
            inits=inits, scheme=scheme, seed=seed, eta=eta, steps=steps, prec=prec, max_prec=max_prec,
            backend=backend, loss=loss))
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
        r = check_with_progress([table[claim]], settings, ctx, "checking")[0]
        wall = time.perf_counter() - t0
    except VerifyError as exc:
        fail(str(exc))
    typer.echo(summary_line(r) + f"  ({wall:.1f} s, paper {owner.id}, scheme {settings.scheme}, "
               f"{sum(r.counts.values())} inits)")
    if r.engines:
        typer.echo(f"    engines: {engines_line(r.engines)}")
    print_counterexample(r)
    for o in r.outcomes:
        if o.outcome.status.value == "inconclusive":
            typer.echo(f"    inconclusive example: init #{o.index}: {o.outcome.detail}")
            break
    raise typer.Exit(EXIT_VERDICT if verdict_failed(r, claim in owner.mutations()) else EXIT_OK)
