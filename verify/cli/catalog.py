"""``verify papers`` and ``verify list``: what is installed and what each paper claims."""

from __future__ import annotations

import typer

from verify.cli.common import PaperOpt, fail, select_papers
from verify.errors import VerifyError
from verify.papers import registry


def papers() -> None:
    """List the installed paper plug-ins: id, title, citation, claims and mutations."""
    try:
        found = registry()
    except VerifyError as exc:
        fail(str(exc))
    for paper in found.values():
        typer.echo(f"{paper.id}  {paper.title}")
        typer.echo(f"    {paper.citation}; {len(paper.claims())} claims, {len(paper.mutations())} mutations; "
                   f"report folder reports/{paper.folder}/; plug-in {type(paper).__module__}")


def list_claims(paper: PaperOpt = None) -> None:
    """List each paper's claims and mutations with their source and hypotheses."""
    try:
        chosen = select_papers(paper, {})
    except VerifyError as exc:
        fail(str(exc))
    for p in chosen:
        for title, claims in (("claims", p.claims()), ("mutations (must be refuted)", p.mutations())):
            typer.echo(f"# paper {p.id}: {title}")
            for claim in claims.values():
                typer.echo(f"{claim.id}  [{claim.source}]")
                typer.echo(f"    {claim.title}")
                for h in claim.hypotheses:
                    typer.echo(f"    hypothesis: {h}")
