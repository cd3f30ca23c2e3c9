"""SIGTERM and SIGINT turned into an exception in the driver, so it can stop its workers and clean up.

Python's default for SIGTERM ends the process on the spot, leaving worker processes and staging
files behind. Inside :func:`stop_on_signals` both signals raise :class:`Interrupted` in the main
thread instead (a :class:`BaseException`, like :class:`KeyboardInterrupt`, so that no
``except Exception`` on the way swallows it); a repeated signal is ignored while the clean-up
runs, and the previous handlers come back on exit.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Interrupted(BaseException):
    """The driver received ``signum``; raised where the main thread was."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@contextlib.contextmanager
def stop_on_signals(signums: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> Iterator[None]:
    """Within the block, ``signums`` raise :class:`Interrupted` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        for s in signums:  # one signal is enough: the clean-up must not be interrupted in turn
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in signums}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
