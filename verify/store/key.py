"""What a stored sweep result is a function of: the key of a store.

A chunk's reduced payload is a function of (a) the task (which reduce runs over which inits:
e.g. paper A's claims, or Figure 3 on the xavier inits), (b) the settings (summarized by their
digest, :meth:`verify.settings.CheckSettings.digest`), and (c) the code that computes it.
:class:`StoreKey` holds all three, and a store's directory is named by the SHA-256 of the key's
canonical JSON, so results of different settings or code versions can never be mixed: they
live in different stores.

The code part, :class:`CodeIdentity`, is

* the package version (``verify-mlt``);
* ``source``: SHA-256 over the source files of ``modules``. By default (:data:`ENGINE_MODULES`)
  these are the modules whose text decides a lane's numbers and its escalation:
  ``verify.arith`` (the interval arithmetics and their rounding), ``verify.dynamics`` (the GD
  step, the batch kernels' generator, sweeps), ``verify.model`` (networks, losses, data),
  ``verify.init`` (the init samplers: a settings digest names its inits only through them) and
  ``verify.exact`` (exact entry of inputs). A caller whose reduce lives elsewhere (the claim
  checkers, a paper's catalog) adds those modules, since a changed checker changes the payload.
  The CLI, the report writers and the store itself are deliberately left out: editing them
  does not change a lane's result, and should not throw away hours of stored sweeps;
* ``libraries``: the versions of the libraries that do the arithmetic (python-flint's Arb,
  mpmath, numpy, numba compiling the float64 kernels) and Python's ``major.minor``: an upgrade
  can move an Arb radius or a libm ``exp`` by an ulp, which can change whether a lane is
  escalated or a claim is decided, so it starts a new store.

Invariant: equal keys mean equal payloads for equal chunk ranges (the computation is
deterministic given the key); :attr:`StoreKey.id` is a pure function of the key.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from verify.errors import InvalidArgument

PACKAGE = "verify-mlt"
ENGINE_MODULES = ("verify.arith", "verify.dynamics", "verify.model", "verify.init", "verify.exact")
ARITHMETIC_LIBRARIES = ("python-flint", "mpmath", "numpy", "numba")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _module_files(module: str) -> list[tuple[str, Path]]:
    """``(name, path)`` of every ``.py`` file of ``module`` (a package: every file below it)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        raise InvalidArgument("modules", module, "must name an importable module or package with source files")
    origin = Path(spec.origin)
    if spec.submodule_search_locations:  # a package: all of its files, in a fixed order
        root = origin.parent
        files = sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix())
        return [(f"{module}/{p.relative_to(root).as_posix()}", p) for p in files]
    return [(module, origin)]


def source_hash(modules: Sequence[str]) -> str:
    """SHA-256 (hex) over the names and contents of the source files of ``modules``.

    The order of ``modules`` does not matter; a file's name enters with its content, so moving
    code between files changes the hash.
    """
    h = hashlib.sha256()
    for name, path in sorted({f for m in modules for f in _module_files(m)}):
        h.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


@dataclass(frozen=True)
class CodeIdentity:
    """The code a payload was computed with (see the module doc)."""

    version: str
    source: str
    modules: tuple[str, ...]  # sorted
    libraries: tuple[tuple[str, str], ...]  # (name, version), sorted by name

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "source": self.source, "modules": list(self.modules),
                "libraries": dict(self.libraries)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CodeIdentity:
        return cls(str(d["version"]), str(d["source"]), tuple(sorted(d["modules"])),
                   tuple(sorted((str(k), str(v)) for k, v in d["libraries"].items())))


@lru_cache(maxsize=16)
def _current_code(modules: tuple[str, ...]) -> CodeIdentity:
    libraries = tuple((lib, _version(lib)) for lib in ARITHMETIC_LIBRARIES)
    libraries += (("python", f"{sys.version_info.major}.{sys.version_info.minor}"),)
    return CodeIdentity(_version(PACKAGE), source_hash(modules), modules, tuple(sorted(libraries)))


def current_code(extra_modules: Sequence[str] = ()) -> CodeIdentity:
    """This process's :class:`CodeIdentity` over :data:`ENGINE_MODULES` and ``extra_modules``.

    Cached per module set for the life of the process (a running sweep's code does not change
    under it; a source file edited meanwhile is seen by the next process).
    """
    modules = tuple(sorted({*ENGINE_MODULES, *extra_modules}))
    return _current_code(modules)


@dataclass(frozen=True)
class StoreKey:
    """What a store's payloads are a function of: task, settings digest and code."""

    task: str
    settings_digest: str
    code: CodeIdentity

    def __post_init__(self) -> None:
        for name in ("task", "settings_digest"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise InvalidArgument(name, value, "must be a non-empty string")

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "settings_digest": self.settings_digest, "code": self.code.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StoreKey:
        return cls(str(d["task"]), str(d["settings_digest"]), CodeIdentity.from_dict(d["code"]))

    @property
    def id(self) -> str:
        """First 24 hex digits of the SHA-256 of the key's canonical JSON (the store's folder name)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:24]


def store_key(task: str, settings_digest: str, extra_modules: Sequence[str] = ()) -> StoreKey:
    """The key of ``task`` under settings ``settings_digest`` with this process's code."""
    return StoreKey(task, settings_digest, current_code(extra_modules))
