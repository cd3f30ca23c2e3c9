"""Faults of a whole ``verify check`` / ``verify run`` on the command line (issue 12, section 4).

The runner-level fault tests (toy and real tasks, every executor) are in
``test_distributed_faults.py``; here the real command runs, and its output is compared byte for
byte (the wall time aside) with an undisturbed run:

* a worker process SIGKILLed mid-sweep (found with psutil among the driver's descendants once
  the store holds a chunk): the command finishes with the same output;
* the driver SIGKILLed mid-sweep: a rerun completes from the store with the same output, and no
  stored chunk is computed again (the rerun's summary line counts chunks from the store and
  computed; the stored files keep their inode and mtime: a computed chunk is written again);
* a fully resumed sweep draws its progress line once;
* an unwritable store: one line before any work; a disk that fills up mid-sweep: one line, exit
  2 (not a verdict's 0 / 1), no report and no staging folder left.

Short versions run by default; the ``slow`` ones use a dask LocalCluster and ``verify run``'s
``results.json``. Every test has its own ``$VERIFY_STORE`` (the autouse fixture in conftest.py).
"""

from __future__ import annotations

import errno
import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from tests.sweep_tasks import ToyTask, toy_fold
from verify.cli import app
from verify.distributed import run_chunks
from verify.store import ChunkStore, CorruptChunkWarning, store_key
from verify.store import chunks as store_chunks
from verify.store.chunks import chunk_name

slow = pytest.mark.slow
VERIFY = str(Path(sys.executable).parent / "verify")
# a mutation: refuted, so the output carries an exact counterexample (the smallest over all chunks)
SWEEP = ["check", "mut-conserved-u", "--inits", "200", "--steps", "200", "--chunk-size", "4"]
CHUNKS = 50
SMALL = ["check", "mut-conserved-u", "--inits", "24", "--steps", "60", "--chunk-size", "4"]
RUN = ["run", "--paper", "a", "--inits", "24", "--steps", "300", "--chunk-size", "4", "--quiet",
       "--set", "fig3_inits=40", "--set", "rate_steps=3000"]


def store_root() -> Path:
    return Path(os.environ["VERIFY_STORE"])


def chunk_files() -> dict[str, tuple[int, int]]:
    """Every chunk file under the store root: name -> (inode, mtime in ns)."""
    out = {}
    for p in store_root().glob("*/chunks/*.chunk"):
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        out[f"{p.parent.parent.name}/{p.name}"] = (st.st_ino, st.st_mtime_ns)
    return out


def staging_left(*folders: Path) -> list[Path]:
    return [p for f in folders if f.exists() for p in f.rglob(".*") if p.name.endswith(".tmp")]


def same_output(text: str) -> list[str]:
    """The command's stdout without its wall time (the one figure that differs between runs)."""
    return [re.sub(r"\(\d+\.\d s, ", "(", line) for line in text.splitlines()]


