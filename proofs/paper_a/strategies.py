"""Paper A's own Hypothesis strategies for ``verify.strategies.inits``: the inits its claims are about.

* ``zero-bias-f`` -- ``(w1, 0, w2, 0)`` with ``w1 > 0 > w2``: zero-bias inits in F (lem:monotone_limit);
* ``near-cancel`` -- the same with ``w1 + w2`` within a tiny rational of 0 (the numerator's limit
  ``|w1 + w2|/2`` is then near 0 and the margin deficit near its degenerate case).
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from verify.model.network import Problem
from verify.strategies import small_rationals, tiny


def init_strategies(problem: Problem) -> dict[str, st.SearchStrategy[tuple[Fraction, ...]]]:
    positive = small_rationals().filter(lambda q: q > 0)
    zero = Fraction(0)
    return {
        "zero-bias-f": st.builds(lambda a, b: (a, zero, -b, zero), positive, positive),
        "near-cancel": st.builds(lambda a, e: (a, zero, -a + e, zero), positive, tiny()).filter(lambda th: th[2] < 0),
    }
