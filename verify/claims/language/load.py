"""Reading a claim file (TOML) into validated claims, or one line saying what is wrong.

Layout::

    paper = "a"                 # required: whose network, quantities and tail certificate
    [settings]                  # optional engine settings (as in --config): steps, inits, scheme, eta, ...
    steps = 2000
    [define]                    # optional named expressions, usable in every claim
    N = "b2 - b1"
    [claim.numerator-bounded]   # one table per claim; the id is the table name
    form = "always"
    holds = "abs(N) <= abs(w1_0 + w2_0)/2"
    when = "b1_0 == 0 and b2_0 == 0 and w1_0 > 0 > w2_0"

Every problem (an unknown key, an unknown symbol, a syntax error, a form that does not exist, a
claim naming another paper's quantities, a relation where a quantity is expected, ...) raises
:class:`ClaimFileError` naming the file, the claim id and the field, before anything is run.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from verify.claims.language.parse import ExprError
from verify.claims.language.spec import ClaimSpec, FieldError, build_spec
from verify.claims.language.symbols import Namespace
from verify.errors import InvalidArgument
from verify.papers import get_paper
from verify.settings import ENGINE_FIELDS, CheckSettings

TOP_LEVEL = ("paper", "settings", "define", "claim")


class ClaimFileError(InvalidArgument):
    """A claim file that cannot be used: ``path: claim 'id', field 'name': what is wrong``."""

    def __init__(self, path: str, claim: str | None, field: str, problem: str) -> None:
        where = f"{path}: " + (f"claim {claim!r}, " if claim else "") + f"field {field!r}: "
        Exception.__init__(self, where + problem)
        self.field, self.value, self.path, self.claim = field, None, path, claim


@dataclass
class ClaimFile:
    """A validated claim file: its paper, engine settings, namespace and claims (in file order)."""

    path: str
    paper: str
    settings: dict[str, Any]
    namespace: Namespace
    claims: dict[str, ClaimSpec]


class _TomlDecimal(str):
    """A TOML float kept as its decimal text (``eta = 0.1`` is exactly 1/10)."""


def read_toml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if p.is_dir():
        raise ClaimFileError(str(path), None, "claims", "is a folder; give a TOML file")
    try:
        text = p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ClaimFileError(str(path), None, "claims", "the file does not exist") from None
    except UnicodeDecodeError:
        raise ClaimFileError(str(path), None, "claims", "is not UTF-8 text") from None
    except OSError as exc:
        raise ClaimFileError(str(path), None, "claims", f"cannot be read ({exc.strerror})") from None
    try:
        return tomllib.loads(text, parse_float=_TomlDecimal)
    except tomllib.TOMLDecodeError as exc:
        raise ClaimFileError(str(path), None, "claims", f"is not valid TOML ({exc})") from None


def file_paper(path: str | Path, data: dict[str, Any] | None = None) -> str:
    """The paper id a claim file names (validated)."""
    data = read_toml(path) if data is None else data
    paper = data.get("paper")
    if paper is None:
        raise ClaimFileError(str(path), None, "paper", 'is missing; name the paper the claims are about, e.g. '
                             'paper = "a" (see `verify papers`)')
    if not isinstance(paper, str):
        raise ClaimFileError(str(path), None, "paper", "must be a paper id string")
    try:
        return get_paper(paper).id
    except InvalidArgument as exc:
        raise ClaimFileError(str(path), None, "paper", str(exc)) from None


def file_settings(path: str | Path, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The file's ``[settings]`` table (engine keys only; values checked when the settings are built)."""
    data = read_toml(path) if data is None else data
    table = data.get("settings", {})
    if not isinstance(table, dict):
        raise ClaimFileError(str(path), None, "settings", "must be a table of engine settings")
    for key in table:
        if key not in ENGINE_FIELDS:
            raise ClaimFileError(str(path), None, f"settings.{key}",
                                 f"is not an engine setting; known: {', '.join(ENGINE_FIELDS)}")
    return dict(table)


def load_claim_file(path: str | Path, settings: CheckSettings | None = None) -> ClaimFile:
    """Read and validate a claim file. ``settings`` (default: the paper's defaults updated by the
    file's ``[settings]``) gives the problem whose parameter names the claims use."""
    where = str(path)
    data = read_toml(path)
    for key in data:
        if key not in TOP_LEVEL:
            raise ClaimFileError(where, None, key, f"is not a key of a claim file; keys: {', '.join(TOP_LEVEL)}")
    paper = file_paper(path, data)
    table = file_settings(path, data)
    if settings is None:
        try:
            settings = CheckSettings.from_mapping(table, where=f"{where}: settings", paper=paper)
        except InvalidArgument as exc:
            raise ClaimFileError(where, None, exc.field.split(": ", 1)[-1], str(exc).split(" ", 1)[1]) from None
    elif settings.paper != paper:
        raise ClaimFileError(where, None, "paper", f"is {paper!r} but the settings are for paper {settings.paper!r}")
    problem = settings.problem()
    ns = Namespace(paper, problem, settings.plugin.quantities())
    defines = data.get("define", {})
    if not isinstance(defines, dict):
        raise ClaimFileError(where, None, "define", "must be a table of name = \"expression\"")
    for name, text in defines.items():
        try:
            if not isinstance(text, str):
                raise ExprError("must be a string holding an expression")
            ns.define(name, text)
        except ExprError as exc:
            raise ClaimFileError(where, None, f"define.{name}", str(exc)) from None
    claims_table = data.get("claim", {})
    if not isinstance(claims_table, dict) or not claims_table:
        raise ClaimFileError(where, None, "claim", "holds no claims; add a table [claim.<id>] with form = ...")
    length = problem.network.width * problem.data.n
    claims: dict[str, ClaimSpec] = {}
    for cid, body in claims_table.items():
        try:
            claims[cid] = build_spec(cid, body, ns, length)
        except FieldError as exc:
            raise ClaimFileError(where, cid, exc.field, str(exc)) from None
    return ClaimFile(where, paper, table, ns, claims)


@lru_cache(maxsize=8)
def _cached(path: str, mtime: float, settings: CheckSettings) -> ClaimFile:
    return load_claim_file(path, settings)


def cached_claim_file(path: str, settings: CheckSettings) -> ClaimFile:
    """:func:`load_claim_file`, once per (file version, settings) in a process (worker processes
    look claims up by id)."""
    return _cached(str(Path(path).resolve()), Path(path).stat().st_mtime, settings)
