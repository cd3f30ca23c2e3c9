"""``verify report``: render a report again from its stored, validated ``results.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from verify.cli.common import Opt, fail
from verify.errors import InvalidArgument, VerifyError


def report(source: Annotated[Path, typer.Argument(help="a report folder holding results.json, or a folder of "
                                                       "them (each paper_<id>/ is re-rendered)")] = Path("reports"),
           out: Annotated[Path | None, Opt(help="render into this folder instead of SOURCE (one report only)")] = None
           ) -> None:
    """Render index.html and index.md again from stored results.json (validated first; nothing is
    written unless every document is one this version reads)."""
    from verify.report.document import load_results, load_side_file
    from verify.report.write import check_report_target, stored_figures, write_report

    try:
        folders = [source] if (source / "results.json").exists() or not source.is_dir() else \
            sorted(p for p in source.iterdir() if p.is_dir() and (p / "results.json").exists())
        if not folders:
            raise InvalidArgument("source", str(source), "holds no results.json; run `verify run` first")
        if out is not None and len(folders) > 1:
            raise InvalidArgument("out", str(out), f"needs one report as SOURCE ({len(folders)} found)")
        jobs = []
        for folder in folders:  # validate everything before writing anything
            doc = load_results(folder)
            for fig in stored_figures(doc, folder):
                for ext in ("png", "svg"):
                    if not (folder / f"{fig.stem}.{ext}").exists():
                        raise InvalidArgument("figure", str(folder / f"{fig.stem}.{ext}"),
                                              "is missing; re-run `verify run`")
            jobs.append((folder, doc, load_side_file(folder, "timings.json"), load_side_file(folder, "provenance.json"),
                         stored_figures(doc, folder)))
        targets = [out or folder for folder, *_ in jobs]
        for target in targets:
            check_report_target(target)
        for (_, doc, timings, provenance, figures), target in zip(jobs, targets, strict=True):
            write_report(target, doc, timings, provenance, figures)
            typer.echo(f"report: {target / 'index.html'}")
    except VerifyError as exc:
        fail(str(exc))
