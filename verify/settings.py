"""What a check run is parameterised by: one frozen, validated, hashable record.

The record names a paper (a plug-in of :mod:`verify.papers`), the engine settings every paper
shares (init scheme and seed, number of inits, step size, steps, precision, engine, loss) and the
paper's own settings (``options``, a frozen dataclass the paper defines). An engine field left at
``None`` takes the paper's default (:meth:`verify.papers.Paper.defaults`), then the generic one.

Every field is checked on construction and errors name the field, so a bad TOML key or CLI flag
becomes a one-line message. ``to_dict`` gives exact strings, so the settings (and their digest)
enter ``results.json`` deterministically.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from typing import Any

from verify.arith import Backend, get_backend
from verify.arith.base import check_prec
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.sweep import BATCH, ENGINES, SweepSpec
from verify.errors import InvalidArgument
from verify.exact import to_exact
from verify.init.schemes import SCHEMES
from verify.model.network import LOSSES, Problem
from verify.papers import Paper, get_paper

DEFAULT_PAPER = "a"
GENERIC_DEFAULTS: dict[str, Any] = {
    "scheme": "he", "seed": 0, "inits": 200, "eta": Fraction(1, 10), "steps": 2000, "prec": 128, "max_prec": 1024,
    "backend": BATCH, "loss": "exponential",
}
ENGINE_FIELDS = tuple(GENERIC_DEFAULTS)


def _nonneg_int(field: str, value: object, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgument(field, value, f"must be an integer >= {minimum}")
    return value


@dataclass(frozen=True)
class CheckSettings:
    """Settings of a check run: the paper, the engine settings, and the paper's own options."""

    paper: str = DEFAULT_PAPER
    scheme: str | None = None
    seed: int | None = None
    inits: int | None = None
    eta: Fraction | None = None
    steps: int | None = None
    prec: int | None = None
    max_prec: int | None = None
    backend: str | None = None
    loss: str | None = None
    options: Any = None  # the paper's options (its ``options_type``); a mapping is parsed; None: defaults

    def __post_init__(self) -> None:
        paper = get_paper(self.paper)
        object.__setattr__(self, "paper", paper.id)
        defaults = {**GENERIC_DEFAULTS, **paper.defaults()}
        for name in ENGINE_FIELDS:
            if getattr(self, name) is None:
                object.__setattr__(self, name, defaults[name])
        if self.options is None:
            object.__setattr__(self, "options", paper.options({}))
        elif isinstance(self.options, Mapping):
            object.__setattr__(self, "options", paper.options(self.options))
        elif not isinstance(self.options, paper.options_type):
            raise InvalidArgument("options", self.options, f"must be settings of paper {paper.id}")
        self._validate()

    def _validate(self) -> None:
        if self.scheme not in SCHEMES:
            raise InvalidArgument("scheme", self.scheme, f"must be one of {list(SCHEMES)}")
        _nonneg_int("seed", self.seed)
        _nonneg_int("inits", self.inits, 1)
        _nonneg_int("steps", self.steps, 1)
        object.__setattr__(self, "eta", to_exact(self.eta, "eta"))
        if self.eta <= 0:
            raise InvalidArgument("eta", str(self.eta), "must be > 0")
        check_prec(self.prec)
        try:
            check_prec(self.max_prec)
        except InvalidArgument as exc:
            raise InvalidArgument("max_prec", self.max_prec, str(exc).split(" ", 1)[1]) from None
        if self.max_prec < self.prec:
            raise InvalidArgument("max_prec", self.max_prec, f"must be >= prec={self.prec} (raise --max-prec too)")
        if self.backend not in ENGINES:
            raise InvalidArgument("backend", self.backend, f"must be one of {list(ENGINES)}")
        if self.loss not in LOSSES:
            raise InvalidArgument("loss", self.loss, f"must be one of {list(LOSSES)}")

    @property
    def plugin(self) -> Paper:
        """The paper these settings are for."""
        return get_paper(self.paper)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str = "config", paper: str | None = None) -> CheckSettings:
        """Build from a flat TOML table or CLI overrides: engine keys, ``paper``, and the paper's
        own option keys; any other key is an error naming it."""
        paper_id = paper or values.get("paper", DEFAULT_PAPER)
        if not isinstance(paper_id, str):
            raise InvalidArgument(f"{where}.paper", paper_id, "must be a paper id string")
        plugin = get_paper(paper_id)
        option_names = {f.name for f in fields(plugin.options_type)}
        engine, options = {}, {}
        for key, value in values.items():
            if key == "paper":
                continue
            if key in ENGINE_FIELDS:
                engine[key] = value
            elif key in option_names:
                options[key] = value
            else:
                known = sorted({*ENGINE_FIELDS, *option_names, "paper"})
                raise InvalidArgument(f"{where}.{key}", value, f"is not a known setting; known: {known}")
        return cls(paper=plugin.id, options=plugin.options(options, where), **engine)

    def with_(self, **changes: Any) -> CheckSettings:
        """A copy with the non-``None`` changes (engine fields or the paper's option names)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        option_names = {f.name for f in fields(self.options)}
        opt = {k: changes.pop(k) for k in list(changes) if k in option_names}
        if opt:
            changes["options"] = replace(self.options, **opt)
        return replace(self, **changes)

    def problem(self) -> Problem:
        """The paper's problem under these settings."""
        return self.plugin.problem(self)

    def arith(self) -> Backend:
        """The arbitrary-precision backend for computations outside GD (Arb when GD runs batched)."""
        return get_backend("arb" if self.backend == BATCH else self.backend, self.prec)

    def sweep_spec(self, schedule: RecordSchedule | None = None, problem: Problem | None = None) -> SweepSpec:
        """How to run GD on many inits of ``problem`` (default: the paper's) under these settings."""
        return SweepSpec(problem if problem is not None else self.problem(), self.steps, self.backend, self.prec,
                         self.max_prec, schedule or RecordSchedule())

    def to_dict(self) -> dict[str, Any]:
        d = {name: getattr(self, name) for name in ("paper", *ENGINE_FIELDS)}
        d["eta"] = str(self.eta)
        d["options"] = self.plugin.options_dict(self.options)
        return d

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the settings (first 16 hex digits)."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
