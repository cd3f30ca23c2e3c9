"""An on-disk store of a sweep's finished chunks: one checksummed file per chunk, written atomically.

A store holds the reduced results of one :class:`~verify.store.key.StoreKey` (task, settings
digest, code identity). Its layout::

    ROOT/ID/meta.json                               the key, caller metadata, creation time
    ROOT/ID/chunks/SSSSSSSSSSSS-EEEEEEEEEEEE.chunk  lanes S .. E-1 (E exclusive), 12 digits each
    ROOT/ID/chunks/....chunk.corrupt                a chunk that failed its check (kept for inspection)

``ID`` is :attr:`StoreKey.id`. A chunk file is ``MAGIC | SHA-256(body) | body`` with
``body = header JSON line | payload``; the header names the store id, the range, the codec and
the payload's length, so a flipped byte anywhere, a truncation, or a file copied into the wrong
store or renamed to the wrong range fails the check. Invariant: a ``.chunk`` file that passes
the check holds exactly what :meth:`ChunkStore.put` was given for that key and range.

Why one file per chunk and not SQLite:

* concurrent writers (several drivers, or workers writing directly) need no lock: each chunk
  has its own name, :func:`os.replace` of a complete staging file is atomic, and two writers of
  the same chunk write the same bytes (the payload is a function of the key and range);
  SQLite serializes writers through a file lock;
* clusters keep results on NFS, where SQLite's locking is unreliable (its own documentation
  warns against it) while a rename is atomic on the server;
* crash safety is the staging file + ``fsync`` + rename (+ ``fsync`` of the folder) of
  :mod:`verify.store.atomic`: a killed writer leaves at worst a staging file, never a partial
  chunk; corruption after the fact (disk, copy, editing) is caught per chunk by its checksum
  and costs that chunk only, instead of a database page holding many;
* listing, pruning and inspecting are ``ls`` and ``rm`` on folders; a store can be copied
  between machines with ``rsync``.

The price, many small files (one per 2048 lanes by default, so 500 for 10⁶ inits), is small.

Payloads are serialized with :mod:`pickle` (protocol 5): chunk summaries are small trees of
ints, Fractions, strings, tuples and the toolkit's frozen dataclasses, which pickle exactly
(a Fraction as its numerator and denominator: no rounding) and unpickle to equal values of
the same types, so a result folded from stored chunks equals one folded from freshly computed
chunks, and renders to the same ``repr`` and the same JSON (tests check this). The bytes of a
chunk file are not compared across runs (pickle's memo depends on which equal objects happen
to be shared), only its checksum against itself. Pickle runs code named by the data when loading:
a store is trusted like the code itself (it lives in the user's cache and is written only by
the user's own runs); never point a sweep at a store from an untrusted source. The checksum
guards against corruption, not against a malicious writer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify.errors import InvalidArgument
from verify.store.atomic import (
    DEFAULT_RESERVE,
    StoreError,
    probe_location,
    remove_stale_staging,
    write_atomic,
)
from verify.store.key import StoreKey

MAGIC = b"VFYCHK01"
DIGEST_BYTES = 32
CODEC = "pickle-5"
FORMAT = 1
META = "meta.json"
CHUNKS = "chunks"
_NAME = re.compile(r"^(\d{12})-(\d{12})\.chunk$")


class CorruptChunkWarning(UserWarning):
    """A stored chunk failed its check; it is set aside and recomputed."""


class StoreMetaWarning(UserWarning):
    """A store's meta.json was unreadable and has been written again from the key."""


def chunk_name(start: int, stop: int) -> str:
    return f"{start:012d}-{stop:012d}.chunk"


def _check_range(start: object, stop: object) -> tuple[int, int]:
    for name, v in (("start", start), ("stop", stop)):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 10**12:
            raise InvalidArgument(name, v, "must be an integer in [0, 10**12)")
    if not start < stop:  # type: ignore[operator]
        raise InvalidArgument("stop", stop, f"must be > start={start}")
    return start, stop  # type: ignore[return-value]


