"""Paper B's claims as checkable statements (``CLAIMS``) and deliberately false variants
(``MUTATIONS``), each mutation naming the claim it perturbs and refuted with an exact or certified
counterexample. (text): what the seed's words fix; (ours): our reconstruction (SETTING.md, Paper B).
"""

from __future__ import annotations

from fractions import Fraction

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
    Claim(
        id="kkt-approximate",
        title="Theorem 2.1: theta_t/sqrt(q_min) is an eps_t-approximate KKT point of Problem (2), eps_t shrinking",
        statement=("(text) GF converges in direction to a KKT point of min 1/2||theta||^2 s.t. y_i N(x_i) >= 1; "
                   "(ours) at log-spaced recorded steps after L < 1/n, multipliers lambda >= 0 (scipy nnls) give a "
                   "rigorous bound eps_t >= max(||theta~ - sum_i lambda_i grad q_i(theta~)||, sum_i lambda_i "
                   "(q_i(theta~) - 1)), theta~ = theta/sqrt(min q); certified eps_t < 1 and eps_last < eps_first."),
        source="Theorem 2.1 (Lyu & Li 2020, (eps, delta)-KKT; Dutta et al. 2013)",
        hypotheses=(RUNS,),
        check=ck.kkt_checker(),
        scope=ONCE,
    ),
    Claim(
        id="balance",
        title="v_j^2 - ||w_j||^2 - b_j^2 -> 0 relative to ||theta||^2 (KKT: v_j^2 = ||w_j||^2 + b_j^2)",
        statement=("(derivable) gradient flow conserves c_j = v_j^2 - ||w_j||^2 - b_j^2 and a KKT point has c_j = 0; "
                   "(ours) along GD after L < 1/n, max_j |c_j| / ||theta||^2 is non-increasing over the recorded "
                   "steps (certified on enclosures)."),
        source="Problem (2) KKT conditions; 2-homogeneity (Du, Hu & Lee 2018)",
        hypotheses=(RUNS,),
        check=ck.balance_checker(),
        scope=ONCE,
    ),
    Claim(
        id="generalization",
        title="Theorem 3.1: trained networks generalize (exact test-error count, certified signs)",
        statement=("(text) every KKT point has small test error once n >~ k log k, whatever the width and init; "
                   "(ours) every trained network reaching L < 1/n misclassifies at most max_test_error of the fresh "
                   "test points, each sign certified; the 95% Clopper-Pearson upper bound is reported."),
        source="Theorem 3.1",
        hypotheses=(RUNS, "n_test fresh points of the same distribution"),
        check=ck.generalization_checker(),
        scope=ONCE,
    ),
    Claim(
        id="robust-network",
        title="Theorem 4.1: the width-k network sum_j y_j relu(<mu_j, x> - d/2) is sqrt(d)-robust",
        statement=("(text) the construction; (ours: scale) on every test point exactly one neuron is active and the "
                   "sign is right (exact), margin ~ d/2, and the certified l2 radius (sound lower bound) is at least "
                   "robust_c sqrt(d) on at least flip_fraction of the test points."),
        source="Theorem 4.1",
        hypotheses=("the setting's test sample",),
        check=ck.robust_checker(),
        scope=ONCE,
    ),
    Claim(
        id="universal-perturbation",
        title="Theorem 4.2: one z of norm ~ sqrt(d/k) along u flips every trained network (transfer), not the "
              "robust one",
        statement=("(text) z = eta u/||u|| with eta ~ sqrt(d/k) flips sign N(x - y z) for most test x, for every KKT "
                   "point (the same z); (ours) ||z|| <= law_c sqrt(d/k) flips at least flip_fraction of the test "
                   "points of every trained network (certified on enclosures) while the robust network keeps more "
                   "than flip_fraction of them."),
        source="Theorem 4.2",
        hypotheses=(RUNS, "balance: min(|I+|, |I-|) >= balance k"),
        check=ck.universal_checker(),
        scope=ONCE,
    ),
    Claim(
        id="sqrt-d-over-k-law",
        title="The sqrt(d/k) law: eta90 of trained networks tracks sqrt(d/k) over a grid of k and d",
        statement=("(text: heuristic eta ~ d/sqrt(kd)) at every grid point the certified bracket of the smallest "
                   "||z|| flipping flip_fraction of the test points lies within a factor law_c of sqrt(d/k); the "
                   "log-log slopes (predicted -1/2 in k, +1/2 in d; the robust radius +1/2 in d, 0 in k) are reported "
                   "with 95% intervals (statistics, not certificates)."),
        source="Theorem 4.2 and the discussion after it; Theorem 4.1",
        hypotheses=("one trained network per grid point reaching L < 1/n (law_width k neurons, law_ratio k points)",),
        check=ck.law_checker(),
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

_MUTATIONS += [
    Claim(
        id="mut-kkt-eps-grows",
        title="(false) the certified KKT bound eps_t grows after L < 1/n",
        statement="The bound eps_t at the last KKT-evaluated step exceeds the one at the first.",
        source="mutation of Theorem 2.1",
        hypotheses=(RUNS,),
        check=ck.kkt_checker(mutated=True),
        mutation_of="kkt-approximate",
        scope=ONCE,
    ),
    Claim(
        id="mut-norm-conserved",
        title="(false) v_j^2 + ||w_j||^2 + b_j^2 (the sum, not the difference) is conserved",
        statement="||theta||^2 is the same at the threshold step and at the last certified step.",
        source="mutation of the balance law",
        hypotheses=(RUNS,),
        check=ck.balance_checker("sum"),
        mutation_of="balance",
        scope=ONCE,
    ),
    Claim(
        id="mut-init-generalizes",
        title="(false) the untrained init already generalizes",
        statement="The exact init of every run misclassifies at most 1/100 of the test points.",
        source="mutation of Theorem 3.1",
        hypotheses=(RUNS,),
        check=ck.generalization_checker(initial=True),
        mutation_of="generalization",
        scope=ONCE,
    ),
    Claim(
        id="mut-robust-radius-sqrt-d",
        title="(false) the robust network's radius is at least sqrt(d) (not sqrt(d)/2)",
        statement="The certified l2 radius is at least sqrt(d) on at least flip_fraction of the test points.",
        source="mutation of Theorem 4.1",
        hypotheses=("the setting's test sample",),
        check=ck.robust_checker(factor=Fraction(1)),
        mutation_of="robust-network",
        scope=ONCE,
    ),
    Claim(
        id="mut-universal-quarter",
        title="(false) a z of norm sqrt(d/k)/4 already flips every trained network",
        statement="||z|| <= sqrt(d/k)/4 along u flips at least flip_fraction of the test points of every trained net.",
        source="mutation of Theorem 4.2",
        hypotheses=(RUNS,),
        check=ck.universal_checker(c=Fraction(1, 4)),
        mutation_of="universal-perturbation",
        scope=ONCE,
    ),
    Claim(
        id="mut-law-robust-scale",
        title="(false) trained networks need the robust scale: eta90 >= sqrt(d)/2 at every grid point",
        statement="At every grid point the smallest ||z|| flipping flip_fraction of the test points is >= sqrt(d)/2.",
        source="mutation of the sqrt(d/k) law",
        hypotheses=("one trained network per grid point reaching L < 1/n",),
        check=ck.law_checker(mutated=True),
        mutation_of="sqrt-d-over-k-law",
        scope=ONCE,
    ),
]

CLAIMS: dict[str, Claim] = {c.id: c for c in _CLAIMS}
MUTATIONS: dict[str, Claim] = {c.id: c for c in _MUTATIONS}
