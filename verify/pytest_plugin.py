"""The pytest plug-in of verify (registered through the ``pytest11`` entry point; active wherever
verify is installed): fixtures for property tests over certified runs.

Fixtures (session-scoped, so they combine with ``@given``):

* ``verify_settings`` -- the :class:`~verify.settings.CheckSettings` of the session: paper and
  steps from ``--verify-paper`` / ``--verify-steps`` (defaults: paper ``a``, 2000 steps);
* ``certify(theta0, every_step=False)`` -- the certified GD run (a
  :class:`~verify.dynamics.trajectory.Trajectory`) from an exact init;
* ``check_claim(claim, theta0)`` -- the :class:`~verify.claims.result.Outcome` of a claim on one
  exact init, through the same runner as ``verify check``. ``claim`` is a :class:`Claim`, a catalog
  id of the paper (``"numerator-limit"``) or ``"path/to/file.toml::claim-id"`` (a claim file).

With the strategies of :mod:`verify.strategies`::

    @given(theta0=inits(paper="a"))  # by keyword: the test also takes a fixture
    def test_numerator_bounded(theta0, check_claim):
        assert check_claim("claims.toml::numerator-bounded", theta0).status.value != "refuted"
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import pytest

from verify.claims.claim import Claim
from verify.claims.result import Outcome
from verify.dynamics.trajectory import Trajectory


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("verify", "verify: certified runs in property tests")
    group.addoption("--verify-paper", default="a", help="paper of the verify fixtures (default: a)")
    group.addoption("--verify-steps", type=int, default=None, help="GD steps of the verify fixtures")


@pytest.fixture(scope="session")
def verify_settings(request: pytest.FixtureRequest):
    """The session's check settings (paper and steps from the command line)."""
    from verify.settings import CheckSettings

    steps = request.config.getoption("--verify-steps")
    return CheckSettings(paper=request.config.getoption("--verify-paper"), steps=steps)


@pytest.fixture(scope="session")
def certify(verify_settings) -> Callable[..., Trajectory]:
    """``certify(theta0, every_step=False)``: the certified run from an exact init."""
    from verify.dynamics.schedule import EVERY_STEP
    from verify.dynamics.sweep import certified_run

    def run(theta0, every_step: bool = False) -> Trajectory:
        spec = verify_settings.sweep_spec(EVERY_STEP if every_step else None)
        return certified_run(spec, theta0)[1]

    return run


def resolve_claim(claim: Claim | str, settings) -> Claim:
    """A :class:`Claim` from a claim, a catalog id, or ``"file.toml::id"``."""
    if isinstance(claim, Claim):
        return claim
    if "::" in claim:
        from verify.claims.language.claims import file_claims

        path, cid = claim.rsplit("::", 1)
        return file_claims(path, settings, [cid])[cid]
    from verify.papers import find_claim

    return find_claim(settings.paper, claim)


@pytest.fixture(scope="session")
def check_claim(verify_settings) -> Callable[[Claim | str, tuple[Fraction, ...]], Outcome]:
    """``check_claim(claim, theta0)``: the claim's outcome on one exact init."""
    from verify.claims.search import outcome_on

    def check(claim: Claim | str, theta0) -> Outcome:
        return outcome_on(resolve_claim(claim, verify_settings), verify_settings, tuple(theta0))

    return check
