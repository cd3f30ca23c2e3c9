"""The chunk store: round trips, corruption caught by the checksum, atomic writes, keys, catalog, bad locations."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import textwrap
import time
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify.errors import InvalidArgument
from verify.store import (
    ChunkStore,
    CorruptChunkWarning,
    StoreError,
    StoreKey,
    StoreMetaWarning,
    atomic_directory,
    current_code,
    list_stores,
    probe_location,
    prune,
    remove_stale_staging,
    source_hash,
    store_key,
    write_atomic,
)
from verify.store.atomic import staging_name
from verify.store.chunks import chunk_name

REPO = Path(__file__).resolve().parents[1]


def key(task: str = "test", digest: str = "d" * 16) -> StoreKey:
    return store_key(task, digest)


def open_store(root: Path, **kw) -> ChunkStore:
    return ChunkStore.open(root, key(**kw), {"inits": 10})


payloads = st.recursive(
    st.none() | st.booleans() | st.integers() | st.fractions() | st.text(max_size=8)
    | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@given(payload=payloads)
def test_put_get_round_trip_keeps_value_and_types(tmp_path_factory, payload):
    store = open_store(tmp_path_factory.mktemp("s"))
    store.put(3, 9, payload)
    back = store.get(3, 9)
    assert back == payload and repr(back) == repr(payload)
    assert store.ranges() == [(3, 9)]


def test_ranges_sorted_and_missing_is_keyerror(tmp_path):
    store = open_store(tmp_path)
    for a, b in [(20, 30), (0, 10), (10, 20)]:
        store.put(a, b, [a, b])
    assert store.ranges() == [(0, 10), (10, 20), (20, 30)]
    with pytest.raises(KeyError):
        store.get(30, 40)
    store.put(0, 10, "again")  # a rewrite replaces the chunk atomically
    assert store.get(0, 10) == "again"
    store.discard(0, 10)
    assert store.ranges() == [(10, 20), (20, 30)]


@pytest.mark.parametrize(("start", "stop"), [(-1, 3), (5, 5), (7, 2), (0, 10**12), (1.0, 2), (True, 3)])
def test_bad_ranges_name_their_field(tmp_path, start, stop):
    with pytest.raises(InvalidArgument, match=r"^(start|stop)="):
        open_store(tmp_path).put(start, stop, 1)


def _corrupt_and_get(store: ChunkStore, path: Path, blob: bytes) -> None:
    path.write_bytes(blob)
    with pytest.warns(CorruptChunkWarning, match="lanes 0..4 is corrupt"):
        with pytest.raises(KeyError):
            store.get(0, 5)
    assert not path.exists() and path.with_name(path.name + ".corrupt").exists()
    assert store.ranges() == []


def test_every_flipped_byte_is_detected(tmp_path):
    store = open_store(tmp_path)
    store.put(0, 5, {"counts": {"certified": 5}, "cx": [(Fraction(1, 3), 2)]})
    path = store.chunks / chunk_name(0, 5)
    good = path.read_bytes()
    for i in range(len(good)):
        for bit in (0x01, 0x80):
            bad = bytearray(good)
            bad[i] ^= bit
            _corrupt_and_get(store, path, bytes(bad))
    path.write_bytes(good)
    assert store.get(0, 5) == {"counts": {"certified": 5}, "cx": [(Fraction(1, 3), 2)]}


def test_every_truncation_is_detected(tmp_path):
    store = open_store(tmp_path)
    store.put(0, 5, list(range(40)))
    path = store.chunks / chunk_name(0, 5)
    good = path.read_bytes()
    for n in range(len(good)):
        _corrupt_and_get(store, path, good[:n])
    path.write_bytes(good + b"\0")  # trailing garbage too
    _corrupt_and_get(store, path, good + b"\0")


def test_chunk_moved_to_another_range_or_store_is_detected(tmp_path):
    a, b = open_store(tmp_path, task="a"), open_store(tmp_path, task="b")
    a.put(0, 5, "a's lanes 0..4")
    shutil.copy(a.chunks / chunk_name(0, 5), a.chunks / chunk_name(5, 10))
    shutil.copy(a.chunks / chunk_name(0, 5), b.chunks / chunk_name(0, 5))
    for store, rng in ((a, (5, 10)), (b, (0, 5))):
        with pytest.warns(CorruptChunkWarning, match="header"):
            with pytest.raises(KeyError):
                store.get(*rng)
    assert a.get(0, 5) == "a's lanes 0..4"


def test_verify_lists_corrupt_chunks_and_sets_them_aside(tmp_path):
    store = open_store(tmp_path)
    for k in range(4):
        store.put(10 * k, 10 * k + 10, k)
    victim = store.chunks / chunk_name(10, 20)
    victim.write_bytes(victim.read_bytes()[:-3])
    check = store.verify()
    assert check.ok == ((0, 10), (20, 30), (30, 40)) and check.lanes == 30
    assert [c[:2] for c in check.corrupt] == [(10, 20)] and "checksum" in check.corrupt[0][2]
    assert store.ranges() == [(0, 10), (20, 30), (30, 40)]


# -- keys ----------------------------------------------------------------------------------------------

def test_store_id_depends_on_task_settings_and_code():
    base = key()
    code = base.code
    assert key().id == base.id  # a pure function of the key
    py27 = tuple((n, "2.7" if n == "python" else v) for n, v in code.libraries)
    others = [key(task="other"), key(digest="e" * 16),
              StoreKey("test", "d" * 16, type(code)(code.version + "+1", code.source, code.modules, code.libraries)),
              StoreKey("test", "d" * 16, type(code)(code.version, "0" * 64, code.modules, code.libraries)),
              StoreKey("test", "d" * 16, type(code)(code.version, code.source, code.modules, py27))]
    assert len({base.id, *(k.id for k in others)}) == 1 + len(others)
    assert StoreKey.from_dict(json.loads(json.dumps(base.to_dict()))) == base


def test_code_identity_covers_engine_and_libraries():
    code = current_code()
    assert {"verify.arith", "verify.dynamics", "verify.model", "verify.init"} <= set(code.modules)
    assert {"python-flint", "numpy", "numba", "mpmath", "python"} == {name for name, _ in code.libraries}
    assert current_code(("tests.sweep_tasks",)).source != code.source  # the reduce's module can be added


def test_source_hash_follows_file_contents(tmp_path, monkeypatch):
    pkg = tmp_path / "hashme_pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    h0 = source_hash(["hashme_pkg"])
    assert source_hash(["hashme_pkg"]) == h0 == source_hash(["hashme_pkg", "hashme_pkg"])
    (pkg / "sub" / "a.py").write_text("X = 2\n")
    h1 = source_hash(["hashme_pkg"])
    (pkg / "sub" / "a.py").rename(pkg / "sub" / "b.py")  # same content, other file name
    h2 = source_hash(["hashme_pkg"])
    assert len({h0, h1, h2}) == 3
    with pytest.raises(InvalidArgument, match="^modules='no_such_module_xyz'"):
        source_hash(["no_such_module_xyz"])


def test_reopening_keeps_metadata_and_a_damaged_meta_is_rewritten(tmp_path):
    s1 = ChunkStore.open(tmp_path, key(), {"inits": 10, "versions": {"numpy": "x"}})
    s1.put(0, 2, "kept")
    s2 = ChunkStore.open(tmp_path, key(), {"ignored": True})
    assert s2.metadata == {"inits": 10, "versions": {"numpy": "x"}} and s2.get(0, 2) == "kept"
    (s1.path / "meta.json").write_text("{not json")
    with pytest.warns(StoreMetaWarning):
        s3 = ChunkStore.open(tmp_path, key(), {"inits": 10})
    assert s3.get(0, 2) == "kept" and ChunkStore.at(s3.path).key == key()


def test_meta_of_another_key_is_an_error(tmp_path):
    store = open_store(tmp_path)
    doc = json.loads((store.path / "meta.json").read_text())
    doc["key"]["task"] = "someone else"
    (store.path / "meta.json").write_text(json.dumps(doc))
    with pytest.raises(StoreError, match="holds key"):
        open_store(tmp_path)


def test_metadata_must_be_json(tmp_path):
    with pytest.raises(InvalidArgument, match="^metadata="):
        ChunkStore.open(tmp_path, key(), {"x": Fraction(1, 3)})


# -- atomic writes, staging, locations ----------------------------------------------------------------

def test_stale_staging_of_dead_writers_is_removed_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    mine = staging_name("x.chunk")
    theirs = mine.replace(f".{os.getpid()}.", f".{dead_pid}.")
    other_host = ".x.chunk.elsewhere.1.abcd1234.tmp"
    for name in (mine, theirs, other_host, "keep.chunk"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / theirs.replace("x.chunk", "dir")).mkdir()
    removed = remove_stale_staging(tmp_path)
    assert sorted(p.name for p in removed) == sorted([theirs, theirs.replace("x.chunk", "dir")])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine, other_host, "keep.chunk"])


def test_atomic_directory_replaces_only_on_success(tmp_path):
    target = tmp_path / "report"
    with atomic_directory(target) as d:
        (d / "a.txt").write_text("one")
    assert (target / "a.txt").read_text() == "one"
    with pytest.raises(RuntimeError), atomic_directory(target) as d:
        (d / "a.txt").write_text("half")
        raise RuntimeError("killed while writing")
    assert (target / "a.txt").read_text() == "one"
    with atomic_directory(target) as d:
        (d / "b.txt").write_text("two")
    assert [p.name for p in target.iterdir()] == ["b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no staging left


def test_store_under_a_regular_file_fails_in_one_line_before_anything(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InvalidArgument) as err:
        open_store(blocker / "store")
    assert str(err.value).startswith(f"store={str(blocker / 'store')!r} is not a writable folder")
    assert "\n" not in str(err.value)


def test_store_on_a_read_only_location_fails_in_one_line(tmp_path):
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        where = ro / "store"
    else:  # root writes through permissions; /sys refuses new entries even to root
        where = Path("/sys/verify-store-probe")
        if os.access("/sys", os.W_OK) and where.parent.is_dir():
            try:
                where.mkdir()
            except OSError:
                pass
            else:
                where.rmdir()
                pytest.skip("no read-only location here")
    with pytest.raises(InvalidArgument, match=r"^store=.* is not a writable folder \(") as err:
        open_store(where)
    assert "\n" not in str(err.value)


def test_too_little_free_space_fails_before_anything(tmp_path, monkeypatch):
    root = tmp_path / "store"
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=10 * 2**20))
    with pytest.raises(InvalidArgument, match=r"^store=.* has 10.0 MiB free; a sweep needs at least 64 MiB"):
        ChunkStore.open(root, key())
    assert not any(root.iterdir())  # the probe left nothing


FULL_DISK = textwrap.dedent("""
    import resource, signal, sys, pickle
    from pathlib import Path
    from verify.store import ChunkStore, StoreError, store_key
    store = ChunkStore.open(sys.argv[1], store_key("test", "d" * 16))
    store.put(0, 1, "small")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    try:
        store.put(1, 2, "x" * 100_000)
    except StoreError as exc:
        print(exc)
