"""Paper B as a plug-in of :mod:`verify.papers` (registered as ``b`` through an entry point).

Frei, Vardi, Bartlett, Srebro, *The Double-Edged Sword of Implicit Bias: Generalization vs.
Robustness in ReLU Networks* (NeurIPS 2023, arXiv 2303.01456). The seed text has every formula
stripped: what the words fix is marked (text) in the claims, our reconstruction (ours), and every
constant we chose is one of the settings below (:class:`PaperBOptions`), part of the settings digest.

The engine settings keep their meaning: ``inits`` is the number of init seeds per width, ``steps``
the GD steps of each training run, ``eta`` the step size in units of ``1/d`` (the problem's step is
``eta / d``), ``loss`` the loss; ``scheme`` is not used (paper B's inits are
:func:`proofs.paper_b.train.small_init`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

from verify.errors import InvalidArgument
from verify.exact import to_exact
from verify.papers import CaseSpec, Paper, PaperRun, Quantity, RunContext, Section

TITLE = "The Double-Edged Sword of Implicit Bias: Generalization vs. Robustness in ReLU Networks " \
        "(Frei, Vardi, Bartlett, Srebro)"
KINDS = ("orthogonal", "sphere")
FULL = {"d": 2048, "k": 40, "n": 400, "n_test": 400, "widths": (40, 160), "grid_d": (256, 512, 1024, 2048),
        "grid_k": (5, 10, 20, 40)}


def _int(name: str, value: object, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidArgument(name, value, f"must be an integer >= {least}")
    return value


def _split(value: object) -> object:
    """A list given as text (``--set widths=8,32`` or ``[8, 32]``) or one number, as its items."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, str):
        items = [v.strip() for v in value.strip().strip("[]()").split(",") if v.strip()]
        return [int(v) if v.lstrip("-").isdigit() else v for v in items]
    return value


def _bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise InvalidArgument(name, value, "must be true or false")


def _ints(name: str, value: object, least: int = 1) -> tuple[int, ...]:
    value = _split(value)
    if isinstance(value, int | str) or not hasattr(value, "__iter__"):
        raise InvalidArgument(name, value, "must be a list of integers")
    out = tuple(value)
    if not out:
        raise InvalidArgument(name, value, "must not be empty")
    for k, v in enumerate(out):
        if isinstance(v, bool) or not isinstance(v, int) or v < least:
            raise InvalidArgument(f"{name}[{k}]", v, f"must be an integer >= {least}")
    return out


def _fracs(name: str, value: object) -> tuple[Fraction, ...]:
    value = _split(value)
    if isinstance(value, int | str | Fraction) or not hasattr(value, "__iter__"):
        raise InvalidArgument(name, value, "must be a list of positive numbers")
    out = tuple(to_exact(v, f"{name}") for v in value)
    if not out:
        raise InvalidArgument(name, value, "must not be empty")
    for k, v in enumerate(out):
        if v <= 0:
            raise InvalidArgument(f"{name}[{k}]", str(v), "must be > 0")
    return out


def _positive(name: str, value: object, upper: Fraction | None = None) -> Fraction:
    q = to_exact(value, name)
    if q <= 0:
        raise InvalidArgument(name, str(q), "must be > 0")
    if upper is not None and q > upper:
        raise InvalidArgument(name, str(q), f"must be <= {upper}")
    return q


