"""Paper A's figures under step sizes that make GD diverge: ``verify run`` finishes (a verdict, never
the crash code 3), publishes a complete report, and names each figure it could not draw with the
reason, in both the Markdown and the HTML, in place of the figure."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from proofs.paper_a.certificate import ScalarBand
from tests.conftest import verify_cli
from verify.arith import Enclosure, get_backend
from verify.errors import UndecidableError
from verify.report.render import figure_notes

SMALL = ["--inits", "3", "--steps", "20", "--set", "fig3_inits=3", "--set", "rate_steps=20", "--workers", "1",
         "-q", "--no-store"]
ALWAYS = {"results.json", "timings.json", "provenance.json", "index.md", "index.html", "dependencies.png",
          "dependencies.svg", "figure1.png", "figure2.png", "figure3.png"}


# 1e400: the band's constant e^(eta/sigma) is infinite; 1e35: nothing to put on the log axis (each ~15 s)
@pytest.mark.parametrize("eta", ["1e400", pytest.param("1e35", marks=pytest.mark.slow)])
def test_divergent_eta_finishes_with_a_note_for_the_rate_figure(tmp_path, eta):
    result = verify_cli("run", "--paper", "a", "--eta", eta, "--out", str(tmp_path), *SMALL, timeout=300)
    assert result.returncode in (0, 1), (result.returncode, result.stderr)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    folder = tmp_path / "paper_a"
    files = {p.name for p in folder.iterdir()}
    assert ALWAYS <= files and "rate.png" not in files, files
    doc = json.loads((folder / "results.json").read_text())
    assert doc["claims"] and all(c["verdict"] in {"certified", "refuted", "inconclusive", "not-admitted"}
                                 for c in doc["claims"])
    assert [f["stem"] for f in doc["figures"]] == ["dependencies", "figure1", "figure2", "figure3"]
    (note,) = figure_notes(doc)
    assert note.startswith("figure Rate: margin deficit x ln t not drawn: He init #") and "diverged" in note
    assert f"- {note}" in (folder / "index.md").read_text()
    assert "not drawn: He init #" in (folder / "index.html").read_text()
    again = verify_cli("report", str(folder), "--out", str(tmp_path / "again"), timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"- {note}" in (tmp_path / "again" / "index.md").read_text()  # re-rendered from results.json


def test_a_band_whose_constant_overflows_is_undecidable_not_a_crash():
    be = get_backend("arb", 128)
    with pytest.raises(UndecidableError, match="not finite"):
        ScalarBand.of(Enclosure.of(be, Fraction(0)), Fraction(10) ** 400, 0)


def test_no_notes_when_every_figure_is_drawn():
    assert figure_notes({"paper_data": {}}) == [] and figure_notes({}) == []
    doc = {"paper_data": {"figures_not_drawn": [{"title": "Rate", "reason": "no finite point"}]}}
    assert figure_notes(doc) == ["figure Rate not drawn: no finite point"]


def test_plot_values_past_the_float_range_are_infinite_not_a_crash():
    from proofs.paper_a.figures import plot_float

    huge = Fraction(10) ** 400
    assert plot_float(huge) == float("inf") and plot_float(-huge) == float("-inf")
    assert plot_float(Fraction(1, 4)) == 0.25


def test_rate_figure_draws_the_run_that_completes_and_names_the_divergent_one(monkeypatch):
    import verify.dynamics.gd as gd
    from proofs.paper_a.figures import rate_figure
    from verify.settings import CheckSettings

    real, calls = gd.run_gd, []
    divergent = CheckSettings(paper="a", eta=Fraction(10) ** 400, steps=20).problem()

    def first_run_diverges(problem, theta0, steps, **kwargs):
        calls.append(theta0)
        return real(divergent if len(calls) == 1 else problem, theta0, steps, **kwargs)

    monkeypatch.setattr(gd, "run_gd", first_run_diverges)
    fig = rate_figure(CheckSettings(paper="a", steps=20), 200)
    assert len(calls) == 2
    left, right = fig.axes
    assert [line.get_label() for line in right.lines] == ["He init #22"]
    assert any(t.get_text().startswith("not drawn: He init #0: GD diverged at step") for t in fig.texts)
