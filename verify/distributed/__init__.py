"""Sweeps over many lanes on workers, resumable from a store, folded in bounded memory.

See :mod:`verify.distributed.runner` (the driver loop), :mod:`verify.distributed.folds`
(streaming reducers), :mod:`verify.distributed.executors` (inline, local pool, dask) and
:mod:`verify.distributed.plan` (which chunks are left to compute).

Which executor runs a local sweep (measured with ``benchmarks/bench_sweep.py`` on this shared
2-core machine, 2 workers, paper A x 1,000 steps; medians of 5, load average 5-7 while measuring):
a dask ``LocalCluster`` costs a start and close (0.8 + 0.3 s when the machine was quiet, 4-5 s
loaded) and each spawned worker then spends 0.7-1.1 s loading the kernels on its first chunk,
while forked pool workers inherit them warm. Per sweep, cold: 6.5 s on dask vs 0.15 s on the
pool for 1,000 inits, 10.4 s vs 1.5 s for 10,000; on an already running cluster the two are
within the noise (0.7-1.5x of each other). So the default is the local process pool (and inline
for one worker or one chunk); dask runs when a scheduler is named (``tcp://host:8786``) or asked
for, where its start-up is paid once per cluster and workers on other machines join. The pool stays
warm between the sweeps of one process (:class:`~verify.distributed.executors.Pool`): forking it
and its workers' first page faults cost 25-45 ms a sweep (measured on 10,000 paper-A inits,
0.13 s warm against 0.16 s forked).
"""

from verify.distributed.executors import EXECUTORS, WorkersLost
from verify.distributed.folds import (
    Collect,
    Count,
    Fields,
    Filter,
    Fold,
    Histogram,
    Smallest,
    Sum,
    fold_lanes,
    lane_index,
    merge_all,
)
from verify.distributed.plan import choose_tiling, gaps
from verify.distributed.runner import (
    ChunkOutput,
    SweepFailed,
    SweepInterrupted,
    SweepRun,
    choose_executor,
    default_workers,
    run_chunks,
)
from verify.distributed.signals import Interrupted, stop_on_signals

__all__ = [
    "EXECUTORS",
    "ChunkOutput",
    "Collect",
    "Count",
    "Fields",
    "Filter",
    "Fold",
    "Histogram",
    "Interrupted",
    "Smallest",
    "Sum",
    "SweepFailed",
    "SweepInterrupted",
    "SweepRun",
    "WorkersLost",
    "choose_executor",
    "choose_tiling",
    "default_workers",
    "fold_lanes",
    "gaps",
    "lane_index",
    "merge_all",
    "run_chunks",
    "stop_on_signals",
]
