"""Paper B's plug-in: registration, settings (bad input names the field), digest, and one claim
end to end through the command line."""

from __future__ import annotations

from fractions import Fraction

import pytest
from typer.testing import CliRunner

from verify.cli import app
from verify.errors import InvalidArgument
from verify.papers import get_paper
from verify.settings import CheckSettings


def test_registered():
    paper = get_paper("b")
    assert paper.id == "b"
    assert "separability" in paper.claims()
    assert all(m.mutation_of in paper.claims() for m in paper.mutations().values())


@pytest.mark.parametrize(("key", "value", "field"), [
    ("k", 1, "k"), ("sigma", "0", "sigma"), ("sigma", "-1/2", "sigma"), ("d", 0, "d"), ("n", 0, "n"),
    ("widths", "8,0", "widths[1]"), ("grid_k", "4,-8", "grid_k[1]"), ("grid_d", "0", "grid_d[0]"),
    ("gen_ratios", "1,0", "gen_ratios[1]"), ("kind", "cube", "kind"), ("full", "maybe", "full"),
])
def test_bad_settings_name_the_field(key, value, field):
    with pytest.raises(InvalidArgument) as info:
        CheckSettings.from_mapping({"paper": "b", key: value})
    assert str(info.value).startswith(f"{field}=")


def test_options_enter_the_digest():
    a = CheckSettings.from_mapping({"paper": "b"})
    b = CheckSettings.from_mapping({"paper": "b", "sigma": "1/8"})
    assert a.options.sigma == Fraction(1, 16) and b.options.sigma == Fraction(1, 8)
    assert a.digest() != b.digest()
    assert a.to_dict()["options"]["widths"] == [8, 32, 64]


def test_full_sizes_are_the_recorded_sizes(monkeypatch):
    """``full=true`` is resolved in the options: the settings record (``to_dict``, what results.json
    and the digest hold) names the large sizes, and the world is built from exactly those options
    (the data draw is replaced, so nothing at d = 2048 runs)."""
    from proofs.paper_b import plugin, world

    s = CheckSettings.from_mapping({"paper": "b", "full": "true"})
    o = s.options
    assert all(getattr(o, name) == value for name, value in plugin.FULL.items()) and o.full
    recorded = s.to_dict()["options"]
    assert (recorded["d"], recorded["k"], recorded["n"], recorded["n_test"]) == (2048, 40, 400, 400)
    assert recorded["widths"] == [40, 160] and recorded["grid_d"] == [256, 512, 1024, 2048]
    assert recorded["grid_k"] == [5, 10, 20, 40] and recorded["full"] is True
    assert s.digest() != CheckSettings.from_mapping({"paper": "b"}).digest()
    # the record read back (``verify report``, a config file) gives the same settings
    again = CheckSettings.from_mapping({"paper": "b", **recorded})
    assert again.options == o and again.digest() == s.digest()
    # a size given explicitly keeps its value; the others take the large ones
    mixed = CheckSettings.from_mapping({"paper": "b", "full": "true", "n": 100, "widths": "16"}).options
    assert (mixed.d, mixed.n, mixed.widths) == (2048, 100, (16,))
    # the run uses the recorded options themselves
    seen = {}

    def fake_build(opts, d=None, k=None):
        seen["opts"] = opts
        raise RuntimeError("stop before drawing the data")

    monkeypatch.setattr(world, "build_model", fake_build)
    with pytest.raises(RuntimeError):
        world.world(s)
    assert seen["opts"] is s.options


@pytest.mark.parametrize(("args", "field"), [(["--set", "k=1"], "k"), (["--set", "sigma=0"], "sigma"),
                                             (["--set", "widths=0"], "widths[0]")])
def test_cli_bad_input_one_line(args, field):
    result = CliRunner().invoke(app, ["check", "separability", "--paper", "b", *args])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and f"{field}=" in result.output


def test_separability_end_to_end():
    result = CliRunner().invoke(app, ["check", "separability", "--paper", "b", "--set", "d=64", "--set", "n=32"])
    assert result.exit_code == 0, result.output
    assert "certified" in result.output


def test_mutation_refuted_end_to_end():
    result = CliRunner().invoke(app, ["check", "mut-separable-by-minus-u", "--paper", "b", "--set", "d=64"])
    assert result.exit_code == 0, result.output
    assert "refuted" in result.output


def test_derivations_hold():
    from proofs.paper_b.derivations import DERIVATIONS

    assert all(f() for f in DERIVATIONS.values())


def test_example_claim_file():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "paper_b.toml"
    result = CliRunner().invoke(app, ["check", "--claims", str(path), "--set", "d=8", "--set", "k=2", "--set", "n=8",
                                      "--set", "widths=4", "--quiet"])
    assert result.exit_code == 0, result.output
    lines = {ln.split()[0]: ln.split()[1] for ln in result.output.splitlines() if ln[:1].isalpha() and "  " in ln}
    assert lines["loss-decreases"] == "certified" and lines["norm-grows"] == "certified"
    assert lines["norm-conserved"] == "refuted"
