"""What every command shares: option types, settings from flags and TOML, errors, progress, printing.

A bad value becomes one line ``error: field=value must ...`` on stderr and exit status 2, raised
before any work starts (:func:`fail`). Progress bars go to stderr, only on a terminal and never
with ``--quiet``; results always go to stdout.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from verify.claims.result import ClaimResult, Status
from verify.errors import InvalidArgument
from verify.numbers import short
from verify.papers import Paper, get_paper, registry
from verify.settings import ENGINE_FIELDS, CheckSettings

EXIT_OK, EXIT_VERDICT, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

Opt = typer.Option
PaperOpt = Annotated[str | None, Opt("--paper", help="paper id (see `verify papers`); default: every paper / "
                                                      "the claim's paper")]
InitsOpt = Annotated[int | None, Opt(help="number of initialisations [paper default; a: 200]")]
SchemeOpt = Annotated[str | None, Opt(help="init scheme: he | xavier | pytorch | normal [he]")]
SeedOpt = Annotated[int | None, Opt(help="seed of the init sampler [0]")]
EtaOpt = Annotated[str | None, Opt(help="step size, exact (e.g. 0.1 or 1/10) [paper default; a: 1/10]")]
StepsOpt = Annotated[int | None, Opt(help="GD steps per init [paper default; a: 2000]")]
PrecOpt = Annotated[int | None, Opt(help="working precision in bits of the arbitrary-precision engine [128]")]
MaxPrecOpt = Annotated[int | None, Opt("--max-prec", help="highest precision escalation may reach, bits [1024]")]
BackendOpt = Annotated[str | None, Opt(help="engine: batch (float64 lanes, escalated to arb) | auto (chosen per shape) "
                                               "| matrix (float64 interval matrices) | arb | mpmath [batch]")]
LossOpt = Annotated[str | None, Opt(help="loss: exponential | logistic [exponential]")]
WorkersOpt = Annotated[int | None, Opt(help="worker processes [every core]")]
ConfigOpt = Annotated[Path | None, Opt(help="TOML file of settings (engine keys, `paper`, the papers' own keys)")]
SetOpt = Annotated[list[str] | None, Opt("--set", help="a paper's own setting, KEY=VALUE (repeatable), e.g. "
                                                        "--set fig3_inits=40")]
QuietOpt = Annotated[bool, Opt("--quiet", "-q", help="no progress bars (results are still printed)")]


def fail(message: str) -> None:
    """Print one error line and exit with the bad-input status."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_INPUT)


class _TomlDecimal(str):
    """A TOML float kept as its decimal text, so ``eta = 0.1`` is exactly 1/10 (as ``--eta 0.1`` is)."""


def read_config(path: Path) -> dict[str, Any]:
    """The TOML file as a flat mapping plus per-paper tables; every failure names ``config``."""
    if path.is_dir():
        raise InvalidArgument("config", str(path), "is a folder; give a TOML file")
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InvalidArgument("config", str(path), "does not exist") from None
    except UnicodeDecodeError:
        raise InvalidArgument("config", str(path), "is not UTF-8 text") from None
    except OSError as exc:
        raise InvalidArgument("config", str(path), f"cannot be read ({exc.strerror})") from None
    try:
        values = tomllib.loads(text, parse_float=_TomlDecimal)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument("config", str(path), f"is not valid TOML ({exc})") from None
    return values


