"""Paper B's claims as checkable statements (``CLAIMS``) and deliberately false variants
(``MUTATIONS``), each mutation naming the claim it perturbs and refuted with an exact or certified
counterexample. (text): what the seed's words fix; (ours): our reconstruction (SETTING.md, Paper B).
"""

from __future__ import annotations

from proofs.paper_b import checks as ck
from verify.claims.claim import Claim

ONCE = "once"
RUNS = "certified GD runs of each width and init seed whose loss is certified below 1/n (log 2/n logistic)"

_CLAIMS: list[Claim] = [
    Claim(
        id="separability",
        title="Lemma 2.1: the clustered training set is linearly separable (exact certificate and witness u)",
        statement=("(text) the training set is w.h.p. linearly separable; (ours) an exact rational (w, b) with "
                   "min_i y_i(<w, x_i> + b) = 1 from an LP candidate checked in exact arithmetic, and the "
                   "label-weighted direction u = sum_j y_j mu_j with y_i <u, x_i> > 0 for every training point."),
        source="Lemma 2.1",
        hypotheses=("the setting's training sample (Assumption 2.2 quantities reported)",),
        check=ck.separability_checker(),
        scope=ONCE,
    ),
    Claim(
        id="margin-monotone",
        title="Theorem 2.1: after L < 1/n the normalized margin min_i y_i N(x_i)/||theta||^2 is non-decreasing",
        statement=("(text) once the training loss is below the threshold, GD/GF converges in direction to a KKT "
                   "point of Problem (2) and the normalized margin grows (Lyu & Li); (ours) certified on the "
                   "enclosures of consecutive recorded steps from the first step with L certified < 1/n."),
        source="Theorem 2.1 (Lyu & Li 2020; Ji & Telgarsky 2020)",
        hypotheses=(RUNS,),
        check=ck.margin_checker("margin"),
        scope=ONCE,
    ),
    Claim(
        id="smoothed-margin-monotone",
        title="Theorem 2.1: after L < 1/n the smoothed margin log(1/(nL))/||theta||^2 is non-decreasing",
        statement=("(Lyu & Li) the smoothed margin log(1/(n L))/||theta||^2 (logistic: log(1/(exp(nL) - 1))/"
                   "||theta||^2) is non-decreasing once n L < l(0); certified on consecutive recorded steps."),
        source="Theorem 2.1 (Lyu & Li 2020, Theorem 4.1 and E.2 for GD)",
        hypotheses=(RUNS,),
        check=ck.margin_checker("smoothed"),
        scope=ONCE,
    ),
]

_MUTATIONS: list[Claim] = [
    Claim(
        id="mut-separable-by-minus-u",
        title="(false) -u separates the training set",
        statement="y_i <-u, x_i> > 0 for every training point.",
        source="mutation of Lemma 2.1",
        hypotheses=_CLAIMS[0].hypotheses,
        check=ck.separability_checker(sign=-1),
        mutation_of="separability",
        scope=ONCE,
    ),
    Claim(
        id="mut-margin-nonincreasing",
        title="(false) after L < 1/n the normalized margin is non-increasing",
        statement="The normalized margin min_i y_i N(x_i)/||theta||^2 never increases after L < 1/n.",
        source="mutation of Theorem 2.1",
        hypotheses=(RUNS,),
        check=ck.margin_checker("margin", increasing=False),
        mutation_of="margin-monotone",
        scope=ONCE,
    ),
]

CLAIMS: dict[str, Claim] = {c.id: c for c in _CLAIMS}
MUTATIONS: dict[str, Claim] = {c.id: c for c in _MUTATIONS}
