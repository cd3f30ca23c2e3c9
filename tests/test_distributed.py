"""The sweep runner: chunk plans, results independent of executor and chunking, resume from a store,
the real engine (paper A) against the existing sweep, progress, schedulers."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.sweep_tasks import (
    Faults,
    PaperATask,
    PidTask,
    ToyTask,
    computations,
    lane_facts,
    paper_a_fold,
    paper_a_spec,
    toy_fold,
    toy_value,
)
from verify.distributed import (
    ChunkOutput,
    Collect,
    choose_executor,
    choose_tiling,
    fold_lanes,
    gaps,
    run_chunks,
)
from verify.dynamics.sweep import sweep
from verify.errors import InvalidArgument
from verify.init.schemes import sample_inits
from verify.store import ChunkStore, current_code, store_key

REPO = Path(__file__).resolve().parents[1]
TOY_LANES = 120


def toy_expected():
    fold = toy_fold()
    return fold.finish(fold_lanes(fold, ((i, toy_value(i)) for i in range(TOY_LANES))))


def toy_store(root: Path, task: str = "test:toy") -> ChunkStore:
    return ChunkStore.open(root, store_key(task, "0" * 16, ("tests.sweep_tasks",)), {"lanes": TOY_LANES})


# -- plans ---------------------------------------------------------------------------------------------

@given(n=st.integers(0, 200), chunk=st.integers(1, 50),
       stored=st.lists(st.tuples(st.integers(0, 220), st.integers(1, 60)).map(lambda t: (t[0], t[0] + t[1])),
                       max_size=10))
def test_stored_chunks_and_gaps_tile_the_lanes_exactly(n, chunk, stored):
    reused = choose_tiling(n, stored)
    todo = gaps(n, chunk, reused)
    covered = sorted(reused + todo)
    ends = [0] + [b for _, b in covered]
    assert [a for a, _ in covered] == ends[:-1] and ends[-1] == n  # contiguous from 0 to n, no overlap
    assert all(a < b for a, b in covered) and all(r in stored for r in reused)
    assert all(a // chunk == (b - 1) // chunk for a, b in todo)  # a gap never crosses a grid line
    if not stored:
        assert todo == [(a, min(a + chunk, n)) for a in range(0, n, chunk)]


def test_executor_choice_and_its_errors():
    assert choose_executor(None, None, 2, 5) == "pool"
    assert choose_executor(None, None, 1, 5) == "inline"
    assert choose_executor(None, None, 2, 1) == "inline"
    assert choose_executor(None, "tcp://h:8786", 2, 5) == "dask"
    with pytest.raises(InvalidArgument, match="^executor='threads' must be one of"):
        choose_executor("threads", None, 2, 5)
    with pytest.raises(InvalidArgument, match="^executor='pool' must be 'dask' when a scheduler is given"):
        choose_executor("pool", "tcp://h:8786", 2, 5)


@pytest.mark.parametrize(("name", "value"), [("chunk_size", 0), ("workers", 0), ("retries", -1), ("lanes", -1)])
def test_bad_runner_arguments_name_their_field(name, value):
    kwargs = {"chunk_size": 10, "workers": 1, "retries": 1, name: value}
    n = value if name == "lanes" else 10
    kwargs.pop("lanes", None)
    with pytest.raises(InvalidArgument, match=f"^{name}={value} must be"):
        run_chunks(ToyTask(toy_fold()), n, toy_fold(), **kwargs)


# -- results independent of how they were computed -------------------------------------------------------

@pytest.mark.parametrize(("executor", "workers", "chunk"), [("inline", 1, 7), ("pool", 2, 13), ("dask", 2, 25)])
def test_same_result_on_every_executor_and_chunking(executor, workers, chunk):
    run = run_chunks(ToyTask(toy_fold()), TOY_LANES, toy_fold(), chunk_size=chunk, executor=executor,
                     workers=workers, progress=False)
    assert repr(run.value) == repr(toy_expected())
    assert run.executor == executor and run.escalated == sum(toy_value(i)[2] for i in range(TOY_LANES))
    assert sorted(run.computed) == gaps(TOY_LANES, chunk, []) and run.resumed == ()


def test_resume_computes_exactly_the_missing_chunks(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    store = toy_store(tmp_path / "store")
    task = ToyTask(toy_fold(), Faults(markers=str(markers)))
    first = run_chunks(task, TOY_LANES, task.fold, chunk_size=20, store=store, executor="inline")
    assert computations(markers) == {r: 1 for r in gaps(TOY_LANES, 20, [])}
    for r in [(20, 40), (100, 120)]:
        store.discard(*r)
    again = run_chunks(task, TOY_LANES, task.fold, chunk_size=20, store=store, executor="pool", workers=2)
    assert again.computed == ((20, 40), (100, 120)) and len(again.resumed) == 4
    assert computations(markers) == {r: 1 + (r in again.computed) for r in gaps(TOY_LANES, 20, [])}
    assert repr(again.value) == repr(first.value) == repr(toy_expected())
    assert again.escalated == first.escalated
    # a third run with another chunk size reuses every stored chunk and computes nothing
    third = run_chunks(task, TOY_LANES, task.fold, chunk_size=7, store=store, executor="inline")
    assert third.computed == () and repr(third.value) == repr(first.value)


def test_resume_with_another_chunk_size_fills_the_gaps_on_its_grid(tmp_path):
    store = toy_store(tmp_path)
    task = ToyTask(toy_fold())
    run_chunks(task, TOY_LANES, task.fold, chunk_size=30, store=store, executor="inline")
    store.discard(30, 60)
    run = run_chunks(task, TOY_LANES, task.fold, chunk_size=8, store=store, executor="inline")
    assert run.computed == ((30, 32), (32, 40), (40, 48), (48, 56), (56, 60))
    assert repr(run.value) == repr(toy_expected())


def test_a_failing_task_raises_its_error_and_keeps_what_finished(tmp_path):
    store = toy_store(tmp_path)
    task = BrokenAfter(60, ToyTask(toy_fold()))
    with pytest.raises(ZeroDivisionError):
        run_chunks(task, TOY_LANES, task.fold, chunk_size=20, store=store, executor="inline")
    assert store.ranges() == [(0, 20), (20, 40), (40, 60)]


class BrokenAfter:
    def __init__(self, start: int, task: ToyTask) -> None:
        self.start, self.task, self.fold = start, task, task.fold

    def __call__(self, a: int, b: int) -> ChunkOutput:
        if a >= self.start:
            raise ZeroDivisionError(f"lanes {a}..{b - 1}")
        return self.task(a, b)


def not_a_chunk_output(a: int, b: int) -> list:
    return [a, b]


def test_a_task_must_return_chunk_outputs():
    with pytest.raises(InvalidArgument, match="^task='list' must return a ChunkOutput"):
        run_chunks(not_a_chunk_output, 10, Collect(), chunk_size=5, executor="inline")


# -- the real engine ---------------------------------------------------------------------------------

PAPER_A_LANES, PAPER_A_STEPS = 48, 120


@pytest.fixture(scope="module")
def paper_a_reference():
    """The existing sweep (verify.dynamics.sweep.sweep) on the same inits, reduced the same way."""
    spec = paper_a_spec(PAPER_A_STEPS)
    inits = sample_inits(spec.problem.network, "he", 0, PAPER_A_LANES)
    result = sweep(spec, inits, lane_facts, workers=1)
    fold = paper_a_fold()
    return fold.finish(fold_lanes(fold, enumerate(result.values)))


@pytest.mark.parametrize(("executor", "chunk"), [("inline", 48), ("pool", 10),
                                                 pytest.param("dask", 16, marks=pytest.mark.slow)])
def test_real_engine_matches_the_existing_sweep(paper_a_reference, executor, chunk):
    task = PaperATask(PAPER_A_STEPS, paper_a_fold())
    run = run_chunks(task, PAPER_A_LANES, task.fold, chunk_size=chunk, executor=executor, workers=2)
    assert repr(run.value) == repr(paper_a_reference)
    lanes = run.value["lanes"]
    assert len(lanes) == PAPER_A_LANES and all(f[2] == "complete" for f in lanes)
    assert run.escalated == sum(f[1] is not None for f in lanes)
    assert sum(run.value["engines"].values()) == PAPER_A_LANES


# -- progress ------------------------------------------------------------------------------------------

class Slow:
    def __init__(self, seconds: float) -> None:
        self.seconds, self.fold = seconds, toy_fold()

    def __call__(self, a: int, b: int) -> ChunkOutput:
        time.sleep(self.seconds)
        return ToyTask(self.fold)(a, b)


def test_progress_shows_lanes_escalated_and_eta_at_most_once_a_second():
    out = io.StringIO()
    t0 = time.monotonic()
    run_chunks(Slow(0.03), TOY_LANES, toy_fold(), chunk_size=2, executor="inline", progress=True,
               progress_stream=out)
    elapsed = time.monotonic() - t0
    frames = [f for f in re.split(r"[\r\n]", out.getvalue()) if f.strip()]
    assert frames, "no progress shown"
    assert 2 <= len(frames) <= elapsed + 3  # start, one per second at most, the end
    last = [f for f in frames if "escalated" in f][-1]
    assert re.fullmatch(r"sweep: 120/120 lanes \(100%\), 11 escalated, [\d.]+ lanes/s, ETA 00:00", last), last
    assert re.search(r"sweep: \d+/120 lanes \(\d+%\), \d+ escalated, [\d.?]+ lanes/s, ETA [\d:?]+", frames[1])


def test_the_final_progress_frame_is_written_once_in_a_log():
    """Chunks slower than the one-second redraw interval: the last update draws the final frame,
    and closing the line must not draw it again (a log keeps every frame)."""
    out = io.StringIO()
    run_chunks(Slow(1.05), 4, toy_fold(), chunk_size=2, executor="inline", progress=True, progress_stream=out)
    frames = [f for f in re.split(r"[\r\n]", out.getvalue()) if f.strip()]
    final = [f for f in frames if f.startswith("sweep: 4/4 lanes (100%)")]
    assert len(final) == 1, frames
    assert out.getvalue().endswith("\n")


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_unless_asked():
    quiet, tty = io.StringIO(), FakeTTY()
    for stream in (quiet, tty):
        run_chunks(ToyTask(toy_fold()), TOY_LANES, toy_fold(), chunk_size=10, executor="inline",
                   progress_stream=stream)
    assert quiet.getvalue() == "" and "lanes" in tty.getvalue()
    silenced = FakeTTY()
    run_chunks(ToyTask(toy_fold()), TOY_LANES, toy_fold(), chunk_size=10, executor="inline", progress=False,
               progress_stream=silenced)
    assert silenced.getvalue() == ""


# -- dask schedulers -------------------------------------------------------------------------------------

def test_scheduler_address_errors_are_one_line():
    with pytest.raises(InvalidArgument, match="^scheduler='localhost:8786' must be an address like tcp://"):
        run_chunks(ToyTask(toy_fold()), 10, toy_fold(), chunk_size=5, scheduler="localhost:8786")
    from verify.distributed.executors import Dask

    t0 = time.monotonic()
    with pytest.raises(InvalidArgument, match=r"^scheduler='tcp://127.0.0.1:9' is not reachable") as err:
        Dask(ToyTask(toy_fold()), 1, "tcp://127.0.0.1:9", connect_timeout=2)
    assert "\n" not in str(err.value) and time.monotonic() - t0 < 30


def test_a_worker_refuses_to_run_other_code_than_the_driver():
    from verify.distributed.executors import _check_code

    code = current_code(("tests.sweep_tasks",))
    _check_code(code.to_dict())
    other = type(code)(code.version, "f" * 64, code.modules, code.libraries)
    with pytest.raises(InvalidArgument, match=r"^workers='.*:\d+' run other code than the driver \(differs in so"):
        _check_code(other.to_dict())


@pytest.mark.slow
def test_workers_running_other_code_are_refused(tmp_path):
    store = toy_store(tmp_path)
    code = store.key.code
    other = type(code)(code.version, "f" * 64, code.modules, code.libraries)
    with pytest.raises(InvalidArgument, match=r"^workers='.*:\d+' run other code than the driver \(differs in so"):
        run_chunks(ToyTask(toy_fold()), TOY_LANES, toy_fold(), chunk_size=30, executor="dask", workers=1, code=other)


@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and a worker started with dask's own commands, as on a real cluster."""
    dask = shutil.which("dask", path=str(Path(sys.executable).parent))
    if dask is None:
        pytest.skip("the dask command is not installed")
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # the scheduler and workers load the tasks from tests/
    procs = [subprocess.Popen([dask, "scheduler", "--port", "0", "--no-dashboard", "--scheduler-file",
                               str(scheduler_file)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1",
                                       "--no-dashboard"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(15)


def test_a_sweep_on_a_cluster_named_by_its_scheduler(dask_cluster, tmp_path):
    store = toy_store(tmp_path)
    run = run_chunks(ToyTask(toy_fold()), TOY_LANES, toy_fold(), chunk_size=15, store=store,
                     scheduler=dask_cluster)
    assert run.executor == "dask" and repr(run.value) == repr(toy_expected())
    assert store.verify().lanes == TOY_LANES


def test_a_killed_pool_leaves_no_manager_thread_for_the_exit_handler():
    """After ``close(kill=True)`` the pool's manager thread has finished and is no longer in the table
    ``concurrent.futures.process._python_exit`` writes to at interpreter exit (a write to its closed
    wake-up pipe raced with the teardown: "OSError: [Errno 9] Bad file descriptor" in the log)."""
    from concurrent.futures import process as pool_module

    from verify.distributed.executors import Pool

    pool = Pool(ToyTask(toy_fold()), 2)
    assert [r for r, _ in pool.run([(0, 10), (10, 20)])]
    manager = pool._pool._executor_manager_thread  # started by the first submit
    assert manager in pool_module._threads_wakeups
    pool.close(kill=True)
    assert not manager.is_alive()
    assert manager not in pool_module._threads_wakeups


# -- the warm pool ---------------------------------------------------------------------------------

RANGES = [(i, i + 1) for i in range(8)]


def _run(pool) -> list:
    return [out.value for _, out in pool.run(RANGES)]


def _gone(pids: set[int], timeout: float = 10) -> bool:
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids):
            return True
        time.sleep(0.05)
    return False


def test_a_finished_pool_serves_the_next_sweep_with_its_own_task():
    """``close()`` keeps the idle pool: the next sweep runs on the same processes, with its task;
    ``close_warm_pools`` stops it."""
    from verify.distributed.executors import Pool, close_warm_pools

    first = Pool(PidTask("first"), 2)
    one = _run(first)
    executor, pids = first._pool, set(first._pool._processes)
    first.close()
    second = Pool(PidTask("second"), 2)
    assert second._pool is executor
    two = _run(second)
    second.close(kill=True)
    assert {v[1] for v in one} == {"first"} and {v[1] for v in two} == {"second"}
    assert {v[0] for v in one} | {v[0] for v in two} <= pids
    assert sorted(v[2:] for v in two) == RANGES
    assert _gone(pids)  # killed: stopped now, and nothing stays warm
    third = Pool(PidTask("third"), 2)
    assert third._pool is not executor
    _run(third)
    pids = set(third._pool._processes)
    third.close()
    assert close_warm_pools() >= 1 and _gone(pids) and close_warm_pools() == 0


def test_a_pool_is_forked_afresh_after_new_code_or_a_lost_worker():
    import signal as signals
    from multiprocessing.connection import wait

    from verify.distributed.executors import Pool, new_code_loaded

    pool = Pool(PidTask("a"), 2)
    _run(pool)
    executor, pids = pool._pool, set(pool._pool._processes)
    pool.close()
    new_code_loaded()  # kernels loaded since the fork: fresh workers inherit them
    fresh = Pool(PidTask("b"), 2)
    assert fresh._pool is not executor and _gone(pids)
    _run(fresh)
    victim = min(fresh._pool._processes)
    sentinel = fresh._pool._processes[victim].sentinel  # ready once the process has wholly exited
    fresh.close()
    os.kill(victim, signals.SIGKILL)  # a warm worker dies while the pool is idle
    assert wait([sentinel], timeout=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # noticed before the sweep: a fresh pool, no chunk lost and run again
        run = run_chunks(ToyTask(toy_fold()), 40, toy_fold(), chunk_size=10, executor="pool", workers=2)
    expected = run_chunks(ToyTask(toy_fold()), 40, toy_fold(), chunk_size=10, executor="inline")
    assert repr(run.value) == repr(expected.value) and run.restarts == 0


def test_a_task_that_cannot_be_pickled_gets_fresh_workers_and_is_not_kept():
    from verify.distributed.executors import _WARM, Pool

    tag = "closure"
    pool = Pool(lambda a, b: ChunkOutput((os.getpid(), tag, a, b)), 2)
    values = _run(pool)
    pids = set(pool._pool._processes)
    pool.close()
    assert {v[1] for v in values} == {tag} and _gone(pids)
    assert all(pids.isdisjoint(p._processes or {}) for p, _ in _WARM.values())


_REFAULTS = """
import resource, sys
import numpy as np
from verify.distributed.executors import _retain_freed_memory
if sys.argv[1] == "retain":
    _retain_freed_memory()
a = np.ones(4_000_000)  # 32 MB, freed, then the same again
del a
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
b = np.ones(4_000_000)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_pool_workers_reuse_freed_memory_instead_of_faulting_it_in_again():
    """A chunk's arrays, freed, serve the next chunk: with ``_retain_freed_memory`` (pool workers)
    a second 32 MB array costs (almost) no page faults; without it, glibc returns the first to the
    system and the second faults its pages in again."""
    def refaults(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", _REFAULTS, mode], capture_output=True, text=True, check=True)
        return int(out.stdout)

    assert refaults("retain") < 20 < refaults("default")
