"""Peak-memory helper shared by the benchmark scripts: one call's peak RSS increase, in a fresh
spawned child (``VmHWM`` of ``/proc/self/status``, reset through ``/proc/self/clear_refs`` after the
child's setup and warm-up, so imports and data do not count; ``ru_maxrss`` would start at the
parent's RSS)."""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import resource
from typing import Any


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """This process's peak RSS: ``VmHWM`` (resettable), else ``ru_maxrss`` (KiB on Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(module: str, factory: str, args: tuple, out: Any) -> None:
    call = getattr(importlib.import_module(module), factory)(*args)  # setup and warm-up: not counted
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = rss_bytes()
    exact = peak_rss_bytes() <= before + 2**20
    call()
    out.send({"increase": max(peak_rss_bytes() - before, 0), "exact": exact})
    out.close()


def peak_increase(module: str, factory: str, *args: Any) -> dict[str, Any]:
    """``{"increase": bytes, "exact": bool}`` for ``getattr(module, factory)(*args)()`` in a spawned
    child (``exact`` is False when the peak could not be reset: then a lower bound)."""
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(module, factory, args, send))
    child.start()
    send.close()
    result = recv.recv()
    child.join()
    return result


def mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n / 2**10:,.0f} KiB"
