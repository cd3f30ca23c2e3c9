"""Valid but extreme inputs (issue 13): huge step sizes and inits finish with an honest answer
(certified, diverged, or inconclusive with its reason), never a traceback; astronomically large or
fine enclosures are compared on the balls and bounded outward, never expanded."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import flint
import pytest

from tests.conftest import verify_cli
from verify.arith import Enclosure, get_backend
from verify.arith.f64 import enclose
from verify.errors import HugeValue, UndecidableError
from verify.exact import to_exact

SMALL = ["--inits", "3", "--steps", "30", "--workers", "1"]


def _honest(result) -> str:
    out = result.stdout + result.stderr
    assert "internal error" not in out and "Traceback" not in out, out[-2000:]
    assert result.returncode in (0, 1), out[-2000:]  # a verdict, not bad input (2) nor a crash (3)
    return out


@pytest.mark.parametrize("eta", ["1e400", "1e5000"])
def test_astronomical_step_size_diverges_at_step_1(eta):
    out = _honest(verify_cli("check", "phase-ordering", "--eta", eta, *SMALL))
    assert "moved farther than 2**100 from its init, certified (GD diverges) at step 1" in out


@pytest.mark.parametrize("eta", ["1e12", "1e20"])
def test_huge_step_sizes_give_verdicts(eta):
    out = _honest(verify_cli("check", "small-loss-classifies", "--eta", eta, *SMALL))
    assert "small-loss-classifies" in out


def test_growth_claim_with_a_huge_step_is_inconclusive_with_its_reason():
    out = _honest(verify_cli("check", "denominator-log-growth", "--eta", "1e6", "--inits", "20", "--steps", "200",
                             "--workers", "1"))
    assert "inconclusive" in out


@pytest.mark.parametrize("backend", ["batch", "arb"])
def test_huge_init_runs_and_prints_shortened(backend):
    result = verify_cli("trajectory", "--init", "1e400,0,-0.4,0", "--backend", backend, "--steps", "20")
    out = _honest(result)
    assert result.returncode == 0 and "status: complete" in out and "w1=1e+400" in out
    assert max(len(line) for line in out.splitlines()) < 400  # no 400-digit numbers


def test_exact_text_of_a_5001_digit_input():
    q = to_exact("1e5000", "eta")
    assert len(str(q)) == 5001 and Fraction(str(q)) == q
    assert json.loads(json.dumps({"eta": str(q)}))["eta"] == str(q)


def test_double_enclosure_beyond_the_range_has_an_infinite_end():
    assert enclose(Fraction(10**400)) == (1.7976931348623157e308, math.inf)
    assert enclose(Fraction(-(10**400), 3)) == (-math.inf, -1.7976931348623157e308)


def test_astronomically_fine_and_large_balls_are_bounded_outward_or_refused():
    be = get_backend("arb", 128)
    with be.working_precision():
        tiny = (-(flint.arb(10) ** 400)).exp()  # about 2**(-1.4e400): contains 0 at 128 bits
        small_pos = flint.arb(2) ** -(2**40)  # a positive point 2**-(2**40)
        huge = flint.arb(2) ** (2**40) + flint.arb(1) / 3
    assert be.lower(tiny) < 0 < be.upper(tiny) and be.upper(tiny) <= Fraction(1, 2**4000)
    assert be.lower(small_pos) == 0 and 0 < be.upper(small_pos) <= Fraction(1, 2**4000)
    assert be.width(small_pos) == 0  # a point is still a point
    assert be.lower(huge) >= 2**4000  # a valid lower bound of bounded size
    with pytest.raises(HugeValue) as err:  # no bounded upper bound exists: refused, clearly
        be.upper(huge)
    assert isinstance(err.value, UndecidableError)  # a claim needing it is inconclusive
    assert be.to_float(huge) == math.inf and be.to_float(small_pos) == 0.0
    x = Enclosure(be, huge)
    assert (x > 10**400).certainly() and (x < 0).certainly() is False  # decided on the balls


@pytest.mark.parametrize("name", ["arb", "mpmath"])
def test_astronomical_enclosures_print_shortened(name):
    from verify.numbers import short_enclosure

    be = get_backend(name, 128)
    x = Enclosure.of(be, 10**400) * Enclosure.of(be, 10**400)
    huge = Enclosure.of(be, 2**40).exp()  # about 10**(4.8e11)
    for text in (repr(huge), short_enclosure(huge), repr(x), short_enclosure(x)):
        assert len(text) < 300 and "e+" in text
    if name == "arb":  # Arb gives up on exp(1e800) at 128 bits: not finite, still printable
        assert "inf" in repr(x.exp()) and "inf" in short_enclosure(x.exp())