def encode_chunk(store_id: str, start: int, stop: int, payload: Any) -> bytes:
    """The bytes of a chunk file holding ``payload`` for lanes ``start .. stop - 1``."""
    data = pickle.dumps(payload, protocol=5)
    header = json.dumps({"store": store_id, "start": start, "stop": stop, "codec": CODEC, "size": len(data)},
                        sort_keys=True, separators=(",", ":")).encode()
    body = header + b"\n" + data
    return MAGIC + hashlib.sha256(body).digest() + body


class _Corrupt(Exception):
    pass


def decode_chunk(blob: bytes, store_id: str, start: int, stop: int) -> Any:
    """The payload of a chunk file, or :class:`_Corrupt` with the reason it fails its check."""
    head = len(MAGIC) + DIGEST_BYTES
    if len(blob) < head:
        raise _Corrupt(f"truncated ({len(blob)} bytes)")
    if blob[: len(MAGIC)] != MAGIC:
        raise _Corrupt("not a chunk file (bad magic)")
    body = blob[head:]
    if hashlib.sha256(body).digest() != blob[len(MAGIC): head]:
        raise _Corrupt("checksum mismatch")
    line, _, data = body.partition(b"\n")
    try:
        header = json.loads(line)
    except ValueError:
        raise _Corrupt("unreadable header") from None
    expected = {"store": store_id, "start": start, "stop": stop, "codec": CODEC, "size": len(data)}
    if header != expected:
        raise _Corrupt(f"header {header} does not match {expected}")
    try:
        return pickle.loads(data)
    except Exception as exc:  # a payload naming code that no longer exists
        raise _Corrupt(f"payload does not load ({type(exc).__name__}: {exc})") from None


@dataclass(frozen=True)
class StoreCheck:
    """Outcome of :meth:`ChunkStore.verify`: the good ranges and the corrupt ones with reasons."""

    ok: tuple[tuple[int, int], ...]
    corrupt: tuple[tuple[int, int, str], ...]

    @property
    def lanes(self) -> int:
        return sum(b - a for a, b in self.ok)


