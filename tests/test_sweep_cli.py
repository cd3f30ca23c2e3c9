"""``verify check`` / ``verify run`` through the chunked runner and the store; ``verify store``.

Every test has its own ``$VERIFY_STORE`` (the autouse fixture in ``conftest.py``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from verify.claims.result import Outcome, Status
from verify.claims.runner import (
    CHUNK_QUANTUM,
    EVERY_STEP_BLOCK,
    MAX_CHUNK,
    MIN_CHUNK,
    ClaimsFold,
    LaneOutcomes,
    check_claims,
    choose_chunk_size,
)
from verify.cli import app
from verify.distributed import fold_lanes
from verify.distributed.options import SweepOptions
from verify.dynamics.batch_layout import BLOCK
from verify.dynamics.sweep import Lane
from verify.papers import find_claim
from verify.settings import CheckSettings
from verify.store import list_stores

CHECK = ["check", "f-invariance", "--inits", "40", "--steps", "200", "--quiet"]


def store_root() -> Path:
    return Path(os.environ["VERIFY_STORE"])


def test_check_stores_chunks_and_a_rerun_resumes_with_the_same_output():
    runner = CliRunner()
    first = runner.invoke(app, [*CHECK, "--workers", "1", "--chunk-size", "10"])
    assert first.exit_code == 0, first.output
    (info,) = list_stores(store_root())
    assert info.lanes == 40 and info.chunks == 4
    again = runner.invoke(app, [*CHECK, "--workers", "1", "--chunk-size", "10"])
    strip = [line.split("  (")[0] for line in first.output.splitlines()]
    assert [line.split("  (")[0] for line in again.output.splitlines()] == strip
    fresh = runner.invoke(app, [*CHECK, "--no-store", "--workers", "1"])
    assert [line.split("  (")[0] for line in fresh.output.splitlines()] == strip
    assert len(list_stores(store_root())) == 1


def test_other_settings_never_read_a_store_of_different_settings():
    runner = CliRunner()
    assert runner.invoke(app, [*CHECK, "--workers", "1"]).exit_code == 0
    assert runner.invoke(app, [*CHECK, "--workers", "1", "--seed", "1"]).exit_code == 0
    assert len(list_stores(store_root())) == 2


def test_an_unwritable_store_is_one_line_before_any_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = CliRunner().invoke(app, [*CHECK, "--store", str(blocker / "s")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: store={str(blocker / 's')!r} is not a writable folder "
                                                  f"(Not a directory)"]


@pytest.mark.parametrize(("flag", "value"), [("--executor", "threads"), ("--scheduler", "host:8786"),
                                             ("--chunk-size", "0")])
def test_bad_sweep_flags_name_their_field(flag, value):
    result = CliRunner().invoke(app, [*CHECK, flag, value])
    assert result.exit_code == 2 and result.output.startswith(f"error: {flag.lstrip('-').replace('-', '_')}=")


def test_scheduler_in_the_config_file_is_read(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('scheduler = "tcp://127.0.0.1:1"\n')
    result = CliRunner().invoke(app, [*CHECK, "--config", str(config)])
    assert result.exit_code == 2 and "scheduler='tcp://127.0.0.1:1' is not reachable" in result.output


def test_streamed_check_equals_the_full_check():
    """keep="examples" (bounded memory) gives the same counts, verdict, counterexample and engines as
    keeping every outcome, on a true claim and a mutation."""
    settings = CheckSettings(inits=30, steps=150)
    for cid in ("f-invariance", "monotone-numerator"):
        claim = find_claim("a", cid)
        (full,) = check_claims([claim], settings, workers=1)
        (folded,) = check_claims([claim], settings, workers=1, keep="examples",
                                 options=SweepOptions(chunk_size=7))
        assert folded.counts == full.counts and folded.verdict is full.verdict
        assert folded.counterexample == full.counterexample and folded.engines == full.engines
        assert folded.outcomes and all(o in full.outcomes for o in folded.outcomes)


def test_claims_fold_is_independent_of_the_chunking():
    lanes = [(i, LaneOutcomes(Lane(i, "batch-f64"), (str(i), "0"), (Outcome(
        [Status.CERTIFIED, Status.REFUTED, Status.NOT_ADMITTED][i % 3], f"d{i}", data={"covers": f"t <= {i % 2}"}),)))
        for i in range(20)]
    fold = ClaimsFold(1)
    whole = fold_lanes(fold, lanes)
    parts = fold.merge(fold_lanes(fold, lanes[12:]), fold_lanes(fold, lanes[:12]))
    assert repr(whole) == repr(parts)


def _outcome(status: Status, span: int | None, every_t: bool, diverged: bool) -> Outcome:
    data = {**({"covers": f"t <= {span}", "every_t": every_t} if span is not None else {}),
            **({"gd": "diverged"} if diverged else {})}
    return Outcome(status, f"{status.value} {span} {every_t}", data=data or None)


outcomes = st.builds(_outcome, st.sampled_from([Status.CERTIFIED, Status.INCONCLUSIVE, Status.NOT_ADMITTED]),
                     st.none() | st.integers(0, 2), st.booleans(), st.booleans())


@given(before=st.lists(st.tuples(st.integers(0, 60), outcomes), max_size=12),
       indices=st.lists(st.integers(0, 60), min_size=1, max_size=15, unique=True).map(sorted),
       shared=st.lists(outcomes, min_size=2, max_size=2))
def test_claims_fold_adds_lanes_alike_at_once_as_one_by_one(before, indices, shared):
    """``ClaimsFold.add_many`` (lanes the lane checkers decided alike) leaves the summary
    ``add`` lane by lane leaves, whatever the summary held before: the same counts, and the same
    examples kept (the first index takes every slot the group can take)."""
    fold = ClaimsFold(2)

    def item(i: int, outs: tuple[Outcome, ...]) -> LaneOutcomes:
        return LaneOutcomes(Lane(i, "batch-f64"), (str(i), "1/3"), outs)

    start = fold_lanes(fold, [(i, item(i, (o, o))) for i, o in before])
    one_by_one = fold_lanes(fold, [(i, item(i, (o, o))) for i, o in before])
    for i in indices:
        one_by_one = fold.add(one_by_one, i, item(i, tuple(shared)))
    at_once = fold.add_many(start, indices, item(indices[0], tuple(shared)))
    assert repr(at_once) == repr(one_by_one)


def test_chunk_size_depends_on_the_sweep_only():
    assert choose_chunk_size(200, False) == 50  # a quarter up to the quantum
    assert choose_chunk_size(2048, False) == CHUNK_QUANTUM
    assert choose_chunk_size(10_000, False) == 2 * CHUNK_QUANTUM  # then an eighth, in quanta: ten even chunks
    assert choose_chunk_size(10**6, False) == 2048 and choose_chunk_size(10**6, True) == 256
    assert choose_chunk_size(10, False, unit=48) == 48


@given(n=st.integers(1, 10**7), every=st.booleans())
def test_chunks_are_whole_blocks_beyond_one_block(n, every):
    """Beyond the quantum, a chunk is a whole number of quanta, hence of the batch kernels' blocks
    (no lanes paid for and left empty), and there are at least four chunks whenever the sweep has
    four quanta of lanes."""
    size = choose_chunk_size(n, every)
    assert MIN_CHUNK <= size <= (EVERY_STEP_BLOCK if every else MAX_CHUNK)
    if size > CHUNK_QUANTUM:
        assert size % CHUNK_QUANTUM == 0 and size % BLOCK == 0
    if n >= 4 * CHUNK_QUANTUM:
        assert -(-n // size) >= 4


def test_run_results_are_byte_identical_resumed_and_on_another_executor(tmp_path):
    base = ["run", "--paper", "a", "--inits", "12", "--steps", "400", "--quiet", "--set", "fig3_inits=40",
            "--set", "rate_steps=3000"]
    runner = CliRunner()
    one = runner.invoke(app, [*base, "--out", str(tmp_path / "one"), "--workers", "1"])
    assert one.exit_code == 0, one.output
    two = runner.invoke(app, [*base, "--out", str(tmp_path / "two"), "--workers", "2", "--executor", "pool"])
    three = runner.invoke(app, [*base, "--out", str(tmp_path / "three"), "--no-store", "--chunk-size", "5"])
    assert two.exit_code == 0 and three.exit_code == 0
    results = [(tmp_path / d / "paper_a" / "results.json").read_bytes() for d in ("one", "two", "three")]
    assert results[0] == results[1] == results[2]


def test_store_list_verify_and_prune(tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, [*CHECK, "--workers", "1", "--chunk-size", "10"]).exit_code == 0
    (info,) = list_stores(store_root())
    listed = runner.invoke(app, ["store", "list", "--json"])
    assert json.loads(listed.output)[0]["id"] == info.id and json.loads(listed.output)[0]["current_code"]
    assert runner.invoke(app, ["store", "verify"]).exit_code == 0
    chunk = sorted((info.path / "chunks").glob("*.chunk"))[1]
    chunk.write_bytes(chunk.read_bytes()[:-3])
    bad = runner.invoke(app, ["store", "verify", info.id[:8]])
    assert bad.exit_code == 1 and "1 corrupt" in bad.output
    assert runner.invoke(app, ["store", "prune", "--stale"]).output.strip() == "nothing to prune"
    assert runner.invoke(app, ["store", "prune"]).exit_code == 2
    gone = runner.invoke(app, ["store", "prune", "--id", info.id[:8]])
    assert gone.exit_code == 0 and list_stores(store_root()) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_check_stopped_by_a_signal_exits_128_plus_it_and_says_what_was_kept(signum):
    exe = Path(sys.executable).parent / "verify"
    proc = subprocess.Popen([str(exe), "check", "f-invariance", "--inits", "4000", "--steps", "2000", "--workers", "2",
                             "--chunk-size", "100"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(s.chunks for s in list_stores(store_root())) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    (info,) = list_stores(store_root())
    name = signal.Signals(signum).name
    assert f"stopped by {name}: workers stopped, staging removed;" in err and "Traceback" not in err
    assert f"keeps {info.chunks} chunks" in err and "run again to resume" in err
