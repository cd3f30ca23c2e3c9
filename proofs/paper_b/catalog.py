"""Paper B's claims as checkable statements (``CLAIMS``) and deliberately false variants
(``MUTATIONS``), each mutation naming the claim it perturbs and refuted with an exact or certified
counterexample. (text): what the seed's words fix; (ours): our reconstruction (SETTING.md, Paper B).

Both are one table each: a row is ``(id, title, statement, source, hypotheses, check)``, plus the
id of the perturbed claim for a mutation; every claim reads the shared objects of the setting
(scope ``once``).
"""

from __future__ import annotations

from fractions import Fraction

from proofs.paper_b import checks as ck
from verify.claims.claim import Claim

ONCE = "once"
RUNS = "certified GD runs of each width and init seed whose loss is certified below 1/n (log 2/n logistic)"
SAMPLE = "the setting's training sample (Assumption 2.2 quantities reported)"
TEST = "the setting's test sample"

_CLAIM_ROWS = [
    ("separability",
     "Lemma 2.1: the clustered training set is linearly separable (exact certificate and witness u)",
     "(text) the training set is w.h.p. linearly separable; (ours) an exact rational (w, b) with "
     "min_i y_i(<w, x_i> + b) = 1 from an LP candidate checked in exact arithmetic, and the "
     "label-weighted direction u = sum_j y_j mu_j with y_i <u, x_i> > 0 for every training point.",
     "Lemma 2.1", (SAMPLE,), ck.separability_checker()),
    ("margin-monotone",
     "Theorem 2.1: after L < 1/n the normalized margin min_i y_i N(x_i)/||theta||^2 is non-decreasing",
     "(text) once the training loss is below the threshold, GD/GF converges in direction to a KKT "
     "point of Problem (2) and the normalized margin grows (Lyu & Li); (ours) certified on the "
     "enclosures of consecutive recorded steps from the first step with L certified < 1/n.",
     "Theorem 2.1 (Lyu & Li 2020; Ji & Telgarsky 2020)", (RUNS,), ck.margin_checker("margin")),
    ("smoothed-margin-monotone",
     "Theorem 2.1: after L < 1/n the smoothed margin log(1/(nL))/||theta||^2 is non-decreasing",
     "(Lyu & Li) the smoothed margin log(1/(n L))/||theta||^2 (logistic: log(1/(exp(nL) - 1))/"
     "||theta||^2) is non-decreasing once n L < l(0); certified on consecutive recorded steps.",
     "Theorem 2.1 (Lyu & Li 2020, Theorem 4.1 and E.2 for GD)", (RUNS,), ck.margin_checker("smoothed")),
    ("kkt-approximate",
     "Theorem 2.1: theta_t/sqrt(q_min) is an eps_t-approximate KKT point of Problem (2), eps_t shrinking",
     "(text) GF converges in direction to a KKT point of min 1/2||theta||^2 s.t. y_i N(x_i) >= 1; "
     "(ours) at log-spaced recorded steps after L < 1/n, multipliers lambda >= 0 (scipy nnls) give a "
     "rigorous bound eps_t >= max(||theta~ - sum_i lambda_i grad q_i(theta~)||, sum_i lambda_i "
     "(q_i(theta~) - 1)), theta~ = theta/sqrt(min q); certified eps_t < 1 and eps_last < eps_first.",
     "Theorem 2.1 (Lyu & Li 2020, (eps, delta)-KKT; Dutta et al. 2013)", (RUNS,), ck.kkt_checker()),
    ("balance",
     "v_j^2 - ||w_j||^2 - b_j^2 -> 0 relative to ||theta||^2 (KKT: v_j^2 = ||w_j||^2 + b_j^2)",
     "(derivable) gradient flow conserves c_j = v_j^2 - ||w_j||^2 - b_j^2 and a KKT point has c_j = 0; "
     "(ours) along GD after L < 1/n, max_j |c_j| / ||theta||^2 is non-increasing over the recorded "
     "steps (certified on enclosures).",
     "Problem (2) KKT conditions; 2-homogeneity (Du, Hu & Lee 2018)", (RUNS,), ck.balance_checker()),
    ("generalization",
     "Theorem 3.1: trained networks generalize (exact test-error count, certified signs)",
     "(text) every KKT point has small test error once n >~ k log k, whatever the width and init; "
     "(ours) every trained network reaching L < 1/n misclassifies at most max_test_error of the fresh "
     "test points, each sign certified; the 95% Clopper-Pearson upper bound is reported.",
     "Theorem 3.1", (RUNS, "n_test fresh points of the same distribution"), ck.generalization_checker()),
    ("robust-network",
     "Theorem 4.1: the width-k network sum_j y_j relu(<mu_j, x> - d/2) is sqrt(d)-robust",
     "(text) the construction; (ours: scale) on every test point exactly one neuron is active and the "
     "sign is right (exact), margin ~ d/2, and the certified l2 radius (sound lower bound) is at least "
     "robust_c sqrt(d) on at least flip_fraction of the test points.",
     "Theorem 4.1", (TEST,), ck.robust_checker()),
    ("universal-perturbation",
     "Theorem 4.2: one z of norm ~ sqrt(d/k) along u flips every trained network (transfer), not the "
     "robust one",
     "(text) z = eta u/||u|| with eta ~ sqrt(d/k) flips sign N(x - y z) for most test x, for every KKT "
     "point (the same z); (ours) ||z|| <= law_c sqrt(d/k) flips at least flip_fraction of the test "
     "points of every trained network (certified on enclosures) while the robust network keeps more "
     "than flip_fraction of them.",
     "Theorem 4.2", (RUNS, "balance: min(|I+|, |I-|) >= balance k"), ck.universal_checker()),
    ("sqrt-d-over-k-law",
     "The sqrt(d/k) law: eta90 of trained networks tracks sqrt(d/k) over a grid of k and d",
     "(text: heuristic eta ~ d/sqrt(kd)) at every grid point the certified bracket of the smallest "
     "||z|| flipping flip_fraction of the test points lies within a factor law_c of sqrt(d/k); the "
     "log-log slopes (predicted -1/2 in k, +1/2 in d; the robust radius +1/2 in d, 0 in k) are reported "
     "with 95% intervals (statistics, not certificates).",
     "Theorem 4.2 and the discussion after it; Theorem 4.1",
     ("one trained network per grid point reaching L < 1/n (law_width k neurons, law_ratio k points)",),
     ck.law_checker()),
]

