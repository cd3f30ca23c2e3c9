"""Sweeps over many lanes on workers, resumable from a store, folded in bounded memory.

See :mod:`verify.distributed.runner` (the driver loop), :mod:`verify.distributed.folds`
(streaming reducers), :mod:`verify.distributed.executors` (inline, local pool, dask) and
:mod:`verify.distributed.plan` (which chunks are left to compute).
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
