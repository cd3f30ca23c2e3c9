"""Paper A's claims as checkable lemmas (``CLAIMS``) and deliberately false variants (``MUTATIONS``).

``CLAIMS`` is in dependency order: a claim's ``depends_on`` only names claims before it. Each
mutation names the claim it perturbs in ``mutation_of`` and must come out *refuted* on some init
with an exact counterexample (``tests/test_mutations.py``). The all-t asymptotic claims live in
``proofs/paper_a/asymptotic.py`` (``ASYMPTOTIC_CLAIMS`` / ``ASYMPTOTIC_MUTATIONS``) and are merged
here when that module is present.
"""

from __future__ import annotations

from fractions import Fraction

from proofs.paper_a import checks as ck
from proofs.paper_a import lanes as lk
from verify.claims.claim import Claim

TITLE = "On the Rate of Convergence of GD in Non-linear Neural Networks (Smorodinsky, Gimpleson, Safran)"

_CLAIMS: list[Claim] = [
    Claim(
        id="limit-network",
        title="The limit network has the optimal margin and is a KKT point",
        statement=(
            "theta* = (1/2, 1/2, -1/2, 1/2) has robustness margin gamma(theta*) = gamma* = 1 and satisfies the KKT "
            "conditions of min 1/2|theta|^2 s.t. y_i Phi(theta; x_i) >= 1: both constraints active and "
            "theta* = sum_i lambda_i y_i grad Phi(theta*; x_i) with lambda_i >= 0 (relu'(0) = 0)."
        ),
        source="Figure 1; Theorem 2.2 (Lyu & Li 2019; Ji & Telgarsky 2020)",
        hypotheses=(),
        check=ck.limit_network_checker(),
        scope="once",
    ),
    Claim(
        id="phase-ordering",
        title="Activation phases follow the derived transition graph; F = 1001 is absorbing",
        statement=(
            "Every certified pattern sequence of a GD run is a path in the transition graph derived in "
            "proofs/paper_a/derivations.py (edge P -> Q iff each differing bit can flip given the sign of the change "
            "of its pre-activation in P); F = 1001 has no edge out but the self-loop."
        ),
        source="Figure 2",
        hypotheses=("certified GD run of settings.steps steps",),
        check=ck.phase_ordering_checker(),
        lanes=lk.phase_ordering_lanes,
    ),
    Claim(
        id="f-invariance",
        title="F is forward-invariant and c1 = w1 - b1, c2 = w2 + b2 are conserved in F",
        statement=(
            "Once a run enters F = 1001 it never leaves, and c1 = w1 - b1, c2 = w2 + b2 are constant from F entry on "
            "(symbolically in derivations.py; the enclosures at every recorded F step overlap those at entry and "
            "contain the exact c1, c2 of theta_0 when theta_0 is in F)."
        ),
        source="Section 'inside F' (reconstructed); Figure 2",
        hypotheses=("the run enters F",),
        check=ck.f_invariance_checker(),
        lanes=lk.f_invariance_lanes(),
        depends_on=("phase-ordering",),
    ),
    Claim(
        id="monotone-numerator",
        title="The numerator |b2 - b1| grows monotonically to |w1(0) + w2(0)|/2",
        statement=(
            "Zero-bias init with w1(0) > 0 > w2(0) and eta < e^{min(u0, v0)}: |b2 - b1| is non-decreasing, bounded by "
            "|w1(0) + w2(0)|/2, obeys the Figure-3 lower bound min{|b2 - b1|(t), |w1(0) + w2(0)|/2} <= |b2 - b1|(t') "
            "for t' > t, and converges to |w1(0) + w2(0)|/2."
        ),
        source="Lemma lem:monotone_limit / Figure 3",
        hypotheses=("b1(0) = b2(0) = 0", "w1(0) > 0 > w2(0)", "eta < exp(min(u0, v0)), u0 = w1 + b1, v0 = b2 - w2"),
        check=ck.monotone_numerator_checker(),
        lanes=lk.monotone_lanes,
        admits=ck.monotone_admits,
        depends_on=("f-invariance",),
    ),
    Claim(
        id="small-loss-classifies",
        title="Loss below 1/2 means both points are correctly classified",
        statement="At every recorded step with certified L < 1/2, y_i Phi(x_i) > 0 for both points.",
        source="Setting (L = 1/2 sum exp(-y_i Phi(x_i)); each term < 1)",
        hypotheses=("some recorded step has L < 1/2",),
        check=ck.small_loss_checker(Fraction(1, 2)),
        lanes=lk.small_loss_lanes(Fraction(1, 2)),
    ),
    Claim(
        id="convergence-basin",
        title="GD reaches small loss iff z11(0) > 0 and z22(0) > 0 (zero bias: iff w1(0) > 0 > w2(0))",
        statement=(
            "GD reaches L < 1/2 iff w1(0) + b1(0) > 0 and b2(0) - w2(0) > 0; for zero-bias inits iff "
            "w1(0) > 0 > w2(0), "
            "within settings.steps. Otherwise the run is certified stuck: z11 <= 0 or z22 <= 0 (e.g. a dead neuron), "
            "these never change while inactive, so L >= 1/2 for ever."
        ),
        source="Figure 2 / Figure 3 (2,368 of 10,000 runs converged); reconstructed",
        hypotheses=("certified GD run",),
        check=ck.convergence_basin_checker(),
        lanes=lk.convergence_basin_lanes,
        depends_on=("phase-ordering", "small-loss-classifies"),
    ),
    Claim(
        id="degenerate-interval",
        title="A degenerate interval in F vanishes after finitely many steps",
        statement=(
            "For runs ending in F, a degenerate interval of {Phi = 0} (both neurons inactive between the kinks) is "
            "absent at the last step; the kinks move apart monotonically in F, so it never returns."
        ),
        source="Figure 2 caption",
        hypotheses=("the run ends in F",),
        check=ck.degenerate_interval_checker(),
        lanes=lk.degenerate_interval_lanes,
        depends_on=("f-invariance",),
    ),
]


