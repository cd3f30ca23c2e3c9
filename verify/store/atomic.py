"""Crash-safe files and folders: a reader sees the old content or the whole new one, never a part.

A file is written to a staging name in the same folder, flushed and ``fsync``-ed, renamed over
its target with :func:`os.replace` (atomic on POSIX filesystems, NFS included: a rename is one
server operation), and the folder is ``fsync``-ed so the rename itself survives a power cut.
A folder is built under a staging name and renamed into place the same way.

Staging names carry the writer's host and process id (``.NAME.HOST.PID.RANDOM.tmp``), so
leftovers of a killed writer are recognised: :func:`remove_stale_staging` removes those whose
writer (on this host) is dead, and leaves those of live writers and of other hosts alone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

from verify.errors import InvalidArgument, VerifyError

STAGING_SUFFIX = ".tmp"
DEFAULT_RESERVE = 64 * 2**20  # free bytes a store location must have before a sweep starts


class StoreError(VerifyError):
    """Writing to a store failed while a sweep ran (full disk, removed folder, I/O error)."""


def _host() -> str:
    return socket.gethostname().replace(".", "_") or "host"


def staging_name(target: str) -> str:
    """A fresh staging name for ``target`` (a bare name), unique across hosts and processes."""
    return f".{target}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}{STAGING_SUFFIX}"


def _staging_owner(name: str) -> tuple[str, int] | None:
    """``(host, pid)`` of the writer of staging name ``name``, or None if it is not one."""
    if not (name.startswith(".") and name.endswith(STAGING_SUFFIX)):
        return None
    parts = name[: -len(STAGING_SUFFIX)].rsplit(".", 3)
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def fsync_dir(folder: Path) -> None:
    """Make the entries of ``folder`` (a rename into it) durable; a no-op where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` at once: staging file, fsync, :func:`os.replace`, fsync of the folder.

    On any failure (a full disk: ``ENOSPC``/``EFBIG``) the staging file is removed and ``path``
    is untouched; the :class:`OSError` propagates.
    """
    tmp = path.parent / staging_name(path.name)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:  # also KeyboardInterrupt: never leave the staging file behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def remove_stale_staging(folder: Path) -> list[Path]:
    """Remove staging files and folders in ``folder`` left by dead writers on this host."""
    removed = []
    host = _host()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        owner = _staging_owner(entry.name)
        if owner is None or owner[0] != host or _alive(owner[1]):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
        removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Build a folder that replaces ``target`` only if the block finishes.

    Yields a staging folder beside ``target``; on success the old ``target`` (if any) is
    removed and the staging folder renamed to it; on any exception (a signal turned into one
    included) the staging folder is removed and ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / staging_name(target.name)
    staging.mkdir()
    try:
        yield staging
        if target.exists():
            old = target.parent / staging_name(target.name + ".old")
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
        fsync_dir(target.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def probe_location(folder: Path, reserve: int = DEFAULT_RESERVE, field: str = "store") -> None:
    """Fail now, with one line, if ``folder`` cannot hold a sweep's results.

    Creates ``folder`` if needed, writes, fsyncs and removes a probe file in it, and checks that
    at least ``reserve`` bytes are free there. Raises :class:`~verify.errors.InvalidArgument`
    naming ``field``; never leaves the probe behind.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / staging_name("probe")  # unique: concurrent probes do not collide
        write_atomic(probe, b"probe")
        probe.unlink()
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            raise InvalidArgument(field, str(folder), f"has no space left ({why})") from None
        raise InvalidArgument(field, str(folder), f"is not a writable folder ({why})") from None
    free = shutil.disk_usage(folder).free
    if free < reserve:
        raise InvalidArgument(field, str(folder), f"has {free / 2**20:.1f} MiB free; a sweep needs at least "
                                                  f"{reserve / 2**20:.0f} MiB there")
