"""The command line: help, errors naming fields, the main job's report, determinism, exit codes."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from typer.testing import CliRunner

from tests.conftest import verify_cli
from verify.cli import app
from verify.cli.common import build_settings
from verify.papers import get_paper

RUNNER = CliRunner()
SMALL = ["--inits", "12", "--steps", "400", "--quiet"]
RUN_SMALL = [*SMALL, "--set", "fig3_inits=40", "--set", "rate_steps=3000", "--workers", "1"]


@pytest.mark.parametrize("command", [[], ["papers"], ["list"], ["check"], ["run"], ["report"], ["trajectory"]])
def test_every_command_has_help(command):
    result = RUNNER.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


@pytest.mark.parametrize("args, field", [
    (["--eta", "-1"], "eta='-1'"), (["--eta", "nan"], "eta='nan'"), (["--eta", "inf"], "eta='inf'"),
    (["--scheme", "lecun"], "scheme='lecun'"), (["--backend", "gpu"], "backend='gpu'"), (["--prec", "0"], "prec=0"),
    (["--workers", "0"], "workers=0"), (["--set", "fig3_inits=-1"], "fig3_inits=-1"),
    (["--paper", "zz"], "paper='zz'"), (["--max-prec", "64"], "max_prec=64"), (["--loss", "hinge"], "loss='hinge'"),
])
def test_bad_input_is_one_line_naming_the_field_and_leaves_nothing(tmp_path, args, field):
    result = RUNNER.invoke(app, ["run", "--out", str(tmp_path / "out"), "--set", "fig3_inits=0", *args])
    assert result.exit_code == 2
    assert field in result.output and result.output.count("error:") == 1
    assert not (tmp_path / "out").exists()


def test_malformed_and_unknown_config_keys_are_named(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("inits = 3\nstepz = 10\n")
    result = RUNNER.invoke(app, ["run", "--config", str(cfg), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "config.stepz" in result.output
    cfg.write_text("inits = [\n")
    result = RUNNER.invoke(app, ["check", "phase-ordering", "--config", str(cfg)])
    assert result.exit_code == 2 and "config=" in result.output


def test_run_writes_the_report_deterministically(tmp_path):
    first = RUNNER.invoke(app, ["run", "--out", str(tmp_path / "a"), *RUN_SMALL])
    second = RUNNER.invoke(app, ["run", "--out", str(tmp_path / "b"), *RUN_SMALL])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0
    a, b = tmp_path / "a" / "paper_a", tmp_path / "b" / "paper_a"
    for name in ("index.html", "index.md", "results.json", "timings.json", "figure1.png", "figure1.svg",
                 "figure2.png", "figure3.svg", "rate.png"):
        assert (a / name).stat().st_size > 0
    assert (a / "results.json").read_bytes() == (b / "results.json").read_bytes()
    doc = json.loads((a / "results.json").read_text())
    assert doc["schema_version"] >= 1
    assert all(c["verdict"] != "refuted" for c in doc["claims"])
    assert all(m["verdict"] == "refuted" for m in doc["mutations"])
    fig3 = doc["paper_data"]["figure3"]["schemes"]["he"]
    assert fig3["inits"] == 40 and len(fig3["wilson95"]) == 2 and fig3["wilson95"][0] <= fig3["converged"] / 40
    assert "data:image/png;base64," in (a / "index.html").read_text()
    assert fig3["engines"]["inits"] == 40 and sum(fig3["engines"]["engines"].values()) == 40
    assert "## Engines" in (a / "index.md").read_text() and "batch-f64" in (a / "index.html").read_text()
    assert fig3["derived_probability"] == "1/4" and 0 <= fig3["binomial_pvalue_paper_vs_derived"] < 0.01
    rerender = RUNNER.invoke(app, ["report", str(a)])
    assert rerender.exit_code == 0 and (a / "results.json").read_bytes() == (b / "results.json").read_bytes()


def test_check_prints_counts_and_a_refuted_mutation_prints_its_counterexample():
    ok = RUNNER.invoke(app, ["check", "phase-ordering", *SMALL])
    assert ok.exit_code == 0 and "certified" in ok.output and "engines: batch-f64 12" in ok.output
    mutation = RUNNER.invoke(app, ["check", "mut-numerator-limit-difference", *SMALL])
    assert mutation.exit_code == 0 and "counterexample: init #" in mutation.output


def _counts(line: str) -> dict[str, int]:
    words = line.split()
    return dict(zip(words[2:10:2], map(int, words[3:10:2]), strict=True))


@pytest.mark.parametrize(("init", "status", "counts", "says"), [
    ("w1=3,b1=0,w2=-5/2,b2=0", "certified", (1, 0, 0, 0), "criterion eta < e^min(u0, v0) holds, so the limit is 1/4"),
    ("w1=1/10,b1=0,w2=-1,b2=0", "inconclusive", (0, 0, 0, 1), None),
], ids=["inside", "outside"])
def test_eta_5_runs_the_monotone_checker_inside_its_criterion_and_refuses_outside(init, status, counts, says):
    """At eta = 5 the criterion eta < e^min(u0, v0) holds for large zero-bias inits: the monotone
    checker runs and certifies (the installed CLI, exit 0); for a small init it is broken on
    purpose and the CLI says not-admitted, never certified."""
    result = verify_cli("check", "monotone-numerator", "--eta", "5", "--init", init, "--steps", "400", "-q")
    assert result.returncode == 0, result.stderr
    line = result.stdout.splitlines()[1]
    assert line.split()[:2] == ["monotone-numerator", status]
    assert _counts(line) == dict(zip(("certified", "refuted", "inconclusive", "not-admitted"), counts, strict=True))
    assert says is None or says in result.stdout


def test_trajectory_prints_phases_and_enclosures():
    result = RUNNER.invoke(app, ["trajectory", "--init", "0.7,0,-0.4,0", "--steps", "1000"])
    assert result.exit_code == 0 and "phases: 1001@0" in result.output and "margin∈[" in result.output
    named = RUNNER.invoke(app, ["trajectory", "--init", "b2=0,w2=-0.4,b1=0,w1=0.7", "--steps", "1000"])
    assert named.exit_code == 0 and named.output == result.output


def test_trajectory_writes_a_plot(tmp_path):
    out = tmp_path / "traj.png"
    result = RUNNER.invoke(app, ["trajectory", "--scheme", "pytorch", "--index", "499", "--steps", "500",
                                 "--plot", str(out)])
    from proofs.paper_a.problem import paper_a_problem
    from verify.dynamics.gd import run_gd
    from verify.init.schemes import sample_init

    problem = paper_a_problem()
    run = run_gd(problem, sample_init(problem.network, "pytorch", 0, 499), 500)
    assert result.exit_code == 0
    assert "phases: " + " -> ".join(f"{p}@{t}" for t, p in run.phases) in result.output  # the engine's own path
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_check_gives_the_same_verdicts_on_every_backend():
    """Same claim, inits and settings on each engine: the same verdict and the same counts."""
    summaries = {}
    for backend in ("batch", "arb", "mpmath"):
        result = RUNNER.invoke(app, ["check", "f-invariance", "--backend", backend, "--workers", "2", *SMALL])
        assert result.exit_code == 0, result.output
        line = result.output.splitlines()[0]
        assert line.split()[:2] == ["f-invariance", "certified"]
        summaries[backend] = line.split("(")[0]  # verdict and counts, without the wall time
        engine = "batch-f64" if backend == "batch" else backend
        assert f"engines: {engine} 12" in result.output
    assert summaries["batch"] == summaries["arb"] == summaries["mpmath"]


def test_trajectory_on_the_batch_backend_says_when_it_escalated():
    result = RUNNER.invoke(app, ["trajectory", "--init", "0.5,0.5,-0.5,0.5", "--steps", "5", "--backend", "batch"])
    assert result.exit_code == 0
    assert "engine: arb (escalated: the sign of a pre-activation is undecided" in result.output


def test_trajectory_rejects_bad_init():
    result = RUNNER.invoke(app, ["trajectory", "--init", "1,nan,0,0"])
    assert result.exit_code == 2 and "init.b1='nan'" in result.output
    for init in ("", "1,2", "w1=1,b1=0", "w1=1,0,0,0", "q=1,b1=0,w2=0,b2=0"):
        result = RUNNER.invoke(app, ["trajectory", f"--init={init}"])
        assert result.exit_code == 2 and "error: init" in result.output, (init, result.output)


# --- bad input refused before any work: tests/test_hostile_cli.py (issue 13, installed verify) -----


def test_toml_float_is_its_decimal_text(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("eta = 0.1\nfig3_inits = 7\n")
    paper = get_paper("a")
    from_toml = build_settings([paper], cfg, None)["a"]
    from_flag = build_settings([paper], None, ["fig3_inits=7"], eta="0.1")["a"]
    assert from_toml.eta == Fraction(1, 10) and from_toml.digest() == from_flag.digest()