_MUTATION_ROWS = [
    ("mut-separable-by-minus-u", "(false) -u separates the training set",
     "y_i <-u, x_i> > 0 for every training point.",
     "mutation of Lemma 2.1", (SAMPLE,), ck.separability_checker(sign=-1), "separability"),
    ("mut-margin-nonincreasing", "(false) after L < 1/n the normalized margin is non-increasing",
     "The normalized margin min_i y_i N(x_i)/||theta||^2 never increases after L < 1/n.",
     "mutation of Theorem 2.1", (RUNS,), ck.margin_checker("margin", increasing=False), "margin-monotone"),
    ("mut-kkt-eps-grows", "(false) the best KKT eps grows after L < 1/n",
     "The best eps* (the smallest eps over multipliers lambda >= 0 for which theta_t/sqrt(q_min) is an "
     "eps-approximate KKT point) at the last KKT-evaluated step exceeds the one at the first; refuted "
     "soundly: the nnls upper bound at the last step is below a dual lower bound at the first.",
     "mutation of Theorem 2.1", (RUNS,), ck.kkt_checker(mutated=True), "kkt-approximate"),
    ("mut-norm-conserved", "(false) v_j^2 + ||w_j||^2 + b_j^2 (the sum, not the difference) is conserved",
     "||theta||^2 is the same at the threshold step and at the last certified step.",
     "mutation of the balance law", (RUNS,), ck.balance_checker("sum"), "balance"),
    ("mut-init-generalizes", "(false) the untrained init already generalizes",
     "The exact init of every run misclassifies at most 1/100 of the test points.",
     "mutation of Theorem 3.1", (RUNS,), ck.generalization_checker(initial=True), "generalization"),
    ("mut-robust-radius-sqrt-d", "(false) the robust network's radius is at least sqrt(d) (not sqrt(d)/2)",
     "The certified l2 radius is at least sqrt(d) on at least flip_fraction of the test points.",
     "mutation of Theorem 4.1", (TEST,), ck.robust_checker(factor=Fraction(1)), "robust-network"),
    ("mut-universal-quarter", "(false) a z of norm sqrt(d/k)/4 already flips every trained network",
     "||z|| <= sqrt(d/k)/4 along u flips at least flip_fraction of the test points of every trained net.",
     "mutation of Theorem 4.2", (RUNS,), ck.universal_checker(c=Fraction(1, 4)), "universal-perturbation"),
    ("mut-law-robust-scale", "(false) trained networks need the robust scale: eta90 >= sqrt(d)/2 at every grid point",
     "At every grid point the smallest ||z|| flipping flip_fraction of the test points is >= sqrt(d)/2.",
     "mutation of the sqrt(d/k) law", ("one trained network per grid point reaching L < 1/n",),
     ck.law_checker(mutated=True), "sqrt-d-over-k-law"),
]


def _claim(id: str, title: str, statement: str, source: str, hypotheses: tuple[str, ...], check: ck.Checker,
           mutation_of: str | None = None) -> Claim:
    return Claim(id=id, title=title, statement=statement, source=source, hypotheses=hypotheses, check=check,
                 mutation_of=mutation_of, scope=ONCE)


CLAIMS: dict[str, Claim] = {row[0]: _claim(*row) for row in _CLAIM_ROWS}
MUTATIONS: dict[str, Claim] = {row[0]: _claim(*row) for row in _MUTATION_ROWS}
