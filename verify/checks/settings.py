"""What a check run is parameterised by: one frozen, validated, hashable record.

Every field is checked on construction and errors name the field, so a bad TOML
key or CLI flag becomes a one-line message. ``to_dict`` gives exact strings, so
the settings (and their hash) enter ``results.json`` deterministically.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from fractions import Fraction
from typing import Any

from verify.arith import Backend, get_backend
from verify.arith.base import check_prec
from verify.dynamics.schedule import RecordSchedule
from verify.dynamics.sweep import BATCH, ENGINES, SweepSpec
from verify.errors import InvalidArgument
from verify.exact import to_exact
from verify.init.schemes import SCHEMES
from verify.model.network import LOSSES, Problem, paper_a_problem


def _nonneg_int(field: str, value: object, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgument(field, value, f"must be an integer >= {minimum}")
    return value


@dataclass(frozen=True)
class CheckSettings:
    """Settings of a check run on paper A (defaults: a few minutes on 2 cores)."""

    scheme: str = "he"
    seed: int = 0
    inits: int = 200
    eta: Fraction = Fraction(1, 10)
    steps: int = 2000
    prec: int = 128
    max_prec: int = 1024
    backend: str = BATCH
    loss: str = "exponential"

    def __post_init__(self) -> None:
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
        except InvalidArgument:
            raise InvalidArgument("max_prec", self.max_prec, "must be an integer number of bits") from None
        if self.max_prec < self.prec:
            raise InvalidArgument("max_prec", self.max_prec, f"must be >= prec={self.prec}")
        if self.backend not in ENGINES:
            raise InvalidArgument("backend", self.backend, f"must be one of {list(ENGINES)}")
        if self.loss not in LOSSES:
            raise InvalidArgument("loss", self.loss, f"must be one of {list(LOSSES)}")

    @classmethod
    def from_mapping(cls, values: dict[str, Any], where: str = "config") -> CheckSettings:
        """Build from a TOML table or CLI overrides; unknown keys are errors."""
        known = {f.name for f in fields(cls)}
        for key in values:
            if key not in known:
                raise InvalidArgument(f"{where}.{key}", values[key], f"is not a known setting; known: {sorted(known)}")
        return cls(**values)

    def with_(self, **changes: Any) -> CheckSettings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def problem(self) -> Problem:
        return paper_a_problem(self.eta, self.loss)

    def arith(self) -> Backend:
        """The arbitrary-precision backend for computations outside GD (Arb when GD runs batched)."""
        return get_backend("arb" if self.backend == BATCH else self.backend, self.prec)

    def sweep_spec(self, schedule: RecordSchedule | None = None) -> SweepSpec:
        """How to run GD on many inits under these settings (see :mod:`verify.dynamics.sweep`)."""
        return SweepSpec(self.problem(), self.steps, self.backend, self.prec, self.max_prec,
                         schedule or RecordSchedule())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["eta"] = str(self.eta)
        return d

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the settings (first 16 hex digits)."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
