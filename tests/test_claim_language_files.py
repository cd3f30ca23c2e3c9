"""Claim files: every example claim gets its expected verdict (true ones certified with the steps they
cover stated, false ones refuted with an exact counterexample -- mutation checks), outcomes agree with
paper A's Python catalog where both state the same claim, and bad input is one line naming the file,
the claim and the field, with exit status 2."""

from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proofs.paper_a.catalog import CLAIMS, MUTATIONS
from verify.claims.language.claims import file_claims
from verify.claims.language.load import ClaimFileError, load_claim_file
from verify.claims.result import Status
from verify.claims.runner import check_claims
from verify.cli import app
from verify.init.schemes import sample_inits
from verify.papers import NoOptions, Paper, Quantity, register, registry
from verify.settings import CheckSettings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "paper_a.toml"
CATALOG = ROOT / "examples" / "paper_a_catalog.toml"
RUNNER = CliRunner()
SETTINGS = CheckSettings(steps=2000)
IN_F = [(F(1, 2), F(0), F(-1, 4), F(0)), (F(7, 10), F(0), F(-2, 5), F(0))]  # zero bias, in F: c1 + c2 != 0
OUTSIDE = [(F(-1, 2), F(0), F(1, 2), F(0)),  # 0110, left at step 4
           (F(-1, 4), F(5, 8), F(1, 2), F(5, 8)),  # 1111, left later
           (F(1), F(0), F(0), F(0))]  # neuron 2 dead: misclassified with L < 9/10
INITS = IN_F + OUTSIDE


def _results(path: Path, inits, settings=SETTINGS, ids=None):
    claims = file_claims(path, settings, ids)
    return {r.claim_id: r for r in check_claims(list(claims.values()), settings, inits=inits)}, \
        load_claim_file(path, settings)


def _assert_expected(results, cf):
    assert set(results) == set(cf.claims)
    for cid, r in results.items():
        spec = cf.claims[cid]
        if spec.expect == "refuted":
            assert r.verdict is Status.REFUTED, (cid, [o.outcome.detail for o in r.outcomes])
            cx = r.counterexample.outcome.counterexample
            assert cx is not None and {"w1", "b1", "w2", "b2"} <= set(cx)  # the exact init
            assert all(F(cx[n]) == F(v) for n, v in zip(("w1", "b1", "w2", "b2"), r.counterexample.theta0,
                                                       strict=True))
            assert "t" in cx or "t_leave" in cx  # the step (or range of steps) that decides it
        else:
            assert r.verdict is Status.CERTIFIED, (cid, [o.outcome.detail for o in r.outcomes])
            for o in r.outcomes:
                if o.outcome.status is Status.CERTIFIED:
                    assert o.outcome.data["covers"] and isinstance(o.outcome.data["every_t"], bool), cid


def test_every_example_claim_gets_its_expected_verdict():
    results, cf = _results(EXAMPLE, INITS)
    assert len(cf.claims) >= 5 and sum(s.expect == "refuted" for s in cf.claims.values()) >= 3
    _assert_expected(results, cf)
    # what the verdicts cover: every t where the tail certificate reaches, only the run's steps otherwise
    by_id = {cid: r.outcomes for cid, r in results.items()}
    assert by_id["c1-conserved"][0].outcome.data["covers"] == "every t >= 0"
    assert by_id["loss-decreases"][0].outcome.data["covers"] == "0 <= t <= 2000"
    assert by_id["loss-decreases"][0].outcome.data["every_t"] is False
    rate = by_id["deficit-rate"][0].outcome.data
    assert 0 < F(rate["c"]) <= F(1, 8) <= F(rate["C"])  # (gamma* - gamma) ln t -> |w1 + w2|/2 = 1/8


def test_every_catalog_claim_gets_its_expected_verdict():
    results, cf = _results(CATALOG, INITS)
    assert len(cf.claims) >= 20
    _assert_expected(results, cf)


