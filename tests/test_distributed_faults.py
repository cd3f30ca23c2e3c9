"""Faults: a worker killed, the driver killed, SIGTERM/SIGINT, a corrupt chunk, an unwritable store.

Each fault has a short version (runs by default, on the toy task or a small paper-A sweep) and a
long one marked ``slow`` (``python -m pytest -m slow``) running the real engine on every executor.
The driver is a separate process (``python -m tests.sweep_tasks``) wherever the driver itself is
killed or signalled; chunk computations are counted with marker files.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.sweep_tasks import (
    Faults,
    PaperATask,
    ToyTask,
    computations,
    marker_pids,
    paper_a_fold,
    toy_fold,
    toy_value,
)
from verify.distributed import SweepFailed, fold_lanes, gaps, run_chunks
from verify.errors import InvalidArgument
from verify.store import ChunkStore, CorruptChunkWarning, store_key
from verify.store.chunks import chunk_name

REPO = Path(__file__).resolve().parents[1]
slow = pytest.mark.slow


def toy_expected(lanes: int):
    fold = toy_fold()
    return fold.finish(fold_lanes(fold, ((i, toy_value(i)) for i in range(lanes))))


def wait_for(predicate, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_no_survivors(procs: list[psutil.Process], timeout: float = 15) -> None:
    """Every process in ``procs`` is gone within ``timeout`` seconds (orphans would live on)."""
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [(p.pid, " ".join(p.cmdline()[:4])) for p in procs if alive(p)]
    for p in procs:  # do not leave them behind even when the test fails
        if alive(p):
            p.kill()
    assert not survivors, f"processes outlived the driver: {survivors}"


class Driver:
    """A sweep driver in its own process (``python -m tests.sweep_tasks``)."""

    def __init__(self, tmp: Path, *, task: str = "toy", lanes: int = 120, chunk: int = 10, steps: int = 60,
                 executor: str = "pool", workers: int = 2, sleep: float = 0.0, store: Path | None = None,
                 session: bool = False, out: str = "out.pkl") -> None:
        self.tmp = tmp
        self.store = store if store is not None else tmp / "store"
        self.markers = tmp / "markers"
        self.markers.mkdir(exist_ok=True)
        self.out = tmp / out
        self.args = [sys.executable, "-m", "tests.sweep_tasks", "--task", task, "--lanes", str(lanes), "--chunk",
                     str(chunk), "--steps", str(steps), "--executor", executor, "--workers", str(workers),
                     "--store", str(self.store), "--markers", str(self.markers), "--out", str(self.out),
                     "--sleep", str(sleep)]
        self.log = tmp / f"driver-{len(list(tmp.glob('driver-*')))}.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(self.args, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=session)

    def stored(self) -> list[tuple[int, int]]:
        """The chunk ranges in the driver's store (none while the driver is still creating it)."""
        folders = [p for p in self.store.iterdir() if p.is_dir() and not p.name.startswith(".")] \
            if self.store.exists() else []
        out = []
        for folder in folders:
            try:
                out += ChunkStore.at(folder).ranges()
            except InvalidArgument:  # meta.json not written yet
                pass
        return sorted(out)

    def tree(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def wait(self, timeout: float = 120) -> tuple[int, str]:
        code = self.proc.wait(timeout)
        return code, self.log.read_text()

    def value(self):
        return pickle.loads(self.out.read_bytes())


def run_again(tmp: Path, resume_with: str | None = None, **kw) -> tuple[dict, Driver]:
    """Rerun the driver to completion on the same store (no sleeps; on ``resume_with`` if given, since
    a store does not care which executor filled it); its JSON facts."""
    kw.pop("sleep", None)
    if resume_with is not None:
        kw["executor"] = resume_with
    again = Driver(tmp, out="again.pkl", **kw)
    code, log = again.wait()
    assert code == 0, log
    return json.loads(log.strip().splitlines()[-1]), again


# -- a worker killed with SIGKILL mid-sweep ------------------------------------------------------------

def _worker_killed_mid_sweep(tmp: Path, executor: str, task_name: str) -> None:
    flag, markers = tmp / "killed", tmp / "markers"
    markers.mkdir()
    faults = Faults(markers=str(markers), kill_range=(40, 60), kill_flag=str(flag))
    if task_name == "toy":
        task, lanes = ToyTask(toy_fold(), faults), 120
        expected = toy_expected(lanes)
    else:
        task, lanes = PaperATask(80, paper_a_fold(), faults=faults), 100
        expected = run_chunks(PaperATask(80, paper_a_fold()), lanes, task.fold, chunk_size=20,
                              executor="inline").value
    store = ChunkStore.open(tmp / "store", store_key("test:kill", "0" * 16), {})
    with pytest.warns(UserWarning) if executor == "pool" else _nothing():
        run = run_chunks(task, lanes, task.fold, chunk_size=20, store=store, executor=executor, workers=2)
    assert flag.exists(), "the worker was not killed"
    assert repr(run.value) == repr(expected)
    assert store.verify().lanes == lanes
    started = computations(markers, "start")
    assert started[40, 60] >= 2 and computations(markers)[40, 60] == 1  # died once, finished once
    assert run.restarts == (1 if executor == "pool" else 0)  # dask's nannies replace the worker themselves


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("executor", ["pool", "dask"])
def test_worker_killed_mid_sweep_short(tmp_path, executor):
    _worker_killed_mid_sweep(tmp_path, executor, "toy")


@slow
@pytest.mark.parametrize("executor", ["pool", "dask"])
def test_worker_killed_mid_sweep_real_engine(tmp_path, executor):
    _worker_killed_mid_sweep(tmp_path, executor, "paper_a")


@slow
@pytest.mark.parametrize("executor", ["pool", "dask"])
def test_worker_killed_from_outside_mid_sweep(tmp_path, executor):
    """SIGKILL sent by another process to a worker busy with a chunk (no cooperation from the task)."""
    markers = tmp_path / "markers"
    markers.mkdir()
    lanes = 120
    task = PaperATask(60, paper_a_fold(), faults=Faults(markers=str(markers), sleep=0.3))
    expected = run_chunks(PaperATask(60, paper_a_fold()), lanes, task.fold, chunk_size=10, executor="inline").value
    killed: list[int] = []

    def killer() -> None:
        wait_for(lambda: len(computations(markers)) >= 2, what="two finished chunks")
        pid = sorted(marker_pids(markers))[-1]
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    thread = threading.Thread(target=killer)
    thread.start()
    with pytest.warns(UserWarning) if executor == "pool" else _nothing():
        run = run_chunks(task, lanes, task.fold, chunk_size=10, executor=executor, workers=2)
    thread.join()
    assert killed and repr(run.value) == repr(expected)


class AlwaysDies:
    """A task whose chunk 20..39 kills its worker every time."""

    def __init__(self) -> None:
        self.fold = toy_fold()

    def __call__(self, a: int, b: int):
        if a == 20:
            os.kill(os.getpid(), signal.SIGKILL)
        return ToyTask(self.fold)(a, b)


def test_workers_that_keep_dying_end_the_sweep_with_what_finished_kept(tmp_path):
    store = ChunkStore.open(tmp_path, store_key("test:dies", "0" * 16), {})
    with pytest.warns(UserWarning, match="a worker process died"):
        with pytest.raises(SweepFailed) as err:
            run_chunks(AlwaysDies(), 120, toy_fold(), chunk_size=20, store=store, executor="pool", workers=2,
                       retries=1)
    kept = store.ranges()
    assert (20, 40) not in kept and kept  # chunks queued in the broken pool are lost with it, finished ones kept
    assert re.fullmatch(rf"workers kept dying \(.*\); gave up after 1 retries with {6 - len(kept)} chunks left; "
                        rf"the store .* keeps {len(kept)} chunks \({20 * len(kept)} lanes\): run again to resume",
                        str(err.value))


# -- the driver killed with SIGKILL mid-run --------------------------------------------------------------

def _driver_killed(tmp: Path, executor: str, task: str, resume_with: str | None = None) -> None:
    kw = {"task": task, "lanes": 120, "chunk": 10, "steps": 60, "executor": executor}
    driver = Driver(tmp, sleep=0.25, **kw)
    wait_for(lambda: len(driver.stored()) >= 3, what="three stored chunks")
    tree = driver.tree()
    assert tree, "the driver has no worker processes"
    driver.proc.send_signal(signal.SIGKILL)
    driver.wait()
    assert_no_survivors(tree)
    stored_at_kill = driver.stored()
    done_at_kill = computations(driver.markers)
    assert 3 <= len(stored_at_kill) < 12
    facts, again = run_again(tmp, resume_with, **kw)
    all_chunks = gaps(120, 10, [])
    assert [tuple(r) for r in facts["resumed"]] == stored_at_kill
    assert sorted(tuple(r) for r in facts["computed"]) == sorted(set(all_chunks) - set(stored_at_kill))
    done = computations(driver.markers)
    assert all(done[r] == 1 for r in stored_at_kill)  # no stored chunk computed twice
    in_flight = [r for r in all_chunks if done[r] == 2]  # finished in a worker, not yet stored by the driver
    assert all(done[r] in (1, 2) for r in all_chunks) and len(in_flight) <= 2
    assert all(r not in stored_at_kill and done_at_kill.get(r) == 1 for r in in_flight)
    reference = Driver(tmp, store=tmp / "fresh-store", out="fresh.pkl", **kw)
    assert reference.wait()[0] == 0
    assert repr(again.value()) == repr(reference.value())


def test_driver_killed_then_resumed_short(tmp_path):
    _driver_killed(tmp_path, "pool", "toy", resume_with="inline")


@slow
@pytest.mark.parametrize("executor", ["pool", "dask"])
def test_driver_killed_then_resumed_real_engine(tmp_path, executor):
    _driver_killed(tmp_path, executor, "paper_a")


# -- SIGTERM and SIGINT ----------------------------------------------------------------------------------

SIGNALS = {"term": (signal.SIGTERM, False), "int": (signal.SIGINT, False), "ctrl-c": (signal.SIGINT, True)}


def _signalled(tmp: Path, executor: str, how: str, task: str, resume_with: str | None = None) -> None:
    signum, group = SIGNALS[how]
    kw = {"task": task, "lanes": 120, "chunk": 10, "steps": 60, "executor": executor}
    driver = Driver(tmp, sleep=0.25, session=group, **kw)
    wait_for(lambda: len(driver.stored()) >= 2, what="two stored chunks")
    tree = driver.tree()
    if group:  # Ctrl-C in a terminal: the whole foreground process group gets SIGINT
        os.killpg(driver.proc.pid, signum)
    else:
        driver.proc.send_signal(signum)
    code, log = driver.wait(60)
    assert code == 128 + signum, log
    kept = driver.stored()
    name = signal.Signals(signum).name
    assert f"stopped by {name}: workers stopped, staging removed;" in log
    assert f"keeps {len(kept)} chunks ({sum(b - a for a, b in kept):,} lanes): run again to resume" in log
    assert "Traceback" not in log, log
    assert_no_survivors(tree)
    store = ChunkStore.at(next(p for p in driver.store.iterdir() if p.is_dir() and not p.name.startswith(".")))
    assert store.staging_files() == [] and store.verify().corrupt == ()
    facts, again = run_again(tmp, resume_with, **kw)
    assert [tuple(r) for r in facts["resumed"]] == kept
    if task == "toy":
        assert repr(again.value()) == repr(toy_expected(120))


@pytest.mark.parametrize(("executor", "how"), [("pool", "term"), ("dask", "term"), ("pool", "ctrl-c")])
def test_signals_stop_workers_with_the_driver_short(tmp_path, executor, how):
    _signalled(tmp_path, executor, how, "toy", resume_with="inline")


@slow
@pytest.mark.parametrize("how", sorted(SIGNALS))
@pytest.mark.parametrize("executor", ["pool", "dask"])
def test_signals_stop_workers_with_the_driver_real_engine(tmp_path, executor, how):
    _signalled(tmp_path, executor, how, "paper_a")


# -- a corrupt chunk -------------------------------------------------------------------------------------

def _corrupt_chunk(tmp: Path, executor: str, task_name: str) -> None:
    markers = tmp / "markers"
    markers.mkdir()
    faults = Faults(markers=str(markers))
    task = ToyTask(toy_fold(), faults) if task_name == "toy" else PaperATask(60, paper_a_fold(), faults=faults)
    store = ChunkStore.open(tmp / "store", store_key("test:corrupt", "0" * 16), {})
    first = run_chunks(task, 120, task.fold, chunk_size=20, store=store, executor=executor, workers=2)
    flipped, truncated = store.chunks / chunk_name(20, 40), store.chunks / chunk_name(80, 100)
    blob = bytearray(flipped.read_bytes())
    blob[len(blob) // 2] ^= 0x04
    flipped.write_bytes(bytes(blob))
    truncated.write_bytes(truncated.read_bytes()[:-10])
    with pytest.warns(CorruptChunkWarning) as caught:
        again = run_chunks(task, 120, task.fold, chunk_size=20, store=store, executor=executor, workers=2)
    assert {str(w.message).split("chunk of ")[1].split(" is")[0] for w in caught} == {"lanes 20..39", "lanes 80..99"}
    assert "checksum mismatch" in str(caught[0].message)
    assert again.recomputed == ((20, 40), (80, 100)) and again.computed == ((20, 40), (80, 100))
    assert computations(markers) == {r: 1 + (r in again.computed) for r in gaps(120, 20, [])}
    assert repr(again.value) == repr(first.value)
    assert store.verify().corrupt == () and store.verify().lanes == 120


def test_corrupt_chunk_is_recomputed_short(tmp_path):
    _corrupt_chunk(tmp_path, "inline", "toy")


@slow
@pytest.mark.parametrize("executor", ["pool", "dask"])
def test_corrupt_chunk_is_recomputed_real_engine(tmp_path, executor):
    _corrupt_chunk(tmp_path, executor, "paper_a")


# -- an unwritable store ---------------------------------------------------------------------------------

def _unwritable(tmp: Path, executor: str, task: str) -> None:
    blocker = tmp / "a-file"
    blocker.write_text("")
    driver = Driver(tmp, task=task, executor=executor, store=blocker / "store")
    code, log = driver.wait()
    assert code == 2
    assert log.strip().splitlines() == [f"error: store={str(blocker / 'store')!r} is not a writable folder "
                                        f"(Not a directory)"]
    assert not any(driver.markers.iterdir()), "work started before the store was known to be unusable"


def test_unwritable_store_fails_before_any_work_short(tmp_path):
    _unwritable(tmp_path, "pool", "toy")


@slow
@pytest.mark.parametrize("executor", ["pool", "dask"])
def test_unwritable_store_fails_before_any_work_real_engine(tmp_path, executor):
    _unwritable(tmp_path, executor, "paper_a")
