"""``verify store list | verify | prune``: the result stores of sweeps (:mod:`verify.store`).

A store folder holds the finished chunks of one sweep key (task, settings digest, code); ``verify
check`` and ``verify run`` resume from it when the key matches. ``list`` shows them, ``verify``
checks every chunk's checksum (a corrupt chunk is set aside and recomputed by the next run; exit
status 1 when one was found), ``prune`` removes stores by age, id, or because they were computed
by other code than this installation's (``--stale``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from verify.cli.common import EXIT_OK, EXIT_VERDICT, Opt, fail
from verify.errors import InvalidArgument, VerifyError

app = typer.Typer(add_completion=False, no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]},
                  help="List, verify and prune the result stores of sweeps.")

RootOpt = Annotated[Path | None, Opt("--store", help="store root (default: $VERIFY_STORE, else "
                                                     "~/.cache/verify-mlt/store)")]
_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _root(store: Path | None) -> Path:
    from verify.store import default_root

    return store if store is not None else default_root()


def parse_age(text: str) -> float:
    """``30d``, ``12h``, ``90m``, ``45s`` or plain seconds, in seconds."""
    m = _AGE.match(text.strip())
    if not m:
        raise InvalidArgument("older_than", text, "must be a duration like 30d, 12h, 90m or 45s")
    return float(m[1]) * _UNIT[m[2]]


def _stale(info) -> bool:
    from verify.store import current_code

    if info.key is None:
        return True
    try:
        return current_code(info.key.code.modules) != info.key.code
    except VerifyError:  # a module it was computed with is gone
        return True


@app.command("list")
def list_(store: RootOpt = None, as_json: Annotated[bool, Opt("--json", help="one JSON document")] = False) -> None:
    """Every store under the root, newest first: id, task, lanes, chunks, size, and whether this code wrote it."""
    from verify.store import list_stores

    infos = list_stores(_root(store))
    if as_json:
        typer.echo(json.dumps([{**i.to_dict(), "path": str(i.path), "current_code": not _stale(i)} for i in infos],
                              indent=1, sort_keys=True, default=str))
        return
    if not infos:
        typer.echo(f"no stores under {_root(store)}")
        return
    typer.echo(f"{'id':<24}  {'lanes':>9}  {'chunks':>6}  {'MiB':>7}  {'code':<7}  task")
    for i in infos:
        task = i.key.task if i.key else "(unreadable meta.json)"
        typer.echo(f"{i.id:<24}  {i.lanes:>9,}  {i.chunks:>6}  {i.bytes / 2**20:>7.2f}  "
                   f"{'stale' if _stale(i) else 'current':<7}  {task[:60]}")


@app.command("verify")
def verify_(ids: Annotated[list[str] | None, typer.Argument(help="store ids (6+ leading digits); default: all")] = None,
            store: RootOpt = None) -> None:
    """Check every chunk's checksum; corrupt chunks are set aside (``*.corrupt``) and recomputed by the next run.
    Exit status 1 when a corrupt chunk was found."""
    from verify.store import ChunkStore, list_stores

    infos = list_stores(_root(store))
    try:
        for prefix in ids or []:
            hits = [i for i in infos if i.id.startswith(prefix)]
            if len(prefix) < 6 or len(hits) != 1:
                raise InvalidArgument("id", prefix, f"must name exactly one store ({len(hits)} match)")
    except VerifyError as exc:
        fail(str(exc))
    chosen = [i for i in infos if not ids or any(i.id.startswith(p) for p in ids)]
    bad = 0
    for i in chosen:
        try:
            check = ChunkStore.at(i.path).verify()
        except InvalidArgument as exc:
            typer.echo(f"{i.id}: {exc}")
            bad += 1
            continue
        typer.echo(f"{i.id}: {len(check.ok)} chunks ({check.lanes:,} lanes) ok, {len(check.corrupt)} corrupt")
        for a, b, why in check.corrupt:
            typer.echo(f"    lanes {a}..{b - 1}: {why} (set aside; recomputed by the next run)")
        bad += len(check.corrupt)
    raise typer.Exit(EXIT_VERDICT if bad else EXIT_OK)


@app.command("prune")
def prune_(older_than: Annotated[str | None, Opt("--older-than", help="last written longer ago, e.g. 30d")] = None,
           ids: Annotated[list[str] | None, Opt("--id", help="a store id (6+ leading digits); repeatable")] = None,
           stale: Annotated[bool, Opt("--stale", help="computed by other code than this installation's")] = False,
           dry_run: Annotated[bool, Opt("--dry-run", help="only list what would be removed")] = False,
           store: RootOpt = None) -> None:
    """Remove the stores matching every criterion given (at least one is required)."""
    from verify.store import list_stores, prune

    root = _root(store)
    try:
        age = parse_age(older_than) if older_than is not None else None
        wanted = list(ids) if ids else None
        if stale:
            stale_ids = [i.id for i in list_stores(root) if _stale(i)]
            if wanted is not None:
                full = [i.id for i in list_stores(root) if any(i.id.startswith(p) for p in wanted)]
                stale_ids = [s for s in stale_ids if s in full]
            wanted = stale_ids
            if not wanted:
                typer.echo("nothing to prune")
                raise typer.Exit(EXIT_OK)
        removed = prune(root, older_than=age, ids=wanted, dry_run=dry_run)
    except VerifyError as exc:
        fail(str(exc))
    verb = "would remove" if dry_run else "removed"
    for i in removed:
        typer.echo(f"{verb} {i.id} ({i.lanes:,} lanes, {i.bytes / 2**20:.2f} MiB)")
    if not removed:
        typer.echo("nothing to prune")
