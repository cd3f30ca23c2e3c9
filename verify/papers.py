"""Papers as plug-ins: the interface a paper package implements, and the registry that finds them.

The engine (``verify``) knows networks, data, gradient descent and claims, and no paper. A paper
is a plug-in: an instance of a :class:`Paper` subclass that says which problem its settings build,
which claims (and deliberately false *mutations*) it states, which named quantities a user's claim
file may use, what its own settings are, and which figures and sections its report adds.

Discovery follows the Python packaging convention (pytest finds its plug-ins the same way): a
distribution declares an entry point in the group :data:`ENTRY_POINT_GROUP`, e.g. in its
``pyproject.toml``::

    [project.entry-points."verify.papers"]
    a = "proofs.paper_a:PAPER"

and :func:`registry` loads every such object once. :func:`register` adds a paper at run time
(tests, notebooks). A third-party package therefore adds a paper by installing itself; nothing in
``verify`` changes.

Invariant: a registered paper's ``id`` is unique, and everything it returns is a function of its
settings only (so reports are deterministic and settings digests identify results).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from fractions import Fraction
from importlib import metadata
from typing import TYPE_CHECKING, Any

from verify.errors import InvalidArgument, VerifyError

if TYPE_CHECKING:
    from verify.claims.claim import Claim
    from verify.dynamics.trajectory import Trajectory
    from verify.model.network import Problem
    from verify.settings import CheckSettings

ENTRY_POINT_GROUP = "verify.papers"


@dataclass(frozen=True)
class NoOptions:
    """A paper without settings of its own."""


@dataclass(frozen=True)
class CaseSpec:
    """One exact starting point of a check: a problem (network, data, step size) and ``theta_0``.

    Cases that share a problem share the *same* :class:`~verify.model.network.Problem` object, so a
    sweep can run them together (the float64 batch lanes run many inits of one problem at once).
    """

    index: int
    problem: Problem
    theta0: tuple[Fraction, ...]


@dataclass(frozen=True)
class Figure:
    """A figure a paper adds to its report: a title, a file stem and a matplotlib figure."""

    title: str
    stem: str
    figure: Any


@dataclass(frozen=True)
class Section:
    """A report section a paper adds, in both formats (rendered from stored data only)."""

    title: str
    markdown: str
    html: str


@dataclass
class PaperRun:
    """What a paper computes for its report beyond the claims: deterministic data (stored in
    ``results.json`` under ``paper_data``), figures, wall times, and the engines that certified
    the runs behind each part (one line per part)."""

    data: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Quantity:
    """A named quantity a claim file may use: ``value(theta, problem)`` maps the parameter
    enclosures at one step (by name) to an enclosure. ``expr``, when given, is the same quantity
    as a sympy expression of the parameters (so a claim using it can be reasoned about
    symbolically, e.g. by a tail certificate); ``show`` asks ``verify trajectory`` to print it."""

    name: str
    doc: str
    value: Callable[[Mapping[str, Any], Problem], Any]
    expr: str | None = None
    show: bool = False


@dataclass(frozen=True)
class RunContext:
    """What ``verify run`` hands a paper: worker count, a progress factory and quietness."""

    workers: int
    quiet: bool = True
    progress: Callable[[str, int], Callable[[int], None]] | None = None

    def bar(self, label: str, total: int) -> Callable[[int], None]:
        """A progress callback ``done -> None`` for ``total`` units (a no-op when quiet)."""
        if self.progress is None or self.quiet:
            return lambda done: None
        return self.progress(label, total)


class Paper(ABC):
    """The plug-in interface. Subclasses set the class attributes and implement :meth:`problem`
    and :meth:`claims`; everything else has a default."""

    id: str = ""
    title: str = ""
    citation: str = ""
    options_type: type = NoOptions  # a frozen dataclass of the paper's own settings, with defaults

    # --- settings -----------------------------------------------------------------------------
    def defaults(self) -> dict[str, Any]:
        """Engine settings this paper runs with unless told otherwise (e.g. ``eta``, ``steps``)."""
        return {}

    def options(self, values: Mapping[str, Any], where: str = "config") -> Any:
        """The paper's own settings from a mapping; unknown keys and bad values name the field."""
        known = {f.name for f in fields(self.options_type)}
        for key in values:
            if key not in known:
                raise InvalidArgument(f"{where}.{key}", values[key], f"is not a setting of paper {self.id}")
        return self.options_type(**values)

    def options_dict(self, options: Any) -> dict[str, Any]:
        """The options as JSON-ready exact values (part of the settings digest)."""
        return {f.name: _jsonable(getattr(options, f.name)) for f in fields(options)}

    # --- what is checked ----------------------------------------------------------------------
    @abstractmethod
    def problem(self, settings: CheckSettings) -> Problem:
        """The network, data and step size the settings describe (for papers with one problem)."""

    def cases(self, settings: CheckSettings) -> list[CaseSpec]:
        """The starting points of a check: by default ``settings.inits`` inits of ``settings.scheme``
        (seeded by ``settings.seed``) on the one :meth:`problem`."""
        from verify.init.schemes import sample_inits

        problem = self.problem(settings)
        inits = sample_inits(problem.network, settings.scheme, settings.seed, settings.inits)
        return [CaseSpec(k, problem, theta) for k, theta in enumerate(inits)]

    def case(self, settings: CheckSettings, index: int) -> CaseSpec:
        """Case ``index`` alone (what ``verify trajectory --index`` runs); by default init ``index`` of
        ``settings.scheme`` on the one problem, the same init :meth:`cases` would give."""
        from verify.init.schemes import sample_init

        problem = self.problem(settings)
        return CaseSpec(index, problem, sample_init(problem.network, settings.scheme, settings.seed, index))

    def param_names(self, settings: CheckSettings) -> tuple[str, ...]:
        """Names of the flat parameters, in order (what ``trajectory --init`` takes)."""
        return self.problem(settings).network.param_names()

    @abstractmethod
    def claims(self) -> dict[str, Claim]:
        """The paper's claims by id, in dependency order."""

    def mutations(self) -> dict[str, Claim]:
        """Deliberately false variants of the claims, by id; each must come out refuted."""
        return {}

    def mutation_settings(self, settings: CheckSettings) -> list[CheckSettings]:
        """Other settings to try, in order, for a mutation the given settings do not refute (e.g.
        other init schemes that reach the case the mutation gets wrong); default none."""
        return []

    def init_strategies(self, problem: Problem) -> dict[str, Any]:
        """Hypothesis strategies of exact inits this paper adds to ``verify.strategies.inits`` (by name)."""
        return {}

    def quantities(self) -> dict[str, Quantity]:
        """Named quantities a claim file may use besides the parameters, ``t``, ``eta`` and ``L``."""
        return {}

    def tail_certificate(self, trajectory: Trajectory) -> Any | None:
        """An object certifying the dynamics for every ``t`` beyond the run, or ``None``
        (then claims about every ``t`` are certified only for the steps run)."""
        return None

    # --- the report ---------------------------------------------------------------------------
    def run_extras(self, settings: CheckSettings, ctx: RunContext) -> PaperRun:
        """Figures and data ``verify run`` adds after the claims (default: none)."""
        return PaperRun()

    def sections(self, data: Mapping[str, Any]) -> list[Section]:
        """Report sections rendered from the stored ``paper_data`` (no recomputation)."""
        return []

    def findings(self, data: Mapping[str, Any]) -> list[str]:
        """Short sentences for the report's summary: what differs from (or confirms) the paper."""
        return []

    def engine_lines(self, data: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """``(part, sweep summary)`` for each part of ``paper_data`` computed by a sweep."""
        return []

    @property
    def folder(self) -> str:
        """The report folder under ``reports/``."""
        return f"paper_{self.id}"

    def __repr__(self) -> str:
        return f"<paper {self.id}: {self.title}>"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


class PluginError(VerifyError):
    """An installed paper plug-in could not be loaded or is malformed."""


_REGISTRY: dict[str, Paper] | None = None


def _load_entry_points() -> dict[str, Paper]:
    papers: dict[str, Paper] = {}
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            paper = ep.load()
        except Exception as exc:  # a broken third-party plug-in must not hide the others' errors
            raise PluginError(f"paper plug-in {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        _add(papers, paper, f"entry point {ep.value}")
    return papers


def _add(papers: dict[str, Paper], paper: object, where: str) -> None:
    if not isinstance(paper, Paper):
        raise PluginError(f"{where} is not a verify.papers.Paper instance: {paper!r}")
    if not paper.id or not paper.id.replace("_", "").isalnum():
        raise PluginError(f"{where}: paper id {paper.id!r} must be a non-empty identifier")
    if paper.id in papers and papers[paper.id] is not paper:
        raise PluginError(f"{where}: paper id {paper.id!r} is already registered")
    papers[paper.id] = paper


def registry() -> dict[str, Paper]:
    """Every registered paper by id (entry points loaded once, then :func:`register`'s additions)."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _load_entry_points()
    return _REGISTRY


def register(paper: Paper) -> Paper:
    """Add ``paper`` to the registry (for tests and interactive use); returns it. Warm worker pools
    forked before do not know it: the next sweep forks afresh."""
    from verify.distributed.executors import new_code_loaded

    _add(registry(), paper, f"register({paper!r})")
    new_code_loaded()
    return paper


def get_paper(paper_id: str) -> Paper:
    """The paper called ``paper_id`` (also accepted: its report folder name, e.g. ``paper_a``)."""
    papers = registry()
    if paper_id in papers:
        return papers[paper_id]
    for paper in papers.values():
        if paper.folder == paper_id:
            return paper
    raise InvalidArgument("paper", paper_id, f"is not a registered paper; known: {sorted(papers)}")


def find_claim(paper_id: str, claim_id: str) -> Claim:
    """The claim or mutation ``claim_id`` of a paper (a picklable lookup for worker processes)."""
    paper = get_paper(paper_id)
    for table in (paper.claims(), paper.mutations()):
        if claim_id in table:
            return table[claim_id]
    raise InvalidArgument("claim", claim_id,
                          f"is not a claim of paper {paper_id}; see `verify list --paper {paper_id}`")


def claim_owner(claim_id: str, papers: Sequence[Paper] | None = None) -> Paper:
    """The one paper stating ``claim_id`` (an error when none or several do)."""
    owners = [p for p in (papers or registry().values()) if claim_id in p.claims() or claim_id in p.mutations()]
    if not owners:
        raise InvalidArgument("claim", claim_id, "is not a known claim; see `verify list`")
    if len(owners) > 1:
        raise InvalidArgument("claim", claim_id, f"is stated by several papers {[p.id for p in owners]}; "
                              "choose one with --paper")
    return owners[0]
