"""Certified-divergent GD runs (issue 14) are counted where the engines are shown: ``verify check``'s
engines line and the report's Engines section; nothing is said when no run diverged."""

from __future__ import annotations

import json
import re
import shutil
from fractions import Fraction

from tests.conftest import verify_cli
from verify.cli.common import diverged_phrase
from verify.report.render import engine_lines

# paper A at eta = 1e400: every run moves w1 beyond 2**100 at step 1 (certified divergent)
HUGE_ETA = ["--paper", "a", "--eta", "1e400", "--inits", "3", "--steps", "20", "--no-store", "--workers", "1"]
INITS = [(Fraction(1, 2), Fraction(0), Fraction(-1), Fraction(0)),
         (Fraction(7, 10), Fraction(1, 10), Fraction(-2, 5), Fraction(0))]


def _check(eta: Fraction, inits=INITS):
    from verify.claims.runner import check_claims
    from verify.papers import find_claim
    from verify.settings import CheckSettings

    settings = CheckSettings(paper="a", eta=eta, steps=20, inits=len(inits))
    return check_claims([find_claim("a", "phase-ordering")], settings, inits, workers=1)


def test_engine_lines_count_the_divergent_runs():
    [r] = _check(Fraction(10**400))
    doc = {"paper": "a", "claims": [r.to_dict()], "mutations": []}
    [line] = engine_lines(doc)
    assert line.endswith("; GD certified divergent on 2 of 2 inits"), line


def test_engine_lines_say_nothing_when_no_run_diverged():
    [r] = _check(Fraction(1, 4))
    assert r.diverged == 0 and r.to_dict()["diverged"] == 0
    [line] = engine_lines({"paper": "a", "claims": [r.to_dict()], "mutations": []})
    assert "divergent" not in line
    assert diverged_phrase(0) == ""
    assert diverged_phrase(1) == "; GD certified divergent on 1 init"


def test_check_prints_the_divergent_count():
    result = verify_cli("check", "phase-ordering", *HUGE_ETA)
    assert result.returncode in (0, 1), result.stderr
    [line] = [ln for ln in result.stdout.splitlines() if ln.strip().startswith("engines:")]
    found = re.search(r"; GD certified divergent on (\d+) inits?$", line)
    # `verify check` folds its outcomes (examples only); the count is every init's once the fold tallies
    # it (verify.claims.runner.ClaimsFold), else the divergent examples kept: at least one
    assert found and int(found.group(1)) == 3, line


def test_html_and_markdown_reports_show_the_divergent_count(small_report, tmp_path):
    folder = tmp_path / "paper_a"
    shutil.copytree(small_report, folder)
    html, md = (folder / "index.html").read_text(), (folder / "index.md").read_text()
    assert "divergent" not in html and "divergent" not in md  # the small run: nothing diverged
    doc = json.loads((folder / "results.json").read_text())
    # tag two inits' runs as certified divergent, as the claim runner does (verify.claims.runner)
    for claim in doc["claims"]:
        for o in claim["outcomes"]:
            if o["index"] in (3, 5):
                o["outcome"]["data"].update(gd="diverged", diverged_at=7)
        claim["diverged"] = sum(1 for o in claim["outcomes"] if o["outcome"]["data"].get("gd") == "diverged"
                                and o["outcome"]["status"] != "not-admitted")
    (folder / "results.json").write_text(json.dumps(doc))
    result = verify_cli("report", str(folder))
    assert result.returncode == 0, result.stderr
    inits = next(c["engines"]["inits"] for c in doc["claims"] if c["engines"])
    for name in ("index.html", "index.md"):
        text = (folder / name).read_text()
        assert f"; GD certified divergent on 2 of {inits} inits" in text, name
