"""The ``verify`` command line: papers, list, check, run, report, trajectory, store.

Exit statuses: 0 when every true claim holds and every mutation is refuted; 1 when a true claim
is refuted or a mutation is not; 2 on bad input (one line naming the field, nothing written);
3 on an internal error (a bug: the traceback goes to a log file whose path the message gives).
A crash therefore never looks like a verdict.
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
import traceback
from importlib import metadata
from pathlib import Path

import typer

from verify.cli import catalog, check, report, run, store, trajectory
from verify.cli.common import EXIT_INTERNAL


def _version(value: bool) -> None:
    if value:
        try:
            version = metadata.version("verify-mlt")
        except metadata.PackageNotFoundError:
            version = "unknown"
        typer.echo(f"verify {version}")
        raise typer.Exit(0)


app = typer.Typer(add_completion=False, no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]},
                  help="Certified GD and claim checking for ML-theory papers.")


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print the version and exit")) -> None:
    """Certified GD and claim checking for ML-theory papers (`verify papers` lists them)."""


app.command("papers")(catalog.papers)
app.command("list")(catalog.list_claims)
app.command("check")(check.check)
app.command("run")(run.run)
app.command("report")(report.report)
app.command("trajectory")(trajectory.trajectory)
app.add_typer(store.app, name="store")


def crash_log_dir() -> Path:
    """Where internal-error tracebacks go: ``$VERIFY_LOG_DIR``, else ``~/.cache/verify-mlt/logs``."""
    root = os.environ.get("VERIFY_LOG_DIR")
    path = Path(root) if root else Path.home() / ".cache" / "verify-mlt" / "logs"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return path
    except OSError:
        return Path(tempfile.gettempdir())


def main() -> None:
    """Entry point: run the app; map an unexpected exception to exit status 3 with a logged traceback."""
    try:
        app()  # standalone: usage errors exit 2, typer.Exit carries the verdict's status
        code = 0
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        code = 130
    except Exception as exc:  # a bug: never let it look like a verdict
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        log = crash_log_dir() / f"crash-{stamp}-{os.getpid()}.log"
        try:
            log.write_text("".join(traceback.format_exception(exc)) + f"\nargv: {sys.argv}\n")
            where = f"traceback in {log}"
        except OSError:
            where = "traceback could not be written"
        typer.echo(f"internal error (a bug, not a verdict): {type(exc).__name__}: {str(exc)[:300]} ({where})", err=True)
        code = EXIT_INTERNAL
    sys.exit(code)


if __name__ == "__main__":
    main()