def wait_for(predicate, proc: subprocess.Popen, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, f"the command ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="module")
def undisturbed() -> list[str]:
    """The sweep's output with no fault, no store, in this process."""
    result = CliRunner().invoke(app, [*SWEEP, "--no-store", "--workers", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    return same_output(result.stdout)


class Command:
    """``verify ARGS`` in its own process, stdout and stderr to files."""

    def __init__(self, tmp: Path, args: list[str], name: str) -> None:
        self.out, self.err = tmp / f"{name}.out", tmp / f"{name}.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen([VERIFY, *args], stdout=out, stderr=err)

    def finish(self, timeout: float = 300) -> tuple[int, str, str]:
        code = self.proc.wait(timeout)
        return code, self.out.read_text(), self.err.read_text()


# -- a worker SIGKILLed mid-sweep -------------------------------------------------------------------------

def worker_processes(driver: psutil.Process) -> list[psutil.Process]:
    """The processes computing chunks: the driver's children (the pool's forked workers, or the
    worker processes the nannies of dask's LocalCluster spawn), except multiprocessing's resource
    tracker."""
    workers = []
    for child in driver.children():
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                workers.append(child)
        except psutil.NoSuchProcess:
            pass
    return workers


def _worker_killed(tmp: Path, executor: str, undisturbed: list[str]) -> None:
    cmd = Command(tmp, [*SWEEP, "--workers", "2", "--executor", executor, "--progress"], "killed-worker")
    driver = psutil.Process(cmd.proc.pid)
    wait_for(lambda: len(chunk_files()) >= 1 and len(worker_processes(driver)) >= 2, cmd.proc,
             "a stored chunk")
    victim = worker_processes(driver)[0]
    victim.send_signal(signal.SIGKILL)
    stored_at_kill = len(chunk_files())
    code, out, err = cmd.finish()
    assert code == 0, err
    assert stored_at_kill < CHUNKS, "the sweep had finished before the kill: not a mid-sweep fault"
    assert not alive(victim)
    assert same_output(out) == undisturbed
    assert "Traceback" not in err
    if executor == "pool":  # dask's nanny restarts its worker and reruns the chunk on its own
        assert "a worker process died" in err and "unfinished chunks again" in err
        assert "workers lost 1 time, unfinished chunks run again" in err
    assert f"sweep: {CHUNKS} chunks: 0 from the store, {CHUNKS} computed" in err
    assert len(chunk_files()) == CHUNKS and staging_left(store_root()) == []


def test_worker_killed_mid_check_gives_the_same_output(tmp_path, undisturbed):
    _worker_killed(tmp_path, "pool", undisturbed)


@slow
def test_worker_killed_mid_check_on_dask_gives_the_same_output(tmp_path, undisturbed):
    _worker_killed(tmp_path, "dask", undisturbed)


# -- the driver SIGKILLed mid-sweep -----------------------------------------------------------------------

def _driver_killed(tmp: Path, executor: str, undisturbed: list[str]) -> None:
    cmd = Command(tmp, [*SWEEP, "--workers", "2", "--executor", executor], "killed-driver")
    driver = psutil.Process(cmd.proc.pid)
    wait_for(lambda: len(chunk_files()) >= 3, cmd.proc, "three stored chunks")
    tree = driver.children(recursive=True)
    cmd.proc.send_signal(signal.SIGKILL)
    cmd.proc.wait(60)
    kept = chunk_files()
    assert 3 <= len(kept) < CHUNKS
    deadline = time.monotonic() + 20  # the workers notice their driver is gone and exit
    while any(alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p.pid for p in tree if alive(p)], "workers outlived their driver"

    again = CliRunner().invoke(app, [*SWEEP, "--workers", "1", "--progress"])
    assert again.exit_code == 0, again.output
    assert same_output(again.stdout) == undisturbed
    assert f"sweep: {CHUNKS} chunks: {len(kept)} from the store, {CHUNKS - len(kept)} computed\n" in again.stderr
    after = chunk_files()
    assert len(after) == CHUNKS
    assert {name: after[name] for name in kept} == kept, "a stored chunk was computed (and written) again"
    assert staging_left(store_root()) == []

    third = CliRunner().invoke(app, [*SWEEP, "--workers", "1", "--progress"])
    assert same_output(third.stdout) == undisturbed
    assert f"sweep: {CHUNKS} chunks: {CHUNKS} from the store, 0 computed\n" in third.stderr
    assert chunk_files() == after


def test_driver_killed_mid_check_then_rerun_resumes_from_the_store(tmp_path, undisturbed):
    _driver_killed(tmp_path, "pool", undisturbed)


@slow
def test_driver_killed_mid_check_on_dask_then_rerun_resumes_from_the_store(tmp_path, undisturbed):
    _driver_killed(tmp_path, "dask", undisturbed)


@slow
def test_driver_killed_mid_run_gives_a_byte_identical_results_json(tmp_path):
    reference = CliRunner().invoke(app, [*RUN, "--out", str(tmp_path / "ref"), "--no-store", "--workers", "1"])
    assert reference.exit_code == 0, reference.output
    cmd = Command(tmp_path, [*RUN, "--out", str(tmp_path / "killed"), "--workers", "2", "--executor", "pool"],
                  "killed-run")
    wait_for(lambda: len(chunk_files()) >= 2, cmd.proc, "two stored chunks")
    cmd.proc.send_signal(signal.SIGKILL)
    cmd.proc.wait(60)
    kept = chunk_files()
    assert not (tmp_path / "killed" / "paper_a").exists()
    again = CliRunner().invoke(app, [*RUN, "--out", str(tmp_path / "killed"), "--workers", "1"])
    assert again.exit_code == 0, again.output
    after = chunk_files()
    assert {name: after[name] for name in kept} == kept, "a stored chunk was computed (and written) again"
    results = [(tmp_path / d / "paper_a" / "results.json").read_bytes() for d in ("ref", "killed")]
    assert results[0] == results[1]
    assert staging_left(tmp_path / "killed", store_root()) == []


# -- a fully resumed sweep: the progress line once ----------------------------------------------------------

def progress_frames(text: str) -> list[str]:
    return [f for f in re.split(r"[\r\n]", text) if f.startswith("sweep: ") and " lanes (" in f]


def test_a_fully_resumed_sweep_draws_its_progress_line_once(tmp_path):
    store = ChunkStore.open(tmp_path, store_key("test:progress", "0" * 16), {})
    outs = [io.StringIO() for _ in range(3)]
    for n, out in zip((120, 120, 130), outs, strict=True):
        run_chunks(ToyTask(toy_fold()), n, toy_fold(), chunk_size=10, store=store, executor="inline", progress=True,
                   progress_stream=out)
    first, resumed, extended = (o.getvalue() for o in outs)
    assert progress_frames(resumed) == ["sweep: 120/120 lanes (100%), 11 escalated, ? lanes/s, ETA ?"]
    assert resumed.endswith("\nsweep: 12 chunks: 12 from the store, 0 computed\n")
    assert first.endswith("\nsweep: 12 chunks: 0 from the store, 12 computed\n")
    assert progress_frames(extended)[0].startswith("sweep: 120/130 lanes (92%), 11 escalated")
    assert extended.endswith("\nsweep: 13 chunks: 12 from the store, 1 computed\n")
    damaged = store.chunks / chunk_name(30, 40)
    damaged.write_bytes(damaged.read_bytes()[:-1])
    out = io.StringIO()
    with pytest.warns(CorruptChunkWarning):
        run_chunks(ToyTask(toy_fold()), 130, toy_fold(), chunk_size=10, store=store, executor="inline", progress=True,
                   progress_stream=out)
    assert out.getvalue().endswith("\nsweep: 13 chunks: 12 from the store, 1 computed (1 of them corrupt in the "
                                   "store)\n")
    quiet = io.StringIO()  # not a terminal and not asked: nothing, not even the summary
    run_chunks(ToyTask(toy_fold()), 120, toy_fold(), chunk_size=10, store=store, executor="inline",
               progress_stream=quiet)
    assert quiet.getvalue() == ""


def test_a_fully_resumed_check_prints_one_progress_line():
    runner = CliRunner()
    first = runner.invoke(app, [*SMALL, "--workers", "1", "--progress"])
    again = runner.invoke(app, [*SMALL, "--workers", "1", "--progress"])
    assert first.exit_code == again.exit_code == 0
    assert same_output(again.stdout) == same_output(first.stdout)
    assert progress_frames(again.stderr) == ["sweep: 24/24 lanes (100%), 0 escalated, ? lanes/s, ETA ?"]
    assert again.stderr.count("\n") == 2 and "sweep: 6 chunks: 6 from the store, 0 computed" in again.stderr
    assert runner.invoke(app, [*SMALL, "--workers", "1"]).stderr == ""  # not a terminal: no progress at all


# -- an unwritable store, a full disk ----------------------------------------------------------------------

@pytest.fixture
def read_only(tmp_path, monkeypatch):
    """A folder mode 0500. Root writes through permission bits (CI runs as root): there the kernel's
    refusal is simulated for that folder (``EACCES`` from mkdir and open for writing)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    if os.geteuid() == 0:
        real_mkdir, real_open = os.mkdir, os.open

        def inside(path) -> bool:
            return Path(os.fsdecode(path)).absolute().is_relative_to(folder)

        def mkdir(path, *args, **kw):
            if inside(path):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_mkdir(path, *args, **kw)

        def open_(path, flags, *args, **kw):
            if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_open(path, flags, *args, **kw)

        monkeypatch.setattr(os, "mkdir", mkdir)
        monkeypatch.setattr(os, "open", open_)
    yield folder
    folder.chmod(0o700)


@pytest.mark.parametrize("command", ["check", "run"])
def test_a_read_only_store_is_one_line_before_any_work(tmp_path, read_only, command):
    args = [*SMALL, "--workers", "1"] if command == "check" else [*RUN, "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*args, "--store", str(read_only / "store")])
    assert result.exit_code == 2
    assert result.output.splitlines() == [f"error: store={str(read_only / 'store')!r} is not a writable folder "
                                          f"(Permission denied)"]
    assert not (tmp_path / "out").exists()


def test_run_with_a_store_below_a_file_is_one_line_before_any_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = CliRunner().invoke(app, [*RUN, "--out", str(tmp_path / "out"), "--store", str(blocker / "s")])
    assert result.exit_code == 2
    assert result.output.splitlines() == [f"error: store={str(blocker / 's')!r} is not a writable folder "
                                          f"(Not a directory)"]
    assert not (tmp_path / "out").exists()


@pytest.fixture
def disk_fills_up(monkeypatch):
    """The store's writer fails with ENOSPC from the third chunk on (two chunks fit)."""
    real = store_chunks.write_atomic
    written = []

    def write_atomic(path: Path, data: bytes) -> None:
        if path.name.endswith(".chunk"):
            if len(written) >= 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written.append(path.name)
        real(path, data)

    monkeypatch.setattr(store_chunks, "write_atomic", write_atomic)
    return written


def full_disk_line(output: str) -> None:
    (line,) = output.splitlines()
    assert re.fullmatch(r"error: store='[^']+' could not write lanes \d+\.\.\d+ \(No space left on device\); "
                        r"2 earlier chunks are kept", line), line


@pytest.mark.parametrize("executor", ["inline", "pool"])
def test_a_disk_full_mid_check_is_one_line_and_exit_2(disk_fills_up, executor):
    before = {p.pid for p in psutil.Process().children()}
    result = CliRunner().invoke(app, [*SMALL, "--workers", "2", "--executor", executor])
    assert result.exit_code == 2  # not a verdict (0 / 1), not a crash (3)
    full_disk_line(result.output)
    assert result.stdout == "" and len(chunk_files()) == 2 and staging_left(store_root()) == []
    assert [p.pid for p in psutil.Process().children() if p.pid not in before and alive(p)] == []  # workers stopped


@slow  # phase-ordering's transition graph (sympy) costs 15-30 s once per process before the first chunk
def test_a_disk_full_mid_run_leaves_no_report(tmp_path, disk_fills_up):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [*RUN, "--out", str(out)])
    assert result.exit_code == 2
    full_disk_line(result.output)
    assert not (out / "paper_a").exists() and staging_left(out, store_root()) == []
    assert not out.exists() or list(out.iterdir()) == []


def test_a_disk_full_mid_check_of_a_claim_file_is_one_line_and_exit_2(disk_fills_up, monkeypatch, capsys):
    from verify.cli import main

    monkeypatch.setattr(sys, "argv", ["verify", "check", "--claims", "examples/paper_a.toml", "u-conserved", *SMALL[2:],
                                      "--workers", "1"])
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    full_disk_line(err)
