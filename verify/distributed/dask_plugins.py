"""Dask worker plugins for local clusters (imported only when dask is used)."""

from __future__ import annotations

import contextlib
import signal
from typing import Any

from distributed import WorkerPlugin


class IgnoreInterrupts(WorkerPlugin):
    """The worker ignores SIGINT: Ctrl-C reaches the whole process group, and the driver stops
    its local cluster itself (a worker's own KeyboardInterrupt would only print a traceback)."""

    idempotent = True
    name = "verify-ignore-sigint"

    def setup(self, worker: Any) -> None:
        with contextlib.suppress(ValueError):  # not the worker's main thread: leave it be
            signal.signal(signal.SIGINT, signal.SIG_IGN)
