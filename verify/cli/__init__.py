"""The ``verify`` command line: papers, list, check, run, report, trajectory, store.

Exit statuses: 0 when every true claim holds and every mutation is refuted; 1 when a true claim
is refuted or a mutation is not; 2 on bad input (one line naming the field, nothing written), a store
included, unusable from the start or filled up mid-sweep (no report is written);
3 on an internal error (a bug: the traceback goes to a log file whose path the message gives);
128 + the signal number when stopped by SIGINT (130) or SIGTERM (143), or when stdout is a
pipe closed early (141, as for SIGPIPE). A crash therefore never
looks like a verdict, and a stop by a signal unwinds normally (staging folders are removed).
"""

from __future__ import annotations

import datetime
import os
import signal
import sys
import tempfile
import traceback
from importlib import metadata
from pathlib import Path

import typer

from verify.cli import catalog, check, report, run, store, trajectory
from verify.cli.common import EXIT_INPUT, EXIT_INTERNAL
from verify.store import StoreError


def _version(value: bool) -> None:
    if value:
        try:
            version = metadata.version("verify-mlt")
        except metadata.PackageNotFoundError:
            version = "unknown"
        typer.echo(f"verify {version}")
        raise typer.Exit(0)


app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,  # plain help keeps "[default]"
                  context_settings={"help_option_names": ["-h", "--help"]},
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


class Terminated(BaseException):
    """SIGTERM, raised where the main thread was so every ``finally`` (staging clean-up) runs (a
    ``BaseException``: no ``except Exception`` on the way swallows it, and typer passes it on)."""

    signum = int(signal.SIGTERM)


_MAIN_PID = os.getpid()


def _on_sigterm(signum: int, frame: object) -> None:
    """In the command's process: stop the worker processes it started (a pool would otherwise wait
    for their running chunks before unwinding), then raise :class:`Terminated`. In a forked worker,
    which inherits this handler: end as SIGTERM does by default."""
    if os.getpid() != _MAIN_PID:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the clean-up must not be interrupted in turn
    import multiprocessing

    for child in multiprocessing.active_children():
        child.terminate()
    raise Terminated("stopped by SIGTERM")


def main() -> None:
    """Entry point: run the app; map an unexpected exception to exit status 3 with a logged traceback."""
    global _MAIN_PID
    _MAIN_PID = os.getpid()
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        try:
            app()  # standalone: usage errors exit 2, typer.Exit carries the verdict's status
        except SystemExit as exc:  # typer ends every run so; a closed stdout pipe it turns into status 1
            if exc.code == 1 and type(sys.stdout).__name__ == "PacifyFlushWrapper":  # typer's EPIPE mark
                raise SystemExit(128 + signal.SIGPIPE) from None  # `verify list | head`: not a verdict
            raise
        code = 0
    except StoreError as exc:  # the disk filled up mid-sweep where a command does not catch it itself
        typer.echo(f"error: {exc}", err=True)
        code = EXIT_INPUT
    except (KeyboardInterrupt, Terminated) as exc:  # SIGTERM (Ctrl-C: typer exits 130 itself)
        signum = int(getattr(exc, "signum", signal.SIGINT))
        typer.echo(f"interrupted: {exc}" if str(exc) else "interrupted", err=True)
        code = 128 + signum
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