""")


def test_a_write_that_runs_out_of_space_leaves_no_partial_chunk(tmp_path):
    """A real failing write (the file size limit), not a mock: one-line error, no chunk, no staging."""
    out = subprocess.run([sys.executable, "-c", FULL_DISK, str(tmp_path)], capture_output=True, text=True,
                         cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip()
    assert line.startswith("store=") and "could not write lanes 1..1 (File too large)" in line
    assert line.endswith("1 earlier chunks are kept") and "\n" not in line
    store = ChunkStore.open(tmp_path, key())
    assert store.ranges() == [(0, 1)] and store.get(0, 1) == "small"
    assert store.staging_files() == []


def test_write_atomic_failure_leaves_target_untouched(tmp_path, monkeypatch):
    target = tmp_path / "f"
    write_atomic(target, b"old")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f"]


def test_probe_reports_a_full_disk(tmp_path, monkeypatch):
    def full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(InvalidArgument, match=r"^store=.* has no space left"):
        probe_location(tmp_path / "s")


def _writer(root: str, worker: int) -> None:
    store = ChunkStore.open(root, store_key("test", "d" * 16))
    for k in range(30):
        a = (k * 7 + worker) % 30  # every writer writes every chunk, in a different order
        store.put(10 * a, 10 * a + 10, {"lanes": list(range(10 * a, 10 * a + 10))})


def test_concurrent_writers_of_the_same_store(tmp_path):
    procs = [mp.get_context("spawn").Process(target=_writer, args=(str(tmp_path), w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = open_store(tmp_path)
    check = store.verify()
    assert check.corrupt == () and check.lanes == 300 and store.staging_files() == []
    assert all(store.get(a, b) == {"lanes": list(range(a, b))} for a, b in check.ok)


# -- catalog -------------------------------------------------------------------------------------------

def test_list_and_prune(tmp_path):
    old, new, other = open_store(tmp_path, task="old"), open_store(tmp_path, task="new"), open_store(tmp_path, task="o")
    old.put(0, 4, "x")
    new.put(0, 2, "y")
    new.put(2, 6, "z")
    stale_code = type(old.key.code)("0.0.1", "0" * 64, old.key.code.modules, old.key.code.libraries)
    stale = ChunkStore.open(tmp_path, StoreKey("stale", "d" * 16, stale_code))
    an_hour_ago = time.time() - 3600
    for p in [old.path, *old.path.rglob("*")]:
        os.utime(p, (an_hour_ago, an_hour_ago))
    infos = {s.key.task: s for s in list_stores(tmp_path)}
    assert set(infos) == {"old", "new", "o", "stale"}
    assert (infos["new"].chunks, infos["new"].lanes, infos["old"].lanes, infos["o"].lanes) == (2, 6, 4, 0)
    assert infos["old"].age() > 3000 and infos["new"].age() < 600
    assert list_stores(tmp_path)[-1].key.task == "old"  # most recently written first

    with pytest.raises(InvalidArgument, match="^prune=None needs a criterion"):
        prune(tmp_path)
    assert [s.key.task for s in prune(tmp_path, older_than=600, dry_run=True)] == ["old"]
    assert {s.key.task for s in list_stores(tmp_path)} == {"old", "new", "o", "stale"}
    assert [s.key.task for s in prune(tmp_path, stale_for=current_code())] == ["stale"]
    assert not stale.path.exists()
    assert [s.key.task for s in prune(tmp_path, older_than=600)] == ["old"]
    with pytest.raises(InvalidArgument, match="^id="):
        prune(tmp_path, ids=[other.key.id[:3]])
    assert [s.key.task for s in prune(tmp_path, ids=[other.key.id[:8]])] == ["o"]
    assert [s.key.task for s in list_stores(tmp_path)] == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == [new.key.id]  # no trash left behind
    with pytest.raises(StoreError, match="could not write lanes"):  # a pruned store fails its next write
        old.put(4, 8, "late")
