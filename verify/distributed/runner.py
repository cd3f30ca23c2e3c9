"""Run a sweep's chunks on workers, fold their summaries, store each chunk as it finishes, resume.

``run_chunks(task, n, fold, chunk_size=..., store=...)`` covers lanes ``0 .. n - 1`` with chunks
(:mod:`verify.distributed.plan`). ``task(start, stop)`` runs in a worker and returns a
:class:`ChunkOutput`: the chunk's summary under ``fold`` (:mod:`verify.distributed.folds`) and
how many of its lanes were escalated. In the driver:

1. chunks the store already holds (and that pass their checksum) are loaded and folded, not
   computed; a corrupt one is reported (a warning) and computed again;
2. the others run on an executor (:mod:`verify.distributed.executors`); each finished chunk is
   written to the store at once, then folded into the running summary and counted in the
   progress line (lanes done, lanes escalated, an ETA; on stderr, at most once a second, only
   when stderr is a terminal unless ``progress=True``; drawn once when the store holds every
   chunk). With a store, a last line says how many chunks came from it and how many were
   computed (``sweep: 12 chunks: 5 from the store, 7 computed``);
3. if workers die, the chunks not yet finished run again (at most ``retries`` times);
4. SIGTERM or SIGINT stop the workers and raise :class:`SweepInterrupted`, whose message says
   what the store kept (a chunk being written when the signal came leaves no staging file:
   :func:`verify.store.write_atomic` removes it on any exception).

The store is written by the driver, not by the workers: the store then needs to be reachable
from the driver only (a cluster's workers need no shared filesystem), a chunk is stored only
once its result has arrived (the store never holds a result the driver has not seen), there is
one writer per store, and chunk summaries are small, so the driver's writes cost little.

Invariant: ``SweepRun.value`` depends only on ``task``, ``n`` and ``fold``: not on the executor,
the number of workers, the chunk size, the order chunks finish in, faults, or how much came from
the store (a fold is a commutative monoid; lanes are independent of each other).
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from signal import SIGINT, Signals
from typing import IO, Any

from tqdm import tqdm

from verify.distributed.executors import EXECUTORS, Dask, Inline, Pool, WorkersLost
from verify.distributed.plan import Range, choose_tiling, gaps
from verify.distributed.signals import Interrupted, stop_on_signals
from verify.errors import InvalidArgument, VerifyError
from verify.store import ChunkStore

DEFAULT_RETRIES = 3


@dataclass(frozen=True)
class ChunkOutput:
    """What a chunk task returns: its summary under the sweep's fold, and its escalated lanes."""

    value: Any
    escalated: int = 0


@dataclass(frozen=True)
class SweepRun:
    """A finished sweep: the folded ``value`` (deterministic) and how it was obtained (not)."""

    value: Any
    lanes: int
    escalated: int
    computed: tuple[Range, ...]  # chunks computed by this run
    resumed: tuple[Range, ...]  # chunks loaded from the store
    recomputed: tuple[Range, ...]  # chunks found corrupt in the store (and computed again)
    restarts: int  # times chunks were submitted again after workers died
    executor: str
    workers: int
    seconds: float


class SweepInterrupted(KeyboardInterrupt):
    """The driver was stopped by ``signum``; ``message`` says what was kept.

    A :class:`KeyboardInterrupt`, so no ``except Exception`` swallows it; a CLI prints the
    message and exits with status ``128 + signum``.
    """

    def __init__(self, signum: int, message: str) -> None:
        self.signum = signum
        self.message = message
        super().__init__(message)


class SweepFailed(VerifyError):
    """Workers kept dying: the sweep gave up (what finished is in the store)."""


