"""The stores under a root: list them, and prune by age, by id, or by not matching the current code.

A store is removed by renaming its folder to a staging name first (one atomic step: a reader
sees the whole store or none of it) and deleting that afterwards. A sweep still writing into a
pruned store fails its next write with a one-line :class:`~verify.store.atomic.StoreError`.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify.errors import InvalidArgument
from verify.store.atomic import remove_stale_staging, staging_name
from verify.store.chunks import CHUNKS, ChunkStore
from verify.store.key import CodeIdentity, StoreKey


@dataclass(frozen=True)
class StoreInfo:
    """One store folder: its key (None if its meta.json is unreadable) and what it holds."""

    id: str
    path: Path
    key: StoreKey | None
    metadata: dict[str, Any]
    created: str
    modified: float  # newest mtime of its files (seconds since the epoch)
    chunks: int
    lanes: int
    bytes: int

    def age(self, now: float | None = None) -> float:
        """Seconds since the store was last written."""
        return (time.time() if now is None else now) - self.modified

    def matches_code(self, code: CodeIdentity) -> bool:
        return self.key is not None and self.key.code == code

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "path": str(self.path), "key": self.key.to_dict() if self.key else None,
                "metadata": self.metadata, "created": self.created, "modified": self.modified,
                "chunks": self.chunks, "lanes": self.lanes, "bytes": self.bytes}


def store_info(path: Path) -> StoreInfo:
    """What the store folder ``path`` holds (its chunks are counted, not checked)."""
    try:
        store: ChunkStore | None = ChunkStore.at(path)
    except InvalidArgument:
        store = None
    files = [p for p in path.rglob("*") if p.is_file()]
    stats = [p.stat() for p in files]
    ranges = store.ranges() if store else []
    chunk_files = [s for p, s in zip(files, stats, strict=True) if p.parent.name == CHUNKS and p.suffix == ".chunk"]
    return StoreInfo(
        id=path.name, path=path, key=store.key if store else None, metadata=store.metadata if store else {},
        created=store.created if store else "", modified=max((s.st_mtime for s in stats), default=path.stat().st_mtime),
        chunks=len(ranges), lanes=sum(b - a for a, b in ranges), bytes=sum(s.st_size for s in chunk_files),
    )


def list_stores(root: Path | str) -> list[StoreInfo]:
    """Every store folder under ``root``, most recently written first (none if ``root`` is absent)."""
    root = Path(root)
    if not root.is_dir():
        return []
    infos = [store_info(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(infos, key=lambda s: (-s.modified, s.id))


def prune(root: Path | str, *, older_than: float | None = None, ids: Collection[str] | None = None,
          stale_for: CodeIdentity | None = None, dry_run: bool = False) -> list[StoreInfo]:
    """Remove the stores under ``root`` that match every criterion given; return them.

    ``older_than``: last written more than this many seconds ago; ``ids``: the store's id is one
    of these (a unique prefix of at least 6 digits is enough); ``stale_for``: the store's code
    identity differs from this one (unreadable stores count as stale). At least one criterion
    is required, so nothing is pruned by accident. ``dry_run`` only lists.
    """
    if older_than is None and ids is None and stale_for is None:
        raise InvalidArgument("prune", None, "needs a criterion: older_than, ids or stale_for")
    if older_than is not None and not older_than >= 0:
        raise InvalidArgument("older_than", older_than, "must be >= 0 seconds")
    root = Path(root)
    stores = list_stores(root)
    chosen = stores
    if ids is not None:
        wanted = set()
        for prefix in ids:
            hits = [s.id for s in stores if s.id.startswith(prefix)]
            if len(prefix) < 6 or len(hits) != 1:
                raise InvalidArgument("id", prefix, f"must name exactly one store under {str(root)!r} "
                                                    f"(6+ leading digits; {len(hits)} match)")
            wanted.add(hits[0])
        chosen = [s for s in chosen if s.id in wanted]
    if older_than is not None:
        now = time.time()
        chosen = [s for s in chosen if s.age(now) > older_than]
    if stale_for is not None:
        chosen = [s for s in chosen if not s.matches_code(stale_for)]
    if not dry_run:
        for s in chosen:
            trash = root / staging_name(s.id)
            os.replace(s.path, trash)
            shutil.rmtree(trash, ignore_errors=True)
        remove_stale_staging(root)
    return chosen
