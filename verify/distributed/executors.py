"""Where chunks run: in this process, in a local process pool, or on dask.distributed.

Each executor runs a picklable ``task(start, stop)`` over a list of ranges and yields
``(range, output)`` as chunks finish (in any order). The task is built once per worker, not
once per chunk: the pool's chunks carry it pickled (a few hundred bytes) and each worker
unpickles it at its first chunk of the sweep (the pool stays warm for the process's next sweep,
see :class:`Pool`); dask holds it as one task whose result every chunk depends on (so a worker
that joins later, or replaces a dead one, fetches it, and the scheduler can recompute it if its
holder dies).

Faults:

* a worker that dies makes :meth:`run` raise :class:`WorkersLost` (the pool breaks and is
  rebuilt; dask gives up on a chunk only after ``allowed_failures`` deaths while running it,
  replacing dead local workers through its nannies meanwhile); the runner then submits the
  chunks not yet finished again;
* :meth:`close` with ``kill=True`` stops the workers now (the pool's processes are terminated,
  dask's local cluster is closed; on a remote cluster our chunks are cancelled, the workers
  stay up); without it, a local pool stays warm and idle for the process's next sweep;
* if the driver dies without cleaning up (SIGKILL), pool workers notice within
  :data:`WATCH_SECONDS` that their parent changed and exit; dask's nannies and workers exit
  when their parent's pipe closes (``distributed.process``). No orphan survives either way.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import itertools
import logging
import os
import pickle
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures import process as _pool_module
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import connection as mp_connection
from typing import Any

from verify.errors import InvalidArgument

Range = tuple[int, int]
Task = Callable[[int, int], Any]
WATCH_SECONDS = 0.25
EXECUTORS = ("inline", "pool", "dask")


class WorkersLost(Exception):
    """Workers died while running chunks; the chunks not reported finished must run again."""


class Inline:
    """Chunks one after another in this process (one worker, or a single chunk)."""

    name = "inline"

    def __init__(self, task: Task) -> None:
        self.task = task
        self.workers = 1

    def run(self, ranges: Sequence[Range]) -> Iterator[tuple[Range, Any]]:
        for a, b in ranges:
            yield (a, b), self.task(a, b)

    def restart(self) -> None:
        pass

    def close(self, kill: bool = False) -> None:
        pass


# -- local process pool ---------------------------------------------------------------------------

_TASK: Task | None = None


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        if os.getppid() != parent:  # the driver died without stopping us: do not outlive it
            os._exit(1)


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def _retain_freed_memory() -> None:
    """glibc's malloc in this (worker) process: allocations up to 64 MiB come from the heap, and freed
    heap memory is kept (returned to the system only beyond 512 MiB), so a chunk reuses the pages of
    the chunk before instead of faulting fresh ones in. Measured on a 1,024-lane chunk of paper A:
    2,000-4,000 page faults and 3-15 ms of system time in 25-40 ms without, about 20 faults and no
    system time with. A worker's memory stays at its largest chunk's. A no-op without glibc."""
    try:
        libc = ctypes.CDLL(None)  # this process's own symbols (find_library would run ldconfig: 2 ms)
        libc.mallopt(M_MMAP_THRESHOLD, 64 << 20)
        libc.mallopt(M_TRIM_THRESHOLD, 512 << 20)
    except (OSError, AttributeError):  # not glibc (macOS, musl without mallopt): keep the defaults
        pass


def _pool_worker_init(task: Task | None) -> None:
    global _TASK
    _TASK = task
    _retain_freed_memory()
    # The objects inherited from the driver are never freed here: keep the cyclic GC off them
    # (scanning them touches every page; measured 1.2-2.4x slower chunks with a large driver heap).
    gc.freeze()
    # Ctrl-C reaches the whole process group: the driver decides, and terminates us itself;
    # SIGTERM (how the driver does that) ends us at once, whatever handler the fork inherited
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True, name="verify-watch-parent").start()


def _pool_call(start: int, stop: int) -> Any:
    assert _TASK is not None
    return _TASK(start, stop)


_SWEEP_TASKS: dict[int, Task] = {}  # in a warm worker: the task of the sweep it serves, by token


def _pool_call_sweep(token: int, blob: bytes, start: int, stop: int) -> Any:
    """A chunk in a warm worker: the sweep's task is unpickled at its first chunk here, then kept."""
    task = _SWEEP_TASKS.get(token)
    if task is None:
        _SWEEP_TASKS.clear()
        task = _SWEEP_TASKS[token] = pickle.loads(blob)
    return task(start, stop)


_WARM: dict[tuple[int, int], tuple[ProcessPoolExecutor, int]] = {}  # (pid, workers) -> (idle pool, generation)
_GENERATION = 0  # bumped when this process loads code its pools' workers did not inherit
_TOKENS = itertools.count(1)


def new_code_loaded() -> None:
    """Say that this process has loaded code (e.g. compiled kernels) since its warm pools forked: the
    next sweep forks fresh workers, which inherit it, instead of loading it again in each worker."""
    global _GENERATION
    _GENERATION += 1