def _positive(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgument(name, value, f"must be an integer >= {minimum}")
    return value


def default_workers() -> int:
    """Every core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def choose_executor(executor: str | None, scheduler: str | None, workers: int, chunks: int) -> str:
    """``executor`` if given; ``dask`` with a scheduler; else ``inline`` for one worker or chunk,
    else the local pool (measured faster than a dask LocalCluster on one machine: see
    :mod:`verify.distributed`)."""
    if executor is not None:
        if executor not in EXECUTORS:
            raise InvalidArgument("executor", executor, f"must be one of {list(EXECUTORS)}")
        if scheduler is not None and executor != "dask":
            raise InvalidArgument("executor", executor, "must be 'dask' when a scheduler is given")
        return executor
    if scheduler is not None:
        return "dask"
    return "inline" if workers == 1 or chunks <= 1 else "pool"


def _progress_bar(total: int, initial: int, progress: bool | None, stream: IO[str] | None, escalated: int) -> tqdm:
    """The sweep's progress line. When nothing is left to compute (``initial == total``: the store
    held every chunk) it is drawn once, now, and closing it draws nothing more (tqdm would draw
    the same final frame again when closed)."""
    stream = sys.stderr if stream is None else stream
    enabled = progress if progress is not None else bool(getattr(stream, "isatty", lambda: False)())
    finished = initial >= total
    bar = tqdm(total=total, initial=initial, unit=" lanes", mininterval=1.0, file=stream, disable=not enabled,
               bar_format="sweep: {n}/{total} lanes ({percentage:.0f}%){postfix}, {rate_fmt}, ETA {remaining}",
               postfix=f"{escalated} escalated", delay=math.inf if finished else 0)
    if finished and not bar.disable:  # delay=inf: tqdm itself never draws (nor closes) this line
        bar.refresh()
        stream.write("\n")
    return bar


def _close_bar(bar: tqdm) -> None:
    """End the progress line. When its final frame is drawn already, closing only ends the line:
    tqdm would draw that frame again, which a log (not a terminal) shows twice."""
    if bar.n == getattr(bar, "last_print_n", None):
        bar.display = lambda *args, **kwargs: True
    bar.close()


def _summary_line(resumed: list[Range], computed: list[Range], corrupt: list[Range], restarts: int) -> str:
    """What a sweep with a store did: chunks loaded from it, chunks computed (and why, if not new)."""
    line = f"sweep: {len(resumed) + len(computed)} chunks: {len(resumed)} from the store, {len(computed)} computed"
    if corrupt:
        line += f" ({len(corrupt)} of them corrupt in the store)"
    if restarts:
        line += f"; workers lost {restarts} time{'s' if restarts > 1 else ''}, unfinished chunks run again"
    return line


def run_chunks(
    task: Callable[[int, int], ChunkOutput],
    n: int,
    fold: Any,
    *,
    chunk_size: int,
    store: ChunkStore | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = DEFAULT_RETRIES,
    progress: bool | None = None,
    progress_stream: IO[str] | None = None,
    code: Any = None,
    on_chunk: Callable[[int], None] | None = None,
    resume: bool = True,
) -> SweepRun:
    """Lanes ``0 .. n - 1`` through ``task`` in chunks of ``chunk_size``, folded with ``fold``;
    see the module doc.

    ``executor``: ``"inline"``, ``"pool"`` or ``"dask"`` (default: see :func:`choose_executor`);
    ``scheduler``: a dask scheduler address (``tcp://host:8786``); ``workers``: local worker
    processes (default every core); ``code``: the code identity remote workers must match
    (default: the store key's); ``on_chunk(done)``: called in the driver with the number of lanes
    done so far (resumed ones included) whenever a chunk is folded; ``resume=False``: compute every
    chunk, ignoring (and overwriting) what the store holds.
    """
    t0 = time.perf_counter()
    _positive("lanes", n, 0)
    _positive("chunk_size", chunk_size)
    _positive("retries", retries, 0)
    workers = default_workers() if workers is None else _positive("workers", workers)
    acc = fold.empty()
    escalated = 0
    resumed: list[Range] = []
    corrupt: list[Range] = []
    if store is not None and resume:
        for a, b in choose_tiling(n, store.ranges()):
            try:
                out = store.get(a, b)
            except KeyError:  # corrupt: warned and set aside by the store
                corrupt.append((a, b))
                continue
            if not isinstance(out, ChunkOutput):
                warnings.warn(f"store {store.path}: lanes {a}..{b - 1} hold a {type(out).__name__}, "
                              f"not a chunk output; recomputed", stacklevel=2)
                corrupt.append((a, b))
                continue
            acc = fold.merge(acc, out.value)
            escalated += out.escalated
            resumed.append((a, b))
    todo = gaps(n, chunk_size, resumed)
    kind = choose_executor(executor, scheduler, workers, len(todo))
    computed: list[Range] = []
    restarts = 0
    lanes_resumed = sum(b - a for a, b in resumed)
    bar = _progress_bar(n, lanes_resumed, progress, progress_stream, escalated)
    shown = not bar.disable
    done = lanes_resumed
    if on_chunk is not None and done:
        on_chunk(done)
    ex: Any = None
    finished = False  # every chunk in: the executor may stay warm
    with stop_on_signals():
        try:
            if todo:
                if kind == "inline":
                    ex = Inline(task)
                elif kind == "pool":
                    ex = Pool(task, workers)
                else:
                    ex = Dask(task, workers, scheduler, code if code is not None else
                              (store.key.code if store is not None else None), allowed_failures=retries)
            pending = list(todo)
            while pending:
                try:
                    for r, out in ex.run(list(pending)):
                        if not isinstance(out, ChunkOutput):
                            raise InvalidArgument("task", type(out).__name__, "must return a ChunkOutput")
                        if store is not None:
                            store.put(r[0], r[1], out)
                        acc = fold.merge(acc, out.value)
                        escalated += out.escalated
                        computed.append(r)
                        pending.remove(r)
                        bar.set_postfix_str(f"{escalated} escalated", refresh=False)
                        bar.update(r[1] - r[0])
                        done += r[1] - r[0]
                        if on_chunk is not None:
                            on_chunk(done)
                except WorkersLost as exc:
                    restarts += 1
                    if restarts > retries:
                        raise SweepFailed(f"workers kept dying ({exc}); gave up after {retries} retries with "
                                          f"{len(pending)} chunks left" + _kept(store)) from None
                    warnings.warn(f"{exc}; running the {len(pending)} unfinished chunks again", stacklevel=2)
                    ex.restart()
            finished = True
        except (Interrupted, KeyboardInterrupt) as exc:
            signum = exc.signum if isinstance(exc, Interrupted) else int(SIGINT)
            if ex is not None:
                ex.close(kill=True)
                ex = None
            raise SweepInterrupted(signum, f"stopped by {Signals(signum).name}: workers stopped, staging removed; "
                                           f"{len(computed)} of {len(todo)} chunks computed" +
                                   _kept(store)) from None
        finally:
            if ex is not None:  # a local pool that finished stays warm for this process's next sweep
                ex.close(kill=not finished)
            _close_bar(bar)
    if shown and store is not None:
        stream = sys.stderr if progress_stream is None else progress_stream
        print(_summary_line(resumed, computed, corrupt, restarts), file=stream, flush=True)
    return SweepRun(fold.finish(acc), n, escalated, tuple(sorted(computed)), tuple(resumed), tuple(corrupt),
                    restarts, kind, ex.workers if ex is not None else workers, time.perf_counter() - t0)


def _kept(store: ChunkStore | None) -> str:
    if store is None:
        return "; nothing was kept (no store)"
    # what is on disk, not what this loop has counted: a signal may land between a chunk's write and its count
    held = store.ranges()
    lanes = sum(b - a for a, b in held)
    return (f"; the store {store.path} keeps {len(held)} chunks ({lanes:,} lanes): "
            f"run again to resume")
