"""On-disk, resumable results of sweeps: one checksummed file per finished chunk.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as root:
...     store = ChunkStore.open(root, store_key("demo", "0123456789abcdef"), {"inits": 4})
...     store.put(0, 2, {"certified": 2})
...     print(store.get(0, 2), store.ranges(), [s.lanes for s in list_stores(root)])
{'certified': 2} [(0, 2)] [2]

See :mod:`verify.store.chunks` (format, and why files rather than SQLite), :mod:`verify.store.key`
(what a store is keyed by), :mod:`verify.store.catalog` (listing, pruning) and
:mod:`verify.store.atomic` (crash-safe writes, staging clean-up, the up-front location probe).
"""

import os
from pathlib import Path

from verify.store.atomic import StoreError, atomic_directory, probe_location, remove_stale_staging, write_atomic
from verify.store.catalog import StoreInfo, list_stores, prune, store_info
from verify.store.chunks import ChunkStore, CorruptChunkWarning, StoreCheck, StoreMetaWarning
from verify.store.key import ENGINE_MODULES, CodeIdentity, StoreKey, current_code, source_hash, store_key


def default_root() -> Path:
    """``$VERIFY_STORE``, else ``$XDG_CACHE_HOME/verify-mlt/store``, else ``~/.cache/verify-mlt/store``
    (beside the batch kernels' cache)."""
    if os.environ.get("VERIFY_STORE"):
        return Path(os.environ["VERIFY_STORE"])
    cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(cache) if cache else Path.home() / ".cache") / "verify-mlt" / "store"


__all__ = [
    "ENGINE_MODULES",
    "ChunkStore",
    "CodeIdentity",
    "CorruptChunkWarning",
    "StoreCheck",
    "StoreError",
    "StoreInfo",
    "StoreKey",
    "StoreMetaWarning",
    "atomic_directory",
    "current_code",
    "default_root",
    "list_stores",
    "probe_location",
    "prune",
    "remove_stale_staging",
    "source_hash",
    "store_info",
    "store_key",
    "write_atomic",
]