def _half_difference(theta0: tuple[Fraction, ...]) -> Fraction:
    return (theta0[0] - theta0[2]) / 2


_MUTATIONS: list[Claim] = [
    Claim(
        id="mut-numerator-limit-difference",
        title="(false) numerator limit (w1(0) - w2(0))/2",
        statement="Under lem:monotone_limit's hypotheses |b2 - b1| converges monotonically to (w1(0) - w2(0))/2.",
        source="mutation of Lemma lem:monotone_limit / Figure 3",
        hypotheses=_CLAIMS[3].hypotheses,
        check=ck.monotone_numerator_checker(_half_difference),
        lanes=lk.monotone_lanes,
        admits=ck.monotone_admits,
        mutation_of="monotone-numerator",
    ),
    Claim(
        id="mut-absorbing-0110",
        title="(false) 0110 is absorbing",
        statement="Once a run is in pattern 0110 it stays there.",
        source="mutation of Figure 2",
        hypotheses=("the run visits 0110",),
        check=ck.absorbing_checker("0110"),
        lanes=lk.absorbing_lanes("0110"),
        mutation_of="phase-ordering",
    ),
    Claim(
        id="mut-absorbing-1111",
        title="(false) 1111 is absorbing",
        statement="Once a run is in pattern 1111 it stays there (refutable only with nonzero biases).",
        source="mutation of Figure 2",
        hypotheses=("the run visits 1111",),
        check=ck.absorbing_checker("1111"),
        lanes=lk.absorbing_lanes("1111"),
        mutation_of="phase-ordering",
    ),
    Claim(
        id="mut-small-loss-0.9",
        title="(false) loss below 0.9 means both points are correctly classified",
        statement="At every recorded step with certified L < 9/10, y_i Phi(x_i) > 0 for both points.",
        source="mutation of the small-loss threshold",
        hypotheses=("some recorded step has L < 9/10",),
        check=ck.small_loss_checker(Fraction(9, 10)),
        lanes=lk.small_loss_lanes(Fraction(9, 10)),
        mutation_of="small-loss-classifies",
    ),
    Claim(
        id="mut-gamma-2",
        title="(false) the limit network has margin 2",
        statement="theta* = (1/2, 1/2, -1/2, 1/2) has gamma(theta*) = 2 and is a KKT point.",
        source="mutation of Figure 1",
        hypotheses=(),
        check=ck.limit_network_checker(gamma=2),
        mutation_of="limit-network",
        scope="once",
    ),
    Claim(
        id="mut-conserved-u",
        title="(false) w1 + b1 is conserved in F",
        statement="Once in F, u = w1 + b1 is constant.",
        source="mutation of the F-phase conservation law",
        hypotheses=("the run enters F",),
        check=ck.f_invariance_checker({"u": ck.u_of}),
        lanes=lk.f_invariance_lanes({"u": ck.u_of}),
        mutation_of="f-invariance",
    ),
]

CLAIMS: dict[str, Claim] = {c.id: c for c in _CLAIMS}
MUTATIONS: dict[str, Claim] = {c.id: c for c in _MUTATIONS}

try:  # the all-t asymptotic claims, written separately
    from proofs.paper_a.asymptotic import ASYMPTOTIC_CLAIMS, ASYMPTOTIC_MUTATIONS
except ImportError:  # pragma: no cover - before asymptotic.py lands
    ASYMPTOTIC_CLAIMS, ASYMPTOTIC_MUTATIONS = {}, {}

CLAIMS.update(ASYMPTOTIC_CLAIMS)
MUTATIONS.update(ASYMPTOTIC_MUTATIONS)
