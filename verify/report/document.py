"""``results.json``: the machine-readable report, built from claim records and validated on reading.

The document holds exact results only (sorted keys, no wall times), so the same settings give the
same bytes; wall times go to ``timings.json``. :func:`load_results` refuses anything that is not a
document this version of ``verify`` wrote: a missing or unknown ``schema_version``, a shape that
fails ``results.schema.json`` (shipped with the package), an unknown paper, or counts and verdicts
that do not agree with the outcomes they summarize.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from verify.claims.result import SCHEMA_VERSION, ClaimResult
from verify.errors import InvalidArgument
from verify.papers import registry
from verify.settings import CheckSettings


def results_document(settings: CheckSettings, claims: list[ClaimResult], mutations: list[ClaimResult],
                     paper_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The machine-readable report (deterministic for the same settings)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "paper": settings.paper,
        "title": settings.plugin.title,
        "settings": settings.to_dict(),
        "settings_digest": settings.digest(),
        "claims": [c.to_dict() for c in claims],
        "mutations": [m.to_dict() for m in mutations],
        "paper_data": paper_data or {},
    }


def dumps(doc: dict[str, Any]) -> str:
    """The canonical text of a document (sorted keys, one-space indent, final newline)."""
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


@cache
def schema() -> dict[str, Any]:
    """The JSON schema of ``results.json`` shipped with the package."""
    return json.loads(resources.files("verify.report").joinpath("results.schema.json").read_text())


def validate(doc: object, where: str = "results.json") -> dict[str, Any]:
    """Return ``doc`` if it is a results document this version reads; else raise naming the field."""
    import jsonschema

    if not isinstance(doc, dict):
        raise InvalidArgument(where, type(doc).__name__, "must be a JSON object written by `verify run`")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
            raise InvalidArgument(f"{where}.schema_version", version, f"is newer than this verify reads "
                                  f"({SCHEMA_VERSION}); upgrade verify-mlt or re-create it with `verify run`")
        found = "no schema_version" if "schema_version" not in doc else f"schema_version {version!r}"
        raise InvalidArgument(f"{where}.schema_version", version,
                              f"must be {SCHEMA_VERSION} (found {found}; re-create it with `verify run`)")
    try:
        jsonschema.validate(doc, schema())
    except jsonschema.ValidationError as exc:
        path = ".".join(str(p) for p in exc.absolute_path) or "(top)"
        raise InvalidArgument(f"{where}.{path}", _clip(exc.instance), f"does not fit the schema: {exc.message}") \
            from None
    if doc["paper"] not in registry():  # an unknown paper is refused, naming the field
        raise InvalidArgument(f"{where}.paper", doc["paper"], f"is not an installed paper; installed: "
                              f"{sorted(registry())} (see `verify papers`)")
    for key in ("claims", "mutations"):
        for k, record in enumerate(doc[key]):
            result = ClaimResult.from_dict(record)
            if result.counts != record["counts"] or result.verdict.value != record["verdict"]:
                raise InvalidArgument(f"{where}.{key}.{k}.verdict", record["verdict"],
                                      f"does not match its outcomes (they give {result.verdict.value})")
    return doc


def _clip(value: object, limit: int = 60) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "..."


def load_results(folder: Path) -> dict[str, Any]:
    """Read and validate ``folder/results.json``; errors name the file and the field."""
    path = folder / "results.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidArgument("results", str(path), "does not exist; run `verify run` first") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument("results", str(path), f"cannot be read ({exc})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument("results", str(path), f"is not valid JSON ({exc})") from None
    return validate(doc, str(path))


def load_side_file(folder: Path, name: str) -> dict[str, Any]:
    """``timings.json`` / ``provenance.json``: a JSON object, or ``{}`` when absent."""
    path = folder / name
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidArgument(name.removesuffix(".json"), str(path), f"is not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidArgument(name.removesuffix(".json"), str(path), "must hold a JSON object")
    return data