@dataclass(frozen=True)
class PaperBOptions:
    """Paper B's own settings (every constant we chose is one of these; all enter the digest).

    Data **(ours: see proofs/paper_b/data.py)**: ``d``, ``k``, ``sigma``, ``kind``, ``data_seed``,
    ``balance`` (min(|I+|, |I-|) >= balance k), ``n`` training points, ``n_test`` test points.
    Training: ``widths`` (each with ``inits`` seeds), ``init_scale``, ``escalate`` (run again on Arb
    what float64 cannot certify; slow), ``per_decade`` (recorded steps per factor of ten).
    Generalization sweep: ``gen_ratios`` (n/k values), ``gen_widths``. Law: ``grid_k``, ``grid_d``
    (all at ``law_ratio`` training points per cluster, width ``law_width`` x k). ``full``: the large
    sizes (``FULL``: d = 2048, k = 40 and the law grid up to them), resolved here: every size of
    ``FULL`` left at its default is replaced by the large one, so the options (and the digest,
    ``results.json``, the report) hold the sizes really run; a size set to another value keeps it.
    Claim constants **(ours)**: ``flip_fraction``
    (the share of test points a universal z must flip), ``law_c`` (Theorem 4.2: ||z|| <= law_c sqrt(d/k)),
    ``max_test_error`` (Theorem 3.1: the test error allowed), ``robust_c`` (Theorem 4.1: certified
    radius >= robust_c sqrt(d)).
    """

    d: int = 256
    k: int = 8
    sigma: Fraction = Fraction(1, 16)
    kind: str = "orthogonal"
    data_seed: int = 0
    balance: Fraction = Fraction(1, 4)
    n: int = 64
    n_test: int = 256
    widths: tuple[int, ...] = (8, 32, 64)
    init_scale: Fraction = Fraction(1, 10)
    escalate: bool = False
    per_decade: int = 20
    gen_ratios: tuple[Fraction, ...] = (Fraction(1, 2), Fraction(1), Fraction(2), Fraction(4))
    gen_widths: tuple[int, ...] = (16, 64)
    grid_k: tuple[int, ...] = (4, 8, 16)
    grid_d: tuple[int, ...] = (64, 128, 256)
    law_ratio: int = 4
    law_width: int = 2
    flip_fraction: Fraction = Fraction(9, 10)
    law_c: Fraction = Fraction(2)
    max_test_error: Fraction = Fraction(1, 10)
    robust_c: Fraction = Fraction(1, 4)
    full: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "full", _bool("full", self.full))
        set_(self, "escalate", _bool("escalate", self.escalate))
        set_(self, "d", _int("d", self.d, 1))
        set_(self, "k", _int("k", self.k, 2))
        set_(self, "sigma", _positive("sigma", self.sigma))
        if self.kind not in KINDS:
            raise InvalidArgument("kind", self.kind, f"must be one of {list(KINDS)}")
        set_(self, "data_seed", _int("data_seed", self.data_seed, 0))
        set_(self, "balance", _positive("balance", self.balance, Fraction(1, 2)))
        set_(self, "n", _int("n", self.n, 1))
        set_(self, "n_test", _int("n_test", self.n_test, 1))
        set_(self, "widths", _ints("widths", self.widths))
        set_(self, "init_scale", _positive("init_scale", self.init_scale))
        set_(self, "per_decade", _int("per_decade", self.per_decade, 1))
        set_(self, "gen_ratios", _fracs("gen_ratios", self.gen_ratios))
        set_(self, "gen_widths", _ints("gen_widths", self.gen_widths))
        set_(self, "grid_k", _ints("grid_k", self.grid_k, 2))
        set_(self, "grid_d", _ints("grid_d", self.grid_d))
        set_(self, "law_ratio", _int("law_ratio", self.law_ratio, 1))
        set_(self, "law_width", _int("law_width", self.law_width, 1))
        set_(self, "flip_fraction", _positive("flip_fraction", self.flip_fraction, Fraction(1)))
        set_(self, "law_c", _positive("law_c", self.law_c))
        set_(self, "max_test_error", _positive("max_test_error", self.max_test_error, Fraction(1)))
        set_(self, "robust_c", _positive("robust_c", self.robust_c))
        if self.full:  # the preset, after validation (so `widths=8,32,64` given as text counts as the default)
            for name, value in FULL.items():
                if getattr(self, name) == _DEFAULTS[name]:
                    set_(self, name, value)


_DEFAULTS = {f.name: f.default for f in fields(PaperBOptions)}


class PaperB(Paper):
    id = "b"
    title = TITLE
    citation = "arXiv 2303.01456 (NeurIPS 2023)"
    options_type = PaperBOptions

    def defaults(self) -> dict[str, Any]:
        return {"inits": 2, "steps": 600, "eta": Fraction(4), "backend": "matrix", "loss": "exponential"}

    def problem(self, settings):
        """The training problem of the first width (every width shares the data and step)."""
        from proofs.paper_b.world import world

        w = world(settings)
        return w.problem(w.opts.widths[0])

    def cases(self, settings) -> list[CaseSpec]:
        """One case per (width, init seed); paper B's claims read the shared runs of
        :func:`proofs.paper_b.world.world` (scope ``once``), so these only name the inits."""
        from proofs.paper_b.world import world

        w = world(settings)
        out = []
        for width in w.opts.widths:
            problem = w.problem(width)
            for s in range(settings.inits):
                out.append(CaseSpec(len(out), problem, w.init(width, s)))
        return out

    def case(self, settings, index: int) -> CaseSpec:
        return self.cases(settings)[index]

    def claims(self):
        from proofs.paper_b.catalog import CLAIMS

        return CLAIMS

    def mutations(self):
        from proofs.paper_b.catalog import MUTATIONS

        return MUTATIONS

    def quantities(self) -> dict[str, Quantity]:
        from proofs.paper_b.quantities import QUANTITIES

        return QUANTITIES

    def run_extras(self, settings, ctx: RunContext) -> PaperRun:
        from proofs.paper_b.figures import run_figures

        return run_figures(settings, ctx)

    def sections(self, data: Mapping[str, Any]) -> list[Section]:
        from proofs.paper_b.figures import sections

        return sections(data)

    def findings(self, data: Mapping[str, Any]) -> list[str]:
        from proofs.paper_b.figures import findings

        return findings(data)


PAPER = PaperB()
