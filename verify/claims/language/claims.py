"""Claims of a claim file as ordinary :class:`~verify.claims.claim.Claim` objects.

Each claim of a file becomes a ``Claim`` whose ``check`` and ``admits`` run the compiled
:class:`~verify.claims.language.forms.Program`, so the runner, the CLI and the report treat it like
a built-in claim (same four outcomes, same counterexamples). ``every_step`` is set for the forms
that read every step, so the runner records every step for them. :func:`file_lookup` gives worker
processes a picklable way to find a claim by id (the file is read once per process).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from verify.claims.claim import Claim
from verify.claims.language.forms import Program
from verify.claims.language.load import ClaimFile, cached_claim_file, load_claim_file
from verify.claims.language.spec import ClaimSpec
from verify.settings import CheckSettings


def to_claim(spec: ClaimSpec, cf: ClaimFile) -> Claim:
    """The :class:`Claim` of one claim of a file."""
    program = Program(spec, cf.namespace)
    statement = spec.statement or spec.describe()
    return Claim(
        id=spec.id,
        title=spec.title or statement,
        statement=statement,
        source=spec.source or f"claim file {Path(cf.path).name}",
        hypotheses=(spec.texts["when"],) if "when" in spec.texts else (),
        check=program.check,
        admits=program.admits,
        mutation_of=spec.mutation_of,
        every_step=program.every_step,
    )


def file_claims(path: str | Path, settings: CheckSettings | None = None,
                ids: list[str] | None = None) -> dict[str, Claim]:
    """The claims of a file (all, or those named in ``ids``, in that order) as :class:`Claim` objects."""
    cf = load_claim_file(path, settings) if settings is None else cached_claim_file(str(path), settings)
    chosen = ids or list(cf.claims)
    return {cid: to_claim(cf.claims[cid], cf) for cid in chosen}


def find_in_file(path: str, settings: CheckSettings, claim_id: str) -> Claim:
    """Claim ``claim_id`` of the file (picklable through :func:`file_lookup`)."""
    cf = cached_claim_file(path, settings)
    return _claim_cache(cf, claim_id)


_CLAIMS: dict[tuple[int, str], Claim] = {}


def _claim_cache(cf: ClaimFile, claim_id: str) -> Claim:
    key = (id(cf), claim_id)
    if key not in _CLAIMS:
        _CLAIMS[key] = to_claim(cf.claims[claim_id], cf)
    return _CLAIMS[key]


def file_lookup(path: str | Path, settings: CheckSettings) -> partial:
    """A picklable ``claim_id -> Claim`` for the runner's worker processes."""
    return partial(find_in_file, str(Path(path).resolve()), settings)
