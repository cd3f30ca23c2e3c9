"""Write a report folder atomically: everything is staged beside the target, then swapped in.

A reader never sees a half-written folder: the files are written into a hidden staging folder in
the same parent (named with this process's id), which replaces the target by renames only after
every file is complete. Staging folders left by a killed run (their process is gone) are removed
by the next run in that parent. The published folder, and every folder created on the way to it,
is readable by everyone (0755 / 0644) whatever the umask. An existing target is replaced only when
it is a report folder (it holds ``results.json``) or empty: a user's file or folder is never
overwritten (:func:`check_report_target`).
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify.claims.result import ClaimResult
from verify.errors import InvalidArgument
from verify.papers import Figure
from verify.report.document import dumps
from verify.report.figures import figure_dependencies, save_figure
from verify.report.render import render_html, render_markdown

STAGING_MARK = "-staging-"
DEPENDENCIES = ("Claim dependency graph", "dependencies")


@dataclass(frozen=True)
class StoredFigure:
    """A figure already saved in a report folder (``stem.png`` / ``stem.svg``), for re-rendering."""

    title: str
    stem: str
    folder: Path


def check_output_root(root: Path, field: str = "out") -> None:
    """Refuse, before any work, an output root that is a file, lies below a file, or cannot be written
    (probed by creating and removing a folder in its deepest existing ancestor: permission bits
    alone do not tell, e.g. for root or on a read-only file system)."""
    for parent in [root, *root.parents]:
        if parent.exists():
            if not parent.is_dir():
                what = "is a file" if parent == root else f"lies below the file {parent}"
                raise InvalidArgument(field, str(root), f"{what}; give a folder")
            try:
                Path(tempfile.mkdtemp(prefix=".verify-probe-", dir=parent)).rmdir()
            except OSError as exc:
                raise InvalidArgument(field, str(root), f"is not writable ({parent}: {exc.strerror})") from None
            break


def check_report_target(target: Path, field: str = "out") -> None:
    """Refuse, before any work, a report folder that would destroy something that is not a report:
    ``target`` must be absent, an empty folder, or a folder holding ``results.json``; its parent
    must pass :func:`check_output_root` (it is replaced by a rename there)."""
    check_output_root(target, field)
    if target.exists():
        check_output_root(target.parent, field)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise InvalidArgument(field, str(target), "is a file, not a report folder; give a folder")
    if target.is_dir() and not (target / "results.json").is_file() and any(target.iterdir()):
        raise InvalidArgument(field, str(target), "is a folder that holds no report (no results.json) and is "
                              "not empty; refusing to replace it")


def make_public_dirs(path: Path) -> None:
    """``mkdir -p path``, giving each folder it creates mode 0755 (a restrictive umask must not hide
    the report from others)."""
    missing = [p for p in [path, *path.parents] if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for p in missing:
        p.chmod(0o755)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(parent: Path) -> list[Path]:
    """Remove staging folders in ``parent`` whose writing process no longer exists; return them."""
    removed = []
    if not parent.is_dir():
        return removed
    for path in parent.iterdir():
        name = path.name
        if not (path.is_dir() and name.startswith(".") and STAGING_MARK in name):
            continue
        try:
            pid = int(name.split(STAGING_MARK, 1)[1].split("-", 1)[0])
        except ValueError:
            continue
        if not _pid_alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def staging_dir(target: Path) -> Path:
    """A fresh staging folder beside ``target`` (same file system, so the final rename is atomic)."""
    make_public_dirs(target.parent)
    remove_stale_staging(target.parent)
    path = Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGING_MARK}{os.getpid()}-", dir=target.parent))
    path.chmod(0o755)
    return path


def publish(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging`` (renames only; the old folder is removed afterwards)."""
    for path in staging.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}{STAGING_MARK}{os.getpid()}-old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_report(target: Path, doc: dict[str, Any], timings: dict[str, Any], provenance: dict[str, Any],
                 figures: Sequence[Figure | StoredFigure] = ()) -> Path:
    """Write ``results.json``, ``timings.json``, ``provenance.json``, the figures (PNG, SVG),
    ``index.md`` and ``index.html`` into ``target`` atomically; return ``target``."""
    import json

    check_report_target(target)
    staging = staging_dir(target)
    try:
        embedded: list[tuple[str, str]] = []
        stems: list[tuple[str, str]] = []
        claims = [ClaimResult.from_dict(d) for d in doc["claims"]]
        mutations = [ClaimResult.from_dict(d) for d in doc["mutations"]]
        all_figures: list[Figure | StoredFigure] = [Figure(*DEPENDENCIES, figure_dependencies(claims, mutations))]
        all_figures += [f for f in figures if f.stem != DEPENDENCIES[1]]
        for fig in all_figures:
            if isinstance(fig, StoredFigure):
                for ext in ("png", "svg"):
                    source = fig.folder / f"{fig.stem}.{ext}"
                    if not source.exists():
                        raise InvalidArgument("figure", str(source), "is missing; re-run `verify run`")
                    shutil.copyfile(source, staging / source.name)
                b64 = base64.b64encode((staging / f"{fig.stem}.png").read_bytes()).decode()
            else:
                b64 = save_figure(fig.figure, staging, fig.stem)
            embedded.append((fig.title, b64))
            stems.append((fig.title, fig.stem))
        # render from the canonical JSON form, so the first rendering and a re-rendering agree byte for byte
        doc = json.loads(dumps({**doc, "figures": [{"title": t, "stem": s} for t, s in stems]}))
        (staging / "results.json").write_text(dumps(doc))
        (staging / "timings.json").write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n")
        (staging / "provenance.json").write_text(json.dumps(provenance, indent=1, sort_keys=True) + "\n")
        (staging / "index.md").write_text(render_markdown(doc, timings, provenance, stems))
        (staging / "index.html").write_text(render_html(doc, timings, provenance, embedded))
        publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def stored_figures(doc: dict[str, Any], folder: Path) -> list[StoredFigure]:
    """The figures a stored report lists, to embed again when re-rendering."""
    return [StoredFigure(f["title"], f["stem"], folder) for f in doc.get("figures", [])]