def test_language_agrees_with_the_python_catalog():
    """Where the file restates a catalog claim: on every init where both are admitted, one is refuted iff the
    other is; a Python certification is never a language refutation (and vice versa)."""
    pairs = {
        "f-absorbing": "f-invariance", "numerator-monotone": "monotone-numerator",
        "numerator-bounded": "monotone-numerator", "numerator-abs-limit": "monotone-numerator",
        "small-loss-classifies": "small-loss-classifies", "basin-converges": "convergence-basin",
        "outside-basin-stuck": "convergence-basin", "denominator-log-growth": "denominator-log-growth",
        "numerator-limit": "numerator-limit", "margin-deficit-rate": "margin-deficit-rate",
        "margin-deficit-limit": "margin-deficit-rate", "directional-convergence": "directional-convergence",
        "mut-numerator-limit-difference": "mut-numerator-limit-difference",
        "mut-absorbing-0110": "mut-absorbing-0110", "mut-absorbing-1111": "mut-absorbing-1111",
        "mut-small-loss-0.9": "mut-small-loss-0.9", "mut-conserved-u": "mut-conserved-u",
        "mut-denominator-log2-growth": "mut-denominator-log2-growth",
        "mut-deficit-rate-1-over-t": "mut-deficit-rate-1-over-t",
        "mut-deficit-limit-difference": "mut-deficit-limit-difference",
        "mut-numerator-limit-w-difference": "mut-numerator-limit-w-difference",
        "mut-angle-rate-1-over-t": "mut-angle-rate-1-over-t",
    }
    inits = INITS + sample_inits(SETTINGS.problem().network, "he", 7, 6)
    ours, _ = _results(CATALOG, inits, ids=list(pairs))
    python = {**CLAIMS, **MUTATIONS}
    theirs = {r.claim_id: r for r in check_claims([python[p] for p in sorted(set(pairs.values()))], SETTINGS,
                                                   inits=inits)}
    both = 0
    for cid, pid in pairs.items():
        for a, b in zip(ours[cid].outcomes, theirs[pid].outcomes, strict=True):
            sa, sb = a.outcome.status, b.outcome.status
            if Status.NOT_ADMITTED in (sa, sb) or Status.INCONCLUSIVE in (sa, sb):
                continue
            both += 1
            assert (sa is Status.REFUTED) == (sb is Status.REFUTED), (cid, pid, a.theta0, a.outcome.detail,
                                                                       b.outcome.detail)
    assert both >= 40  # the comparison reaches many (claim, init) pairs


# --- bad input -----------------------------------------------------------------------------------
GOOD_CLAIM = '[claim.ok]\nform = "always"\nholds = "L >= 0"\n'


class _OtherPaper(Paper):
    id = "zlangtest"
    title = "a paper for the claim-language tests"
    options_type = NoOptions

    def problem(self, settings):
        return SETTINGS.problem()

    def claims(self):
        return {}

    def quantities(self):
        return {"sharpness": Quantity("sharpness", "a quantity only this paper has", lambda th, p: th["w1"])}


@pytest.fixture(scope="module")
def other_paper():
    if "zlangtest" not in registry():
        register(_OtherPaper())