def close_warm_pools() -> int:
    """Stop this process's idle warm pools now (their workers' memory is freed); the next sweep forks
    afresh. Returns how many were stopped."""
    mine = [key for key in _WARM if key[0] == os.getpid()]
    for key in mine:
        _stop_executor(_WARM.pop(key)[0])
    return len(mine)


def _intact(pool: ProcessPoolExecutor) -> bool:
    """Whether an idle pool can take a sweep: not broken, and no worker exited (a worker that died
    while idle may not be noticed by the pool yet; its sentinel, the pipe the pool's manager waits
    on too, is ready as soon as it exits, and reading it reaps nothing)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    if getattr(pool, "_broken", False) or not processes:
        return False
    return not mp_connection.wait([p.sentinel for p in processes], timeout=0)


def _stop_executor(pool: ProcessPoolExecutor) -> None:
    """Terminate a pool's processes now and join them and its manager thread (see :meth:`Pool.close`)."""
    processes = dict(getattr(pool, "_processes", None) or {})  # no public handles before 3.14
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes.values():
        with contextlib.suppress(Exception):
            p.terminate()
    deadline = time.monotonic() + 5
    for p in processes.values():
        p.join(max(deadline - time.monotonic(), 0.1))
        if p.is_alive():
            p.kill()
            p.join(1)
    _join_manager(manager)


class Pool:
    """A :class:`~concurrent.futures.ProcessPoolExecutor` of ``workers`` processes (forked on Linux,
    so they inherit the compiled kernels), kept warm between the sweeps of this process.

    A sweep that ends normally (:meth:`close` without ``kill``) leaves its idle pool for the next
    sweep, which sends its own task with its chunks (pickled once; each worker unpickles it at its
    first chunk): no fork and no first-touch page faults again (measured 25-45 ms of a 150-180 ms
    sweep of 10,000 paper-A inits). A pool is started afresh instead after a fault, when this
    process has loaded code since it forked (:func:`new_code_loaded`: the kernels of a new network
    shape, which fresh workers inherit), and for a task that cannot be pickled (which is then
    handed to fresh workers at fork). ``close(kill=True)`` (a signal, an error, lost workers) stops
    the workers now. Idle workers cost no CPU; at interpreter exit Python's own exit handler shuts
    idle pools down, and a worker whose driver died exits by itself (:data:`WATCH_SECONDS`).
    """

    name = "pool"

    def __init__(self, task: Task, workers: int) -> None:
        self.task, self.workers = task, workers
        self._key = (os.getpid(), workers)
        try:
            self._blob: bytes | None = pickle.dumps(task)
        except Exception:  # not picklable: handed to fresh workers at fork, never kept warm
            self._blob = None
        self._token = next(_TOKENS)
        self._pool = self._acquire()

    def _acquire(self) -> ProcessPoolExecutor:
        warm = _WARM.pop(self._key, None)
        if warm is not None:
            pool, generation = warm
            if self._blob is not None and generation == _GENERATION and _intact(pool):
                self._generation = generation
                return pool
            _stop_executor(pool)
        return self._start()

    def _start(self) -> ProcessPoolExecutor:
        self._generation = _GENERATION
        task = None if self._blob is not None else self.task
        return ProcessPoolExecutor(max_workers=self.workers, initializer=_pool_worker_init, initargs=(task,))

    def _submit(self, start: int, stop: int) -> Any:
        if self._blob is None:
            return self._pool.submit(_pool_call, start, stop)
        return self._pool.submit(_pool_call_sweep, self._token, self._blob, start, stop)

    def run(self, ranges: Sequence[Range]) -> Iterator[tuple[Range, Any]]:
        futures: dict = {}
        try:
            for a, b in ranges:  # submitting fails too once the pool is broken
                futures[self._submit(a, b)] = (a, b)
            for future in as_completed(list(futures)):
                r = futures.pop(future)
                out = future.result()
                yield r, out
        except BrokenProcessPool as exc:
            raise WorkersLost(f"a worker process died ({exc})") from None
        finally:
            for future in futures:
                future.cancel()

    def restart(self) -> None:
        self.close(kill=True)
        self._pool = self._start()

    def close(self, kill: bool = False) -> None:
        """Without ``kill``: keep the idle pool for this process's next sweep (see the class doc),
        unless its task could not be pickled or it is no longer intact. With ``kill``, or then:
        terminate its processes now (without waiting for their chunks) and join them.

        Either way no manager thread is left half torn down: after a kill it is joined before this
        returns. Otherwise it may still be tearing the broken pool down (closing its wake-up pipe)
        when the interpreter exits and ``concurrent.futures.process._python_exit`` writes to that
        pipe: a race in CPython < 3.12 that printed "Exception ignored in threading._shutdown ...
        OSError: [Errno 9] Bad file descriptor" at exit. A warm pool's manager thread is idle, and
        that exit handler shuts it down cleanly.
        """
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if not kill and self._blob is not None and _intact(pool):
            previous = _WARM.pop(self._key, None)
            if previous is not None:  # another sweep's pool (sweeps at once): one stays warm
                _stop_executor(previous[0])
            _WARM[self._key] = (pool, self._generation)
            return
        _stop_executor(pool)


