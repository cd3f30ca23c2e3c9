"""Paper A's problem: two ReLU neurons on the line with output weights (+1, -1), trained on
``(x1, y1) = (1, +1)`` and ``(x2, y2) = (-1, -1)`` (see ``SETTING.md``, paper A).

>>> from verify import run_gd
>>> run = run_gd(paper_a_problem("0.1"), ["1/2", "0", "-1/2", "0"], 100)
>>> run.status, run.phases
('complete', [(0, '1001')])
"""

from __future__ import annotations

from fractions import Fraction

from verify.exact import to_exact
from verify.model.network import Dataset, Network, Problem


def paper_a_problem(eta: object = "0.1", loss: str = "exponential") -> Problem:
    """Paper A: two neurons on R, output weights (+1, -1), data (1, +1), (-1, -1)."""
    return Problem(
        Network(width=2, dim=1, output_weights=(Fraction(1), Fraction(-1)), loss=loss),
        Dataset.of([[1], [-1]], [1, -1]),
        to_exact(eta, "eta"),
    )