@pytest.mark.parametrize("body, words", [
    ('paper = "a"\ncolour = "red"\n' + GOOD_CLAIM, "field 'colour'"),
    ('paper = "a"\n[claim.c]\nform = "always"\nholds = "w3 > 0"\n', "claim 'c', field 'holds': uses an unknown "
     "symbol 'w3'"),
    ('paper = "a"\n[claim.c]\nform = "always"\nholds = "w1 >"\n', "claim 'c', field 'holds': is not a valid "
     "expression"),
    ('paper = "a"\n[claim.c]\nform = "sometimes"\nholds = "w1 > 0"\n', "claim 'c', field 'form': 'sometimes' is "
     "not a form"),
    ('paper = "a"\n[claim.c]\nform = "always"\nholds = "sharpness > 0"\n', "claim 'c', field 'holds': names "
     "'sharpness', a quantity of paper zlangtest"),
    ('paper = "a"\n[claim.c]\nform = "monotone"\nquantity = "w1 > 0"\ndirection = "non-decreasing"\n',
     "claim 'c', field 'quantity': must be a quantity"),
    ('paper = "a"\n[claim.c]\nform = "always"\nholds = "w1 + 1"\n', "claim 'c', field 'holds': must be a relation"),
    ('paper = "a"\n[claim.c]\nform = "always"\nholds = "w1 > 0"\ncolour = "red"\n', "claim 'c', field 'colour': "
     "is not a field"),
    ('paper = "a"\n[claim.c]\nform = "limit"\nquantity = "w1"\nto = "w2"\n', "claim 'c', field 'to': may only use "
     "the init"),
    ('paper = "a"\n[claim.c]\nform = "always"\nholds = "w1 > 0"\nwhen = "w1 > 0"\n', "claim 'c', field 'when'"),
    ('paper = "a"\n[claim.c]\nform = "monotone"\nquantity = "w1"\ndirection = "up"\n', "field 'direction'"),
    ('paper = "a"\n[claim.c]\nform = "pattern"\nenters = "10"\n', "field 'enters'"),
    ('paper = "a"\n[claim.c]\nform = "always"\n', "claim 'c', field 'holds': is missing"),
    ('paper = "a"\n[settings]\nstepz = 3\n' + GOOD_CLAIM, "field 'settings.stepz'"),
    ('paper = "a"\n[define]\nu = "w1"\n' + GOOD_CLAIM, "field 'define.u'"),
    (GOOD_CLAIM, "field 'paper': is missing"),
    ('paper = "zz"\n' + GOOD_CLAIM, "field 'paper'"),
    ('paper = "a"\n[claim.c\n', "is not valid TOML"),
    ('paper = "a"\n', "field 'claim': holds no claims"),
])
def test_bad_claim_file_is_one_line_naming_file_claim_and_field(tmp_path, other_paper, body, words):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    before = set(tmp_path.iterdir())
    result = RUNNER.invoke(app, ["check", "--claims", str(path), "--quiet"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0], result.output
    assert words in lines[0], lines[0]
    assert set(tmp_path.iterdir()) == before  # nothing written


def test_unknown_claim_id_and_missing_file_are_named(tmp_path):
    result = RUNNER.invoke(app, ["check", "--claims", str(EXAMPLE), "no-such-claim", "--quiet"])
    assert result.exit_code == 2 and "claim 'no-such-claim'" in result.output
    result = RUNNER.invoke(app, ["check", "--claims", str(tmp_path / "none.toml"), "--quiet"])
    assert result.exit_code == 2 and "does not exist" in result.output
    with pytest.raises(ClaimFileError):
        load_claim_file(tmp_path / "none.toml")


def test_check_claims_cli_certifies_and_refutes_with_replay_commands(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('paper = "a"\n[settings]\ninits = 4\n\n'
                    '[claim.u-conserved]\nform = "always"\nholds = "w1 + b1 == w1_0 + b1_0"\nwhen = "w1_0 > 0"\n\n'
                    '[claim.c1-conserved]\nform = "always"\nholds = "w1 - b1 == w1_0 - b1_0"\n'
                    'when = "b1_0 == 0 and b2_0 == 0 and w1_0 > 0 > w2_0"\n')
    result = RUNNER.invoke(app, ["check", "--claims", str(path), "--quiet", "--workers", "1"])
    assert result.exit_code == 1, result.output  # a claim not marked as expected-refuted was refuted
    assert "u-conserved" in result.output and "refuted" in result.output
    assert "certified for every t >= 0" in result.output
    assert f"replay: verify check --claims {path} u-conserved --init w1=" in result.output
    assert "replay: verify trajectory --paper a --init w1=" in result.output
    replay = next(line.split("replay: ", 1)[1] for line in result.output.splitlines()
                  if "replay: verify check" in line)
    again = RUNNER.invoke(app, [*replay.split()[1:], "--quiet"])
    assert again.exit_code == 1 and "refuted" in again.output and "1 exact init" in again.output
