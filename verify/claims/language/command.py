"""``verify check --claims FILE [ID ...]``, ``--init`` and ``--search N``: run claims, print verdicts.

:func:`claim_file_table` reads a claim file into claims (all of them, or the ids asked for) and the
set of those expected to be refuted; :func:`run_and_print` checks claims over the paper's cases (or
one exact init), prints one summary line per claim with the steps its verdict covers, the smallest
counterexample with the commands that replay it, and, with ``--search N``, the shrunk refutation
Hypothesis finds. It returns the exit status (0: every true claim holds and every claim expected
to be refuted is refuted; 1 otherwise).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import typer

from verify.claims.claim import Claim
from verify.claims.language.claims import file_claims, file_lookup
from verify.claims.language.load import ClaimFileError, file_paper, file_settings, load_claim_file, read_toml
from verify.claims.language.run import brief
from verify.claims.result import ClaimResult, Status
from verify.claims.runner import check_claims
from verify.claims.search import search_refutation
from verify.papers import CaseSpec, RunContext
from verify.settings import GENERIC_DEFAULTS, CheckSettings

EXIT_OK, EXIT_VERDICT = 0, 1


def file_defaults(path: Path) -> tuple[str, dict]:
    """The paper a claim file names and its ``[settings]`` table (validated)."""
    data = read_toml(path)
    return file_paper(path, data), file_settings(path, data)


def claim_file_table(path: Path, settings: CheckSettings, ids: list[str]) -> tuple[dict[str, Claim], set[str]]:
    """Claims of the file (``ids``, or all) and the ids expected to be refuted; unknown ids are errors."""
    cf = load_claim_file(path, settings)
    for cid in ids:
        if cid not in cf.claims:
            raise ClaimFileError(str(path), cid, "claim",
                                 f"no claim {cid!r} in the file; claims: {', '.join(cf.claims)}")
    claims = file_claims(path, settings, ids or None)
    return claims, {cid for cid in claims if cf.claims[cid].expect == "refuted"}


def init_text(names: tuple[str, ...], theta0: tuple[Fraction, ...] | tuple[str, ...]) -> str:
    return ",".join(f"{n}={q}" for n, q in zip(names, theta0, strict=True))


def settings_flags(settings: CheckSettings, base: dict, names: tuple[str, ...]) -> list[str]:
    """``--name value`` for each engine setting in ``names`` that differs from ``base`` (the defaults
    the command would otherwise use)."""
    flags = []
    for name in names:
        value, default = getattr(settings, name), base.get(name)
        same = Fraction(str(default)) == value if name == "eta" else str(value) == str(default)
        if not same:
            flags.append(f"--{name.replace('_', '-')} {value}")
    return flags


def replay_lines(claim_id: str, theta0, settings: CheckSettings, claims_path: Path | None,
                 file_table: dict | None) -> list[str]:
    """The commands that replay a counterexample: the run itself and the check on that one init."""
    names = settings.plugin.param_names(settings)
    init = init_text(names, theta0)
    paper_defaults = {**GENERIC_DEFAULTS, **settings.plugin.defaults()}
    run_flags = [f"--steps {settings.steps}", *settings_flags(settings, paper_defaults, ("eta", "loss"))]
    base = {**paper_defaults, **(file_table or {})} if claims_path is not None else paper_defaults
    check_flags = settings_flags(settings, base, ("eta", "steps", "loss", "prec", "max_prec", "backend"))
    target = f"--claims {claims_path} {claim_id}" if claims_path is not None else f"{claim_id} --paper {settings.paper}"
    return [" ".join(["verify trajectory", f"--paper {settings.paper}", f"--init {init}", *run_flags]),
            " ".join([f"verify check {target}", f"--init {init}", *check_flags])]


def run_and_print(claims: dict[str, Claim], expected_refuted: set[str], settings: CheckSettings, ctx: RunContext,
                  lookup: Callable[[str], Claim] | None, *, init: tuple[Fraction, ...] | None = None,
                  search: int | None = None, claims_path: Path | None = None, file_table: dict | None = None) -> int:
    """Check and print (see the module docstring); returns the exit status."""
    t0 = time.perf_counter()
    if init is not None:
        cases = [CaseSpec(0, settings.problem(), init)]
    else:
        cases = settings.plugin.cases(settings)
    bar = ctx.bar(f"checking ({settings.scheme})", len(cases))
    results = check_claims(list(claims.values()), settings, cases=cases, progress=bar, lookup=lookup,
                           workers=ctx.workers)
    wall = time.perf_counter() - t0
    where = "1 exact init" if init is not None else f"{len(cases)} inits, scheme {settings.scheme}"
    typer.echo(f"paper {settings.paper}: {len(results)} claim(s) on {where}, {settings.steps} steps, "
               f"eta = {settings.eta} ({wall:.1f} s)")
    failed = False
    from verify.cli.common import diverged_phrase, engines_line, summary_line

    for r in results:
        expect_refuted = r.claim_id in expected_refuted
        typer.echo(summary_line(r) + ("   [expected: refuted]" if expect_refuted else ""))
        typer.echo(f"    claim: {r.statement}")
        covers = _covers(r)
        if covers:
            typer.echo(f"    {covers}")
        if r.engines and init is None:
            typer.echo(f"    engines: {engines_line(r.engines)}{diverged_phrase(r.diverged)}")
        cx = r.counterexample
        if cx is not None:
            typer.echo(f"    counterexample: init #{cx.index} theta0 = ({', '.join(cx.theta0)})")
            print_outcome_fields(cx.outcome, settings.plugin.param_names(settings))
            for line in replay_lines(r.claim_id, cx.theta0, settings, claims_path, file_table):
                typer.echo(f"    replay: {line}")
        else:
            for status in (Status.INCONCLUSIVE, Status.CERTIFIED):
                example = next((o for o in r.outcomes if o.outcome.status is status), None)
                if example is not None:
                    typer.echo(f"    {status.value} e.g. on init #{example.index}: {example.outcome.detail}")
                    break
        refuted = r.verdict is Status.REFUTED
        if search:
            found = _search_and_print(claims[r.claim_id], settings, search, claims_path, file_table)
            refuted = refuted or found
        failed |= (not refuted) if expect_refuted else refuted
    return EXIT_VERDICT if failed else EXIT_OK


def print_outcome_fields(outcome, names: tuple[str, ...]) -> None:
    """A refutation's detail and the values that decide it, as short decimals rounded outward (the exact
    rationals are in the outcome, e.g. in ``results.json``; the init is printed exactly above)."""
    typer.echo(f"      {outcome.detail}")
    for key, value in (outcome.counterexample or {}).items():
        if key not in names:
            typer.echo(f"      {key} = {brief(value)}")


def _covers(r: ClaimResult) -> str | None:
    """Which steps the certified outcomes cover (the weakest over the inits), in words."""
    certified = [o.outcome for o in r.outcomes if o.outcome.status is Status.CERTIFIED]
    if not certified:
        return None
    spans = sorted({o.data.get("covers") for o in certified if o.data.get("covers")})
    if not spans:
        return None
    every = all(o.data.get("every_t") for o in certified)
    prefix = "every t >= "
    if len(spans) > 1 and all(sp.startswith(prefix) and sp[len(prefix):].isdigit() for sp in spans):
        starts = sorted(int(sp[len(prefix):]) for sp in spans)
        return f"certified for every t >= T, T per init from {starts[0]} to {starts[-1]}"
    if len(spans) == 1:
        return f"certified for {spans[0]}" + ("" if every else " (nothing is claimed beyond)")
    return "certified for: " + "; ".join(spans[:3]) + (" ..." if len(spans) > 3 else "")


def _search_and_print(claim: Claim, settings: CheckSettings, examples: int, claims_path: Path | None,
                      file_table: dict | None) -> bool:
    t0 = time.perf_counter()
    result = search_refutation(claim, settings, examples, seed=settings.seed)
    wall = time.perf_counter() - t0
    if result.init is None:
        typer.echo(f"    search: no refutation among {result.tried} Hypothesis-drawn inits ({wall:.1f} s)")
        return False
    names = settings.plugin.param_names(settings)
    shown = ", ".join(str(q) for q in result.init)
    if not result.refuted:
        typer.echo(f"    search: shrunk init ({shown}) did NOT re-certify as refuted: "
                   f"{result.outcome.status.value}: {result.outcome.detail}")
        return False
    typer.echo(f"    search: refuted; shrunk to theta0 = ({shown}) after {result.tried} inits ({wall:.1f} s), "
               "re-certified from scratch:")
    print_outcome_fields(result.outcome, names)
    for line in replay_lines(claim.id, result.init, settings, claims_path, file_table):
        typer.echo(f"    replay: {line}")
    return True


def check_command(ids: list[str], claims_path: Path | None, init: str | None, search: int | None, *,
                  paper: str | None, config: Path | None, sets: list[str] | None, workers: int | None, quiet: bool,
                  **flags) -> int:
    """The body of ``verify check`` with ``--claims``, ``--init`` or ``--search``: validate everything
    first (bad input: one line naming the file, claim and field, exit 2), then check and print."""
    from verify.cli.common import build_settings, fail, progress_factory, workers_or_default
    from verify.cli.trajectory import parse_init
    from verify.errors import InvalidArgument, VerifyError
    from verify.papers import claim_owner, find_claim, get_paper

    try:
        if search is not None and search < 1:
            raise InvalidArgument("search", search, "must be a positive number of inits")
        engine = {k: v for k, v in flags.items() if v is not None}
        file_table = None
        if claims_path is not None:
            owner_id, file_table = file_defaults(claims_path)
            if paper is not None and get_paper(paper).id != owner_id:
                raise ClaimFileError(str(claims_path), None, "paper",
                                     f"is {owner_id!r} but --paper {paper} was given")
            owner = get_paper(owner_id)
            settings = build_settings([owner], config, sets, **{**file_table, **engine})[owner.id]
            claims, expected = claim_file_table(claims_path, settings, ids)
            lookup = file_lookup(claims_path, settings)
        else:
            if len(ids) != 1:
                raise InvalidArgument("claim", " ".join(ids) or None, "give one claim id (or --claims FILE [ID ...])")
            owner = get_paper(paper) if paper else claim_owner(ids[0])
            settings = build_settings([owner], config, sets, **engine)[owner.id]
            table = {**owner.claims(), **owner.mutations()}
            if ids[0] not in table:
                raise InvalidArgument("claim", ids[0], f"is not a claim of paper {owner.id}")
            claims, expected = {ids[0]: table[ids[0]]}, ({ids[0]} if ids[0] in owner.mutations() else set())
            from functools import partial

            lookup = partial(find_claim, owner.id)
        theta0 = None
        if init is not None:
            problem = settings.problem()
            theta0 = problem.network.check_params(parse_init(init, problem.network.param_names()), "init")
        ctx = RunContext(workers_or_default(workers), quiet, progress_factory(quiet))
    except VerifyError as exc:
        fail(str(exc))
    return run_and_print(claims, expected, settings, ctx, lookup, init=theta0, search=search, claims_path=claims_path,
                         file_table=file_table)
