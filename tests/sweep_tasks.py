"""Chunk tasks and a sweep driver for the store and distributed tests (a helper, not a test).

Tasks are picklable callables ``task(start, stop) -> ChunkOutput``:

* :class:`ToyTask`: a cheap deterministic lane value; optionally sleeps per chunk;
* :class:`PidTask`: the worker's pid and the task's tag (for the warm-pool tests);
* :class:`PaperATask`: the real engine, :func:`verify.dynamics.sweep.run_chunk` on paper A's
  problem over seeded He inits, each lane reduced to exact facts about its trajectory.

Both can record every computation (a marker file per finished chunk computation, and one per
start, named with the worker's pid) and SIGKILL their own worker once, in the middle of a given
chunk. ``python -m tests.sweep_tasks ...`` runs a sweep as a separate driver process (for the
tests that kill or signal the driver), writes the folded value to ``--out`` and prints the
run's facts as one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from verify.distributed import ChunkOutput, Collect, Count, Fields, Smallest, SweepInterrupted, fold_lanes, run_chunks
from verify.errors import VerifyError
from verify.store import ChunkStore, store_key, write_atomic


def toy_value(index: int) -> tuple[int, Fraction, bool]:
    """Lane ``index``'s value: a residue, an exact fraction, and whether it was "escalated"."""
    return (index * 7919) % 1009, Fraction(index % 97, index % 13 + 1), index % 11 == 0


def residue(index: int, item: Any) -> int:
    return item[0]


def escalated_flag(index: int, item: Any) -> bool:
    return item[2]


def toy_fold() -> Fields:
    return Fields(values=Collect(), flags=Count(key=escalated_flag), smallest=Smallest(5, key=residue))


@dataclass(frozen=True)
class Faults:
    """Bookkeeping and injected faults shared by the tasks."""

    markers: str | None = None  # a folder: one file per chunk computation started / finished
    sleep: float = 0.0  # seconds per chunk (so a test can act mid-sweep)
    kill_range: tuple[int, int] | None = None  # SIGKILL the worker in this chunk ...
    kill_flag: str | None = None  # ... the first time only (this file records that it happened)

    def started(self, a: int, b: int) -> None:
        if self.markers:
            Path(self.markers, f"start-{a}-{b}.{os.getpid()}.{uuid.uuid4().hex}").touch()

    def maybe_die(self, a: int, b: int) -> None:
        if self.kill_range == (a, b) and self.kill_flag:
            try:
                os.close(os.open(self.kill_flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return
            os.kill(os.getpid(), signal.SIGKILL)

    def finished(self, a: int, b: int) -> None:
        if self.markers:
            Path(self.markers, f"done-{a}-{b}.{os.getpid()}.{uuid.uuid4().hex}").touch()


def computations(markers: Path, kind: str = "done") -> dict[tuple[int, int], int]:
    """How many times each chunk was started/finished, from the marker files."""
    out: dict[tuple[int, int], int] = {}
    for p in markers.glob(f"{kind}-*"):
        a, b = p.name.split(".")[0].split("-")[1:3]
        out[int(a), int(b)] = out.get((int(a), int(b)), 0) + 1
    return out


def marker_pids(markers: Path) -> set[int]:
    return {int(p.name.split(".")[1]) for p in markers.glob("start-*")}


@dataclass(frozen=True)
class ToyTask:
    fold: Any
    faults: Faults = Faults()

    def __call__(self, a: int, b: int) -> ChunkOutput:
        self.faults.started(a, b)
        half = (a + b) // 2
        acc = fold_lanes(self.fold, ((i, toy_value(i)) for i in range(a, half)))
        if self.faults.sleep:
            time.sleep(self.faults.sleep)
        self.faults.maybe_die(a, b)
        acc = fold_lanes(self.fold, ((i, toy_value(i)) for i in range(half, b)), acc)
        self.faults.finished(a, b)
        return ChunkOutput(acc, sum(toy_value(i)[2] for i in range(a, b)))


@dataclass(frozen=True)
class PidTask:
    """``task(start, stop)``: which process ran the chunk, and the ``tag`` of the sweep's task."""

    tag: str = ""

    def __call__(self, a: int, b: int) -> ChunkOutput:
        return ChunkOutput((os.getpid(), self.tag, a, b))


# -- the real engine ------------------------------------------------------------------------------

def lane_facts(index: int, traj: Any, lane: Any) -> tuple[str, str | None, str, tuple, Fraction | None]:
    """A paper-A lane reduced in the worker: engine, escalation reason, status, phases, and the
    exact upper end of the final loss enclosure."""
    loss = traj.loss(traj.final).upper if traj.records else None
    return lane.engine, lane.escalated, traj.status, tuple(traj.phases), loss


def facts_engine(index: int, facts: Any) -> str:
    return facts[0]


def facts_loss(index: int, facts: Any) -> Fraction:
    return facts[4]


def paper_a_fold() -> Fields:
    return Fields(lanes=Collect(), engines=Count(key=facts_engine), lowest_loss=Smallest(3, key=facts_loss))


def paper_a_spec(steps: int) -> Any:
    from proofs.paper_a.problem import paper_a_problem
    from verify.dynamics.schedule import RecordSchedule
    from verify.dynamics.sweep import SweepSpec

    return SweepSpec(paper_a_problem("0.1"), steps, schedule=RecordSchedule(per_decade=1))


@dataclass(frozen=True)
class PaperATask:
    steps: int
    fold: Any
    seed: int = 0
    scheme: str = "he"
    faults: Faults = Faults()

    def __call__(self, a: int, b: int) -> ChunkOutput:
        from verify.dynamics.sweep import run_chunk
        from verify.init.schemes import sample_inits

        self.faults.started(a, b)
        spec = paper_a_spec(self.steps)
        inits = sample_inits(spec.problem.network, self.scheme, self.seed, b - a, a)
        pairs = run_chunk(spec, a, inits, lane_facts)
        if self.faults.sleep:
            time.sleep(self.faults.sleep)
        self.faults.maybe_die(a, b)
        self.faults.finished(a, b)
        return ChunkOutput(fold_lanes(self.fold, ((lane.index, v) for lane, v in pairs)),
                           sum(lane.escalated is not None for lane, _ in pairs))


# -- a driver in its own process ------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", choices=("toy", "paper_a"), default="toy")
    parser.add_argument("--lanes", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=10)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--store")
    parser.add_argument("--markers")
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--executor")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    faults = Faults(markers=args.markers, sleep=args.sleep)
    if args.task == "toy":
        task: Any = ToyTask(toy_fold(), faults)
    else:
        task = PaperATask(args.steps, paper_a_fold(), faults=faults)
    settings = {"task": args.task, "lanes": args.lanes, "steps": args.steps}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    try:
        store = None
        if args.store:
            key = store_key(f"test:{args.task}", digest, ("tests.sweep_tasks",))
            store = ChunkStore.open(args.store, key, settings)
        run = run_chunks(task, args.lanes, task.fold, chunk_size=args.chunk, store=store, executor=args.executor,
                         workers=args.workers)
    except SweepInterrupted as exc:
        print(exc.message, file=sys.stderr, flush=True)
        return 128 + exc.signum
    except VerifyError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    if args.out:
        write_atomic(Path(args.out), pickle.dumps(run.value, protocol=5))
    print(json.dumps({"computed": run.computed, "resumed": run.resumed, "recomputed": run.recomputed,
                      "escalated": run.escalated, "executor": run.executor, "restarts": run.restarts}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