class ChunkStore:
    """The chunks of one key under ``root``; see the module doc. Create with :meth:`open`."""

    def __init__(self, path: Path, key: StoreKey, metadata: dict[str, Any], created: str) -> None:
        self.path = path
        self.key = key
        self.metadata = metadata
        self.created = created
        self.chunks = path / CHUNKS

    def __repr__(self) -> str:
        return f"ChunkStore({str(self.path)!r}, task={self.key.task!r})"

    @classmethod
    def open(cls, root: Path | str, key: StoreKey, metadata: dict[str, Any] | None = None, *,
             reserve: int = DEFAULT_RESERVE) -> ChunkStore:
        """Open (or create) the store of ``key`` under ``root``.

        First probes that ``root`` is a writable folder with ``reserve`` bytes free, so an
        unusable location fails with one line (:class:`~verify.errors.InvalidArgument` naming
        ``store``) before any work. Removes staging files of dead writers. ``metadata`` (JSON
        values: settings, versions) is recorded when the store is created.
        """
        metadata = dict(metadata or {})
        try:
            json.dumps(metadata, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument("metadata", metadata, f"must be JSON-serializable ({exc})") from None
        root = Path(root)
        probe_location(root, reserve)
        path = root / key.id
        try:
            (path / CHUNKS).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidArgument("store", str(path), f"is not a writable folder ({exc.strerror})") from None
        remove_stale_staging(path)
        remove_stale_staging(path / CHUNKS)
        meta = _read_meta(path)
        if meta is not None:
            stored = meta.get("key")
            if stored != key.to_dict():
                raise StoreError(f"store={str(path)!r} holds key {stored}, not {key.to_dict()}; move it away")
            return cls(path, key, meta.get("metadata", {}), meta.get("created", ""))
        if (path / META).exists():
            warnings.warn(f"store {path}: meta.json was unreadable; written again from the key "
                          f"(chunks are checked against the store id on their own)", StoreMetaWarning, stacklevel=2)
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        doc = {"format": FORMAT, "id": key.id, "key": key.to_dict(), "metadata": metadata, "created": created}
        try:
            write_atomic(path / META, (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())
        except OSError as exc:
            raise InvalidArgument("store", str(path), f"is not writable ({exc.strerror})") from None
        return cls(path, key, metadata, created)

    @classmethod
    def at(cls, path: Path | str) -> ChunkStore:
        """An existing store folder, as it is (for listing and verifying; no probe, no writes)."""
        path = Path(path)
        meta = _read_meta(path)
        if meta is None:
            raise InvalidArgument("store", str(path), "is not a store (no readable meta.json)")
        try:
            key = StoreKey.from_dict(meta["key"])
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise InvalidArgument("store", str(path), f"has a malformed key in meta.json ({exc})") from None
        return cls(path, key, meta.get("metadata", {}), meta.get("created", ""))

    # -- chunks -----------------------------------------------------------------------------

    def ranges(self) -> list[tuple[int, int]]:
        """The ranges ``(start, stop)`` of the chunk files present (not yet checked), sorted."""
        try:
            names = os.listdir(self.chunks)
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            m = _NAME.match(name)
            if m and int(m[1]) < int(m[2]):
                out.append((int(m[1]), int(m[2])))
        return sorted(out)

    def put(self, start: int, stop: int, payload: Any) -> None:
        """Store ``payload`` for lanes ``start .. stop - 1``, atomically (it replaces an older copy).

        A failed write (full disk, store removed) raises :class:`StoreError` and leaves no
        partial file; chunks written before stay.
        """
        start, stop = _check_range(start, stop)
        blob = encode_chunk(self.key.id, start, stop, payload)
        try:
            write_atomic(self.chunks / chunk_name(start, stop), blob)
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise StoreError(f"store={str(self.path)!r} could not write lanes {start}..{stop - 1} ({why}); "
                             f"{len(self.ranges())} earlier chunks are kept") from None

    def get(self, start: int, stop: int) -> Any:
        """The payload of lanes ``start .. stop - 1``; :class:`KeyError` if absent or corrupt.

        A corrupt chunk is reported with a :class:`CorruptChunkWarning`, renamed to
        ``*.corrupt`` and treated as absent, so the sweep computes it again.
        """
        start, stop = _check_range(start, stop)
        path = self.chunks / chunk_name(start, stop)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise KeyError((start, stop)) from None
        try:
            return decode_chunk(blob, self.key.id, start, stop)
        except _Corrupt as exc:
            self._set_aside(path)
            warnings.warn(f"store {self.path}: chunk of lanes {start}..{stop - 1} is corrupt ({exc}); "
                          f"it will be recomputed", CorruptChunkWarning, stacklevel=2)
            raise KeyError((start, stop)) from None

    def discard(self, start: int, stop: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.chunks / chunk_name(start, stop)).unlink()

    def _set_aside(self, path: Path) -> None:
        with contextlib.suppress(OSError):
            os.replace(path, path.with_name(path.name + ".corrupt"))

    def verify(self) -> StoreCheck:
        """Check every chunk; corrupt ones are set aside (``*.corrupt``) and listed with the reason."""
        ok, bad = [], []
        for start, stop in self.ranges():
            path = self.chunks / chunk_name(start, stop)
            try:
                decode_chunk(path.read_bytes(), self.key.id, start, stop)
            except FileNotFoundError:
                continue
            except _Corrupt as exc:
                self._set_aside(path)
                bad.append((start, stop, str(exc)))
            else:
                ok.append((start, stop))
        return StoreCheck(tuple(ok), tuple(bad))

    def staging_files(self) -> list[Path]:
        """Staging files present in the store (a writer is running, or one died on another host)."""
        return [p for folder in (self.path, self.chunks) if folder.exists()
                for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((path / META).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("key"), dict) else None
