"""Hypothesis profiles and shared fixtures.

Profiles (select with ``HYPOTHESIS_PROFILE``): ``ci`` (derandomized, few examples: the
default, so the README's test command gives the same verdict on every machine), ``dev``
(random examples, for exploring) and ``deep`` (many examples, for long runs). Every failing property prints its
``@reproduce_failure`` / seed line, so a failure can be replayed.
"""

from __future__ import annotations

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
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _restore_flint_precision():
    """Every test starts and ends at flint's default precision (it is process-global)."""
    saved = flint.ctx.prec
    yield
    flint.ctx.prec = saved
