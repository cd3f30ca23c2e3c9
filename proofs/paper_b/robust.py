"""Theorem 4.1: a width-k network that classifies the clusters robustly, certified exactly.

The construction **(text; the scale d/2 ours)**: neuron j is y_j relu(<mu_j, x> - d/2), i.e.
w_j = mu_j, b_j = -d/2, v_j = y_j. On a point x of cluster c, <mu_c, x> is about d and
<mu_j, x> (j != c) about 0, so exactly one neuron is active, y N(x) = <mu_c, x> - d/2 is about d/2,
and the input gradient has norm ||mu_c|| = sqrt(d): a flip needs ||delta|| of order sqrt(d)/2.

Everything here is exact: the pre-activations are integers over 2**grid_bits, "exactly one neuron
active" means the pre-activation of the point's own cluster is > 0 and every other one is <= 0,
and the margin is an exact rational. The radius bracket comes from :mod:`proofs.paper_b.radius`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from proofs.paper_b.data import ClusterModel, ClusterSample
from proofs.paper_b.net import TwoLayerNet
from proofs.paper_b.radius import RadiusBracket, radius_bracket


def robust_network(model: ClusterModel) -> TwoLayerNet:
    """The width-k network of Theorem 4.1: w_j = mu_j, b_j = -d/2, v_j = y_j."""
    k, d = model.k, model.d
    bnum = np.full(k, -d, dtype=np.int64)  # -d/2 over the denominator 2
    return TwoLayerNet(np.asarray(model.means, dtype=np.int64), 1, bnum, 2,
                       np.asarray(model.labels, dtype=np.int64), 1)


@dataclass(frozen=True)
class RobustCheck:
    """Per-point exact facts about the robust network on a sample.

    ``one_active[i]``: the neuron of x_i's own cluster is active (> 0) and every other is <= 0.
    ``margins[i]`` = y_i N(x_i) exactly; ``n_correct`` counts margins > 0.
    """

    d: int
    one_active: tuple[bool, ...]
    margins: tuple[Fraction, ...]

    @property
    def n(self) -> int:
        return len(self.margins)

    @property
    def n_one_active(self) -> int:
        return sum(self.one_active)

    @property
    def n_correct(self) -> int:
        return sum(m > 0 for m in self.margins)

    def margin_over_half_d(self) -> tuple[Fraction, Fraction]:
        """(min, max) of y N(x) / (d/2): about 1 when the theorem's picture holds."""
        half = Fraction(self.d, 2)
        return min(self.margins) / half, max(self.margins) / half


def check_robust(model: ClusterModel, sample: ClusterSample) -> RobustCheck:
    """Exact pattern and margin of the robust network on every point of ``sample``."""
    net = robust_network(model)
    pnum, pden = net.preacts(sample.Xint, sample.denominator)
    own = np.asarray(sample.cluster)
    active = pnum > 0
    one = [bool(active[i, own[i]]) and int(active[i].sum()) == 1 for i in range(sample.n)]
    onum, oden = net.outputs(sample.Xint, sample.denominator)
    margins = tuple(Fraction(int(sample.y[i] * onum[i]), oden) for i in range(sample.n))
    return RobustCheck(model.d, tuple(one), margins)


def robust_radii(model: ClusterModel, sample: ClusterSample) -> list[RadiusBracket]:
    """Certified radius brackets of the robust network at each point of ``sample``."""
    net = robust_network(model)
    return radius_bracket(net, sample.Xint, sample.denominator, sample.y)
