"""Seeded initialisation schemes; every sampled float is kept at its exact value.

For a hidden layer with fan-in ``d`` (input dimension) and fan-out ``m`` (width):

=================  ==================================================  =========
scheme             weights ``w_jk``                                    biases
=================  ==================================================  =========
``he``             N(0, 2/d)          (Kaiming normal, ReLU gain)      0
``xavier``         N(0, 2/(d + m))    (Glorot normal)                  0
``pytorch``        U(-1/sqrt(d), 1/sqrt(d))  (nn.Linear default)       U(-1/sqrt(d), 1/sqrt(d))
``normal``         N(0, 1)                                             N(0, 1)
``explicit``       the values given                                    given
=================  ==================================================  =========

A trained output layer (paper B) uses the same rule with fan-in ``m``; a fixed
output layer is the network's. Init ``index`` under ``seed`` is drawn from
``numpy.random.default_rng([seed, index])``, so it is the same whatever the batch
it is drawn in. Floats become ``Fraction`` exactly: no rounding after sampling.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import sqrt

import numpy as np

from verify.errors import InvalidArgument
from verify.model.network import Network

SCHEMES = ("he", "xavier", "pytorch", "normal")


def _hidden(rng: np.random.Generator, scheme: str, d: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    if scheme == "he":
        return rng.normal(0.0, sqrt(2.0 / d), size=(m, d)), np.zeros(m)
    if scheme == "xavier":
        return rng.normal(0.0, sqrt(2.0 / (d + m)), size=(m, d)), np.zeros(m)
    if scheme == "pytorch":
        bound = 1.0 / sqrt(d)
        return rng.uniform(-bound, bound, size=(m, d)), rng.uniform(-bound, bound, size=m)
    if scheme == "normal":
        return rng.normal(size=(m, d)), rng.normal(size=m)
    raise InvalidArgument("scheme", scheme, f"must be one of {list(SCHEMES)} or 'explicit'")


def sample_init(network: Network, scheme: str, seed: int, index: int = 0) -> tuple[Fraction, ...]:
    """The exact flat ``theta_0`` of init ``index`` under ``scheme`` and ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument("seed", seed, "must be a non-negative integer")
    rng = np.random.default_rng([seed, index])
    W, b = _hidden(rng, scheme, network.dim, network.width)
    flat: list[float] = []
    for j in range(network.width):
        flat += [float(v) for v in W[j]]
        flat.append(float(b[j]))
    if network.trains_output:
        a, _ = _hidden(rng, scheme, network.width, 1)
        flat += [float(v) for v in a[0]]
    return tuple(Fraction(v) for v in flat)


def sample_inits(network: Network, scheme: str, seed: int, count: int, start: int = 0) -> list[tuple[Fraction, ...]]:
    """Inits ``start .. start + count - 1`` of a scheme."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidArgument("inits", count, "must be a non-negative integer")
    return [sample_init(network, scheme, seed, start + k) for k in range(count)]


def explicit_init(network: Network, values: Sequence[object]) -> tuple[Fraction, ...]:
    """Exact entry of explicit values (checked for length and finiteness)."""
    return network.check_params(values, field="init")