def _join_manager(manager: threading.Thread | None, timeout: float = 10.0) -> None:
    """Wait for a pool's manager thread to finish, then drop it from the table that
    ``_python_exit`` wakes at interpreter exit (its wake-up pipe is closed by then)."""
    if manager is None:
        return
    manager.join(timeout)
    if not manager.is_alive():
        with contextlib.suppress(Exception):
            _pool_module._threads_wakeups.pop(manager, None)


# -- dask.distributed -----------------------------------------------------------------------------

@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored in this block, if this is the main thread (an ignored signal stays ignored
    in processes started meanwhile, and Python and asyncio then install no handler of their own)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _identity(x: Any) -> Any:
    return x


def _dask_call(task: Task, code: dict[str, Any] | None, start: int, stop: int) -> Any:
    if code is not None:
        _check_code(code)
    return task(start, stop)


def _check_code(expected: dict[str, Any]) -> None:
    """Refuse to compute in a worker whose code differs from the driver's (cached per process)."""
    from verify.store.key import current_code

    mine = current_code(tuple(expected["modules"])).to_dict()
    if mine != expected:
        diff = sorted(k for k in expected if mine.get(k) != expected[k])
        raise InvalidArgument("workers", f"{socket.gethostname()}:{os.getpid()}",
                              f"run other code than the driver (differs in {', '.join(diff)}); "
                              f"install the same verify version and sources on every worker")


class Dask:
    """A dask.distributed client: on a :class:`~distributed.LocalCluster` of ``workers`` processes
    (one thread each), or on the cluster of ``scheduler`` (``tcp://host:8786``).

    ``code`` (a :class:`~verify.store.key.CodeIdentity`): every worker must run the same code
    (a stored chunk must not come from other code); each worker checks it before its first chunk,
    so a worker that joins the cluster later is checked too.
    """

    name = "dask"

    def __init__(self, task: Task, workers: int, scheduler: str | None = None, code: Any = None,
                 allowed_failures: int = 3, connect_timeout: float = 10.0) -> None:
        import dask
        from distributed import Client, LocalCluster

        from verify.distributed.dask_plugins import IgnoreInterrupts

        if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
            raise InvalidArgument("scheduler", scheduler, "must be an address like tcp://host:8786")
        self.cluster: Any = None
        self.client: Any = None
        self.scheduler = scheduler
        try:
            # The scheduler gives a chunk up (KilledWorker) after this many worker deaths while it ran;
            # this sets it for a local cluster (its scheduler lives here), a remote one keeps its own.
            with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
                if scheduler is None:
                    # ":0": the scheduler's HTTP server on a free port (two sweeps at once do not clash)
                    with _sigint_ignored():  # inherited by the worker processes: Ctrl-C is for the driver
                        self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                    dashboard_address=":0", silence_logs=logging.ERROR)
                    self.client = Client(self.cluster)
                    self.client.register_plugin(IgnoreInterrupts())  # and by the ones replacing dead workers
                else:
                    try:
                        self.client = Client(scheduler, timeout=connect_timeout)
                    except (OSError, TimeoutError) as exc:
                        raise InvalidArgument("scheduler", scheduler, f"is not reachable ({exc})") from None
            self.workers = len(self.client.scheduler_info().get("workers", {})) or workers
            self._code = code.to_dict() if code is not None else None
            self._task = self.client.submit(_identity, task, pure=False)
        except BaseException:  # a signal during start-up included: nothing half-started stays behind
            self.close(kill=True)
            raise

    def run(self, ranges: Sequence[Range]) -> Iterator[tuple[Range, Any]]:
        from distributed import as_completed as dask_completed
        from distributed.scheduler import KilledWorker

        futures = {self.client.submit(_dask_call, self._task, self._code, a, b, pure=False): (a, b)
                   for a, b in ranges}
        try:
            for future in dask_completed(list(futures)):
                r = futures.pop(future)
                try:
                    out = future.result()
                except KilledWorker as exc:
                    raise WorkersLost(f"workers died running lanes {r[0]}..{r[1] - 1} ({exc})") from None
                except Exception:
                    if self._task.status == "error":  # the task itself could not be loaded there
                        raise InvalidArgument("scheduler", self.scheduler or "local",
                                              f"could not load the sweep's task ({self._task.exception()!r}); the "
                                              f"scheduler and workers need the driver's packages") from None
                    raise
                future.release()
                yield r, out
        finally:
            if futures:
                with contextlib.suppress(Exception):
                    self.client.cancel(list(futures))

    def restart(self) -> None:
        pass  # the nannies have replaced dead local workers; remote ones are the cluster's business

    def close(self, kill: bool = False) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close(timeout=5)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=10)