def _parse_set(pairs: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidArgument("set", pair, "must be KEY=VALUE")
        text = value.strip()
        out[key.strip()] = int(text) if text.lstrip("-").isdigit() else text
    return out


def select_papers(paper: str | None, config: dict[str, Any]) -> list[Paper]:
    """``--paper``, else the config's ``paper`` key, else every registered paper."""
    chosen = paper or config.get("paper")
    if chosen is not None:
        if not isinstance(chosen, str):
            raise InvalidArgument("config.paper", chosen, "must be a paper id string")
        return [get_paper(chosen)]
    papers = list(registry().values())
    if not papers:
        raise InvalidArgument("paper", None, "no paper plug-in is installed (see `verify papers`)")
    return papers


def build_settings(papers: list[Paper], config_path: Path | None, sets: list[str] | None,
                   **overrides: Any) -> dict[str, CheckSettings]:
    """Settings per paper: config file (flat keys, and ``[<paper id>]`` tables), then ``--set``, then flags.

    A flat key applies to every chosen paper that knows it (engine keys: all of them); a key that
    none of them knows is an error naming it, as is any table that is not a chosen paper's id.
    """
    config = read_config(config_path) if config_path is not None else {}
    from verify.distributed.options import SWEEP_FIELDS  # how a sweep runs: read by the sweep commands

    flat = {k: v for k, v in config.items() if not isinstance(v, dict) and k not in SWEEP_FIELDS}
    tables = {k: v for k, v in config.items() if isinstance(v, dict)}
    ids = {p.id for p in papers}
    for name in tables:
        if name not in ids:
            raise InvalidArgument(f"config.{name}", "table", f"must be a chosen paper's id {sorted(ids)} "
                                  "(put shared settings at the top level)")
    extra = _parse_set(sets or [])
    engine = {k: v for k, v in overrides.items() if v is not None}
    result: dict[str, CheckSettings] = {}
    for source, values in (("config", flat), ("set", extra)):
        for key in values:
            if key != "paper" and key not in ENGINE_FIELDS and not any(key in _option_names(p) for p in papers):
                known = sorted({*ENGINE_FIELDS, *(n for p in papers for n in _option_names(p))})
                raise InvalidArgument(f"{source}.{key}", values[key], f"is not a known setting; known: {known}")
    for p in papers:
        mine = {k: v for k, v in flat.items() if k != "paper" and (k in ENGINE_FIELDS or k in _option_names(p))}
        mine.update(tables.get(p.id, {}))
        settings = CheckSettings.from_mapping(mine, where="config", paper=p.id)  # the file alone must be valid
        mine.update({k: v for k, v in extra.items() if k in ENGINE_FIELDS or k in _option_names(p)})
        mine.update(engine)
        result[p.id] = CheckSettings.from_mapping(mine, where="config", paper=settings.paper)
    return result


def _option_names(paper: Paper) -> set[str]:
    from dataclasses import fields

    return {f.name for f in fields(paper.options_type)}


def workers_or_default(workers: int | None) -> int:
    from verify.dynamics.sweep import default_workers

    if workers is None:
        return default_workers()
    if workers < 1:
        raise InvalidArgument("workers", workers, "must be >= 1")
    return workers


def progress_factory(quiet: bool) -> Callable[[str, int], Callable[[int], None]] | None:
    """A tqdm bar per (label, total) on stderr; ``None`` when quiet or stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None

    def make(label: str, total: int) -> Callable[[int], None]:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=label, leave=False, file=sys.stderr)

        def update(done: int) -> None:
            bar.update(done - bar.n)
            if done >= total:
                bar.close()

        return update

    return make


def summary_line(r: ClaimResult) -> str:
    c = r.counts
    return (f"{r.claim_id:<36} {r.verdict.value:<12} certified {c['certified']:>5}  refuted {c['refuted']:>5}  "
            f"inconclusive {c['inconclusive']:>5}  not-admitted {c['not-admitted']:>5}")


def engines_line(engines: dict[str, Any]) -> str:
    """E.g. ``batch-f64 993, arb 7 (escalated: 5 undecided sign, 2 inconclusive claim)``."""
    line = ", ".join(f"{name} {count}" for name, count in engines["engines"].items())
    if engines["escalated"]:
        line += " (escalated: " + "; ".join(f"{c} {why}" for why, c in engines["escalation_reasons"].items()) + ")"
    return line


def diverged_phrase(count: int) -> str:
    """``; GD certified divergent on 3 inits`` (empty when none diverged): appended to the engines line."""
    return f"; GD certified divergent on {count} init{'s' if count != 1 else ''}" if count else ""


def print_counterexample(r: ClaimResult, replay: str | None = None) -> None:
    """The smallest counterexample: short decimals on screen, exact values beside them."""
    cx = r.counterexample
    if cx is None:
        return
    typer.echo(f"    counterexample: init #{cx.index} theta0 = ({', '.join(cx.theta0)})")
    typer.echo(f"      {cx.outcome.detail}")
    for key, value in (cx.outcome.counterexample or {}).items():
        shown = short(value) if len(value) > 40 else value
        typer.echo(f"      {key} = {shown}")
    if replay:
        typer.echo(f"    replay: {replay}")


def verdict_failed(r: ClaimResult, is_mutation: bool) -> bool:
    """A true claim refuted, or a mutation not refuted."""
    return (r.verdict is not Status.REFUTED) if is_mutation else (r.verdict is Status.REFUTED)
