"""Search that shrinks: Hypothesis drives the inits, shrinks a refutation to a simple init, which is
re-certified from scratch and printed with the commands that replay it; the strategies reach every
kind of init they promise (schemes, kinks, small rationals, the paper's own) on any network; the
pytest plug-in and the runnable example work."""

from __future__ import annotations

import random
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

from hypothesis import HealthCheck, find, given
from hypothesis import settings as hsettings
from typer.testing import CliRunner

from verify.claims.language.claims import file_claims
from verify.claims.result import Status
from verify.claims.search import outcome_on, search_refutation
from verify.cli import app
from verify.dynamics.gd import exact_preactivations
from verify.model.network import Dataset, Network, Problem
from verify.papers import find_claim
from verify.settings import CheckSettings
from verify.strategies import certified_runs, inits, near_kink_inits, scheme_inits

ROOT = Path(__file__).resolve().parent.parent
RUNNER = CliRunner()
SETTINGS = CheckSettings(steps=600)
FALSE_CLAIM = ('paper = "a"\n[settings]\ninits = 3\nsteps = 600\n\n'
               '[claim.u-conserved]\nform = "always"\nholds = "w1 + b1 == w1_0 + b1_0"\nwhen = "w1_0 > 0"\n\n'
               '[claim.f-absorbing]\nform = "pattern"\nnever_leaves = "1001"\n')


def _simple(theta: tuple[F, ...]) -> bool:
    """Small denominators and small size: what a shrunk init looks like."""
    return all(q.denominator <= 8 for q in theta) and sum(abs(q) for q in theta) <= 2


def test_search_shrinks_a_refutation_and_recertifies_it(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(FALSE_CLAIM)
    claim = file_claims(path, SETTINGS)["u-conserved"]
    first = search_refutation(claim, SETTINGS, 20, seed=3)
    assert first.refuted and first.outcome.status is Status.REFUTED
    assert _simple(first.init), first.init
    assert first.init[0] > 0  # inside the hypotheses
    assert outcome_on(claim, SETTINGS, first.init).status is Status.REFUTED  # independently again
    again = search_refutation(claim, SETTINGS, 20, seed=3)
    assert again.init == first.init  # deterministic for a seed


def test_search_on_a_true_claim_finds_nothing(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(FALSE_CLAIM)
    result = search_refutation(file_claims(path, SETTINGS)["f-absorbing"], SETTINGS, 8)
    assert result.init is None and not result.refuted and result.tried >= 5


def test_search_works_on_catalog_claims():
    result = search_refutation(find_claim("a", "mut-conserved-u"), SETTINGS, 25, seed=1)
    assert result.refuted and _simple(result.init)


def test_cli_search_prints_the_shrunk_init_and_replay_commands_that_refute_again(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(FALSE_CLAIM)
    result = RUNNER.invoke(app, ["check", "--claims", str(path), "u-conserved", "--search", "15", "--quiet",
                                 "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert "search: refuted; shrunk to theta0 = (" in result.output and "re-certified" in result.output
    lines = result.output.splitlines()
    k = next(i for i, line in enumerate(lines) if "search: refuted" in line)
    replays = [line.split("replay: ", 1)[1] for line in lines[k:] if "replay: " in line]
    assert replays[0].startswith("verify trajectory --paper a --init w1=")
    assert replays[1].startswith(f"verify check --claims {path} u-conserved --init w1=")
    again = RUNNER.invoke(app, [*replays[1].split()[1:], "--quiet"])
    assert again.exit_code == 1 and "refuted" in again.output
    traj = RUNNER.invoke(app, replays[0].split()[1:])
    assert traj.exit_code == 0 and "phases:" in traj.output


def test_cli_search_on_a_catalog_claim():
    result = RUNNER.invoke(app, ["check", "mut-conserved-u", "--inits", "2", "--steps", "600", "--search", "15",
                                 "--quiet", "--workers", "1"])
    assert result.exit_code == 0, result.output  # a mutation, refuted
    assert "search: refuted" in result.output and "replay: verify check mut-conserved-u --paper a" in result.output


def test_bad_search_count_is_named():
    result = RUNNER.invoke(app, ["check", "f-invariance", "--search", "0"])
    assert result.exit_code == 2 and "search=0" in result.output


# --- the strategies --------------------------------------------------------------------------
REACH = hsettings(max_examples=2000, database=None, suppress_health_check=list(HealthCheck))


def _reaches(strategy, condition) -> tuple:
    return find(strategy, condition, settings=REACH, random=random.Random(0))


def test_inits_reach_every_kind_they_promise():
    problem = SETTINGS.problem()
    s = inits("a")
    kinks = _reaches(s, lambda th: any(z == 0 for row in exact_preactivations(problem, th) for z in row)
                     and any(q != 0 for q in th))
    assert any(z == 0 for row in exact_preactivations(problem, kinks) for z in row)
    tiny = _reaches(s, lambda th: any(0 < abs(z) < F(1, 1000) for row in exact_preactivations(problem, th)
                                      for z in row))
    assert tiny is not None
    binary = _reaches(s, lambda th: any(q.denominator > 2**20 for q in th))  # a double from a scheme, exactly
    assert any(q.denominator > 2**20 for q in binary)
    biased = _reaches(s, lambda th: th[1] != 0 and th[3] != 0 and th[0] != 0)
    assert biased[1] != 0
    active = _reaches(s, lambda th: all(z > 0 for row in exact_preactivations(problem, th) for z in row))
    assert all(z > 0 for row in exact_preactivations(problem, active) for z in row)
    zero_bias_f = _reaches(s, lambda th: th[1] == th[3] == 0 and th[0] > 0 > th[2])
    assert zero_bias_f == (F(1, 1), F(0), F(-1, 1), F(0)) or _simple(zero_bias_f)  # shrunk


@given(scheme_inits(SETTINGS.problem(), "he"))
def test_he_inits_have_zero_biases_and_weights_in_range(theta):
    assert theta[1] == theta[3] == 0 and all(abs(q) <= 3 * 2**0.5 for q in theta)


GENERAL = Problem(Network(width=3, dim=2, output_weights=None), Dataset.of([[1, 2], [-1, F(1, 3)], [0, 1]],
                                                                          [1, -1, 1]), "1/10")


@given(near_kink_inits(GENERAL))
def test_near_kink_inits_are_generic_over_the_network(theta):
    assert len(theta) == GENERAL.network.n_params and all(isinstance(q, F) for q in theta)
    z = [abs(v) for row in exact_preactivations(GENERAL, theta) for v in row]
    assert min(z) <= F(1000, 2**10)


@given(scheme_inits(GENERAL, "pytorch"))
def test_scheme_inits_cover_a_trained_output_layer(theta):
    assert len(theta) == 12 and all(abs(q) <= 1 for q in theta)


@hsettings(max_examples=4, deadline=None)
@given(certified_runs(paper="a", steps=200))
def test_certified_runs_start_at_an_exact_init(run):
    assert run.records[0].t == 0 and all(isinstance(q, F) for q in run.theta0)
    if run.certified:
        assert run.steps_done == 200


def test_the_runnable_example_passes_under_the_pytest_plugin():
    """examples/test_my_claims.py uses the pytest11 fixtures and the strategies, as a user would."""
    done = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "examples" / "test_my_claims.py"), "-q",
                           "-p", "no:cacheprovider", "-o", "addopts=", "--verify-steps", "600"],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "4 passed" in done.stdout
