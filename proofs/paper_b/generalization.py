"""Theorem 3.1 on certified runs: the test error of a trained network, counted exactly.

For a trained network (the enclosure of its parameters at a recorded step) and fresh test points
of the same distribution, each ``sign N(x)`` is *certified* on the enclosure
(:func:`verify.model.evaluate.evaluate`: float64 midpoint-radius or Arb interval arithmetic), so
the number of errors ``y N(x) < 0`` is exact once every sign is decided (a point whose sign is not
decided, or where ``N(x) = 0`` is not excluded, is counted apart and bounds the count both ways).
The population error is then bounded by a rigorous one-sided Clopper-Pearson upper bound
(:func:`proofs.paper_b.stats.clopper_pearson_upper`, exact integer binomial tails).

The n/k sweep **(text: "at least one example from each cluster", n >~ k log k; ours: the grid of
n/k values and widths)** trains at several training-set sizes and widths on the same model and
test set, and records the exact error counts.

Invariant: ``errors_lo <= true error count <= errors_hi`` of the exact trained iterate on the test
points; ``cp_upper`` is a valid (1 - alpha) upper confidence bound from ``errors_hi``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from verify.model.evaluate import UNDECIDED, evaluate
from verify.model.network import Network

ALPHA = Fraction(1, 20)


@dataclass(frozen=True)
class TestError:
    """Certified error counts of one trained network on ``n`` test points."""

    n: int
    errors_lo: int  # certified errors (y N(x) < 0 certified)
    errors_hi: int  # errors_lo + undecided
    undecided: int
    cp_upper: Fraction  # (1 - ALPHA) Clopper-Pearson upper bound of the population error (from errors_hi)

    @property
    def exact(self) -> bool:
        return self.undecided == 0

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "errors_lo": self.errors_lo, "errors_hi": self.errors_hi, "undecided": self.undecided,
                "cp_upper": str(self.cp_upper)}


def certified_test_error(network: Network, params: Any, test: Any) -> TestError:
    """The certified test error of ``network`` with ``params`` (packed enclosures or an exact vector)
    on the sample ``test`` (a :class:`~proofs.paper_b.data.ClusterSample`)."""
    from proofs.paper_b.stats import clopper_pearson_upper
    from proofs.paper_b.train import dataset_of

    data = dataset_of(test)
    ev = evaluate(network, params, data)
    sign = ev.output_sign
    y = np.asarray(test.y)
    undecided = int(((sign == UNDECIDED) | (sign == 0)).sum())
    wrong = int(((sign != UNDECIDED) & (sign != 0) & (sign != y)).sum())
    hi = wrong + undecided
    return TestError(len(y), wrong, hi, undecided, clopper_pearson_upper(hi, len(y), ALPHA).upper)


def run_test_error(run: Any, test: Any) -> TestError:
    """The test error of a training run at its last certified record."""
    traj = run.trajectory
    return certified_test_error(traj.problem.network, traj.final.params, test)


def initial_test_error(run: Any, test: Any) -> TestError:
    """The test error of the run's exact init (the untrained network: a mutation's case)."""
    traj = run.trajectory
    return certified_test_error(traj.problem.network, traj.theta0, test)


def sweep_n(settings: Any, world: Any) -> list[dict[str, Any]]:
    """Train at each ``n = ratio * k`` of ``gen_ratios`` and width of ``gen_widths`` (one init each)
    on the setting's model; the exact test-error counts on the setting's test set."""
    from proofs.paper_b.train import dataset_of, run_width

    o = world.opts
    rows = []
    for ratio in o.gen_ratios:
        n = max(1, int(ratio * o.k))
        sample = world.model.sample(n, o.data_seed + 1000 + n, "train")
        covered = len(set(sample.cluster))
        for width in o.gen_widths:
            run = run_width(dataset_of(sample), width, settings.eta, settings.loss, o.init_scale, settings.seed, 1,
                            settings.steps, o.per_decade, o.escalate, settings.prec, settings.max_prec)[0]
            err = run_test_error(run, world.test).to_dict()
            err["n_test"] = err.pop("n")
            rows.append({"ratio": str(ratio), "n": n, "width": width, "clusters_covered": covered, "k": o.k,
                         "reached": run.reached, "status": run.summary.status,
                         "stopped_at": run.summary.failed_step, **err})
    return rows
