"""How a sweep of the command line runs: where (executor, scheduler), in what chunks, with which store.

None of these change a result (a sweep's value is independent of the executor, the workers, the
chunking and of what came from the store), so they are kept out of
:class:`~verify.settings.CheckSettings` and out of its digest: a sweep resumed on a cluster
reads the chunks a laptop stored, and ``results.json`` stays byte-identical.

:class:`SweepOptions` is handed to :func:`verify.claims.runner.check_claims` explicitly, or set
for a block with :func:`use_options` (what ``verify check`` / ``verify run`` do, so the claim
language's command and the paper's own runs pick it up without new parameters).

The store is on by default on the command line (``$VERIFY_STORE``, else the XDG cache folder,
:func:`verify.store.default_root`); a library call of ``check_claims`` uses none unless given one.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from verify.distributed.executors import EXECUTORS
from verify.errors import InvalidArgument

SWEEP_FIELDS = ("scheduler", "executor", "store", "chunk_size")  # also accepted in a TOML config


@dataclass(frozen=True)
class SweepOptions:
    """``store``: the store root (None: no store); ``fresh``: ignore what it holds (and overwrite);
    ``executor``: inline | pool | dask (None: chosen); ``scheduler``: a dask address;
    ``chunk_size``: lanes per chunk (None: chosen from the number of lanes); ``progress``: the
    progress line on stderr (None: only on a terminal); ``keep``: see
    :func:`~verify.claims.runner.check_claims`."""

    store: Path | None = None
    fresh: bool = False
    executor: str | None = None
    scheduler: str | None = None
    chunk_size: int | None = None
    progress: bool | None = None
    keep: str = "all"  # outcomes a check keeps: "all", or "examples" (memory bounded by the claims)

    def __post_init__(self) -> None:
        if self.keep not in ("all", "examples"):
            raise InvalidArgument("keep", self.keep, "must be 'all' or 'examples'")
        if self.executor is not None and self.executor not in EXECUTORS:
            raise InvalidArgument("executor", self.executor, f"must be one of {list(EXECUTORS)}")
        if self.scheduler is not None and (not isinstance(self.scheduler, str) or "://" not in self.scheduler):
            raise InvalidArgument("scheduler", self.scheduler, "must be an address like tcp://host:8786")
        if self.scheduler is not None and self.executor not in (None, "dask"):
            raise InvalidArgument("executor", self.executor, "must be 'dask' when a scheduler is given")
        if self.chunk_size is not None and (isinstance(self.chunk_size, bool) or not isinstance(self.chunk_size, int)
                                            or self.chunk_size < 1):
            raise InvalidArgument("chunk_size", self.chunk_size, "must be an integer >= 1")
        if self.store is not None and not isinstance(self.store, Path):
            object.__setattr__(self, "store", Path(self.store))

    def with_(self, **changes: Any) -> SweepOptions:
        return replace(self, **changes)


def options_from(config: Mapping[str, Any], *, store: Path | None = None, no_store: bool = False,
                 fresh: bool = False, executor: str | None = None, scheduler: str | None = None,
                 chunk_size: int | None = None, progress: bool | None = None, keep: str = "all") -> SweepOptions:
    """The command line's options: flags over the config file's :data:`SWEEP_FIELDS`, the store on by
    default (``--no-store`` turns it off). Bad values name their field."""
    from verify.store import default_root

    def pick(name: str, flag: Any) -> Any:
        if flag is not None:
            return flag
        value = config.get(name)
        if value is not None and name in ("scheduler", "executor", "store") and not isinstance(value, str):
            raise InvalidArgument(f"config.{name}", value, "must be a string")
        return value

    root = pick("store", store)
    if no_store:
        if store is not None:
            raise InvalidArgument("store", str(store), "cannot be given with --no-store")
        root = None
    elif root is None:
        root = default_root()
    return SweepOptions(store=Path(root) if root is not None else None, fresh=fresh,
                        executor=pick("executor", executor), scheduler=pick("scheduler", scheduler),
                        chunk_size=pick("chunk_size", chunk_size), progress=progress, keep=keep)


_CURRENT: contextvars.ContextVar[SweepOptions | None] = contextvars.ContextVar("verify_sweep_options", default=None)


def current_options() -> SweepOptions | None:
    """The options set by the innermost :func:`use_options` block (None outside any)."""
    return _CURRENT.get()


@contextlib.contextmanager
def use_options(options: SweepOptions | None) -> Iterator[SweepOptions | None]:
    """Within the block, sweeps of :func:`~verify.claims.runner.check_claims` use ``options``."""
    token = _CURRENT.set(options)
    try:
        yield options
    finally:
        _CURRENT.reset(token)
