"""Hypothesis profiles and shared fixtures.

Profiles (select with ``HYPOTHESIS_PROFILE``): ``ci`` (derandomized, few examples: the
default, so the README's test command gives the same verdict on every machine), ``dev``
(random examples, for exploring) and ``deep`` (many examples, for long runs). Every failing property prints its
``@reproduce_failure`` / seed line, so a failure can be replayed.
"""

from __future__ import annotations

import functools
import os

import flint
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=15, derandomize=True, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=30, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=500, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)

# Properties of the float64 primitives cost microseconds: hundreds of examples even in CI.
cheap = settings(max_examples={"ci": 400, "dev": 400, "deep": 5000}.get(PROFILE, 400))


def min_reach(fraction: float = 1.0):
    """Put above ``@given``: the property must run to its end (past every ``assume``) on at least
    ``fraction`` of the profile's ``max_examples``, else the test fails saying how many did. An
    ``assume`` never lets an example count, but Hypothesis stops quietly once too many are rejected,
    so without this a filter that rejects nearly everything would pass having tested almost nothing.
    """

    def decorate(test):
        reached = [0]
        inner = test.hypothesis.inner_test

        @functools.wraps(inner)
        def counted(*args, **kwargs):
            inner(*args, **kwargs)
            reached[0] += 1

        test.hypothesis.inner_test = counted

        @functools.wraps(test)
        def run(*args, **kwargs):
            reached[0] = 0
            test(*args, **kwargs)
            own = getattr(test, "_hypothesis_internal_use_settings", None) or settings.default
            wanted = int(fraction * own.max_examples)
            assert reached[0] >= wanted, f"only {reached[0]} examples reached the end (wanted >= {wanted})"

        return run

    return decorate


@pytest.fixture(autouse=True, scope="session")
def _session_result_store(tmp_path_factory):
    """Session- and module-scoped fixtures (set up before any test's own store) keep their chunks in a
    store of this session, never in the user's cache (``~/.cache/verify-mlt/store``)."""
    root = tmp_path_factory.mktemp("session-store")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VERIFY_STORE", str(root))
        yield root


@pytest.fixture(autouse=True)
def _own_result_store(tmp_path, monkeypatch):
    """Every test gets its own result store (``$VERIFY_STORE``): none resumes another's chunks, and
    none writes to the user's cache."""
    monkeypatch.setenv("VERIFY_STORE", str(tmp_path / "verify-store"))


@pytest.fixture(autouse=True)
def _restore_flint_precision():
    """Every test starts and ends at flint's default precision (it is process-global)."""
    saved = flint.ctx.prec
    yield
    flint.ctx.prec = saved


SMALL_RUN = ["--paper", "a", "--inits", "12", "--steps", "400", "--quiet", "--set", "fig3_inits=40",
             "--set", "rate_steps=3000", "--workers", "1"]


@pytest.fixture(scope="session")
def small_report(tmp_path_factory):
    """A small paper-A report folder written once per session by ``verify run`` (read-only for tests:
    copy it before changing anything)."""
    from typer.testing import CliRunner

    from verify.cli import app

    root = tmp_path_factory.mktemp("report")
    result = CliRunner().invoke(app, ["run", "--out", str(root), *SMALL_RUN])
    assert result.exit_code == 0, result.output
    return root / "paper_a"


def verify_cli(*args: str, env: dict | None = None, timeout: float = 600):
    """Run the installed ``verify`` command in a subprocess (what a user runs)."""
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "verify"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
