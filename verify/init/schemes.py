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
output layer is the network's. Inits are drawn in blocks of :func:`block_size`
consecutive indices: init ``index`` under ``seed`` is row ``index % B`` of the block
``index // B`` drawn from ``numpy.random.default_rng([seed, index // B])``, so it is the
same whatever the batch it is drawn in, and a sweep draws a block with one generator
(building a generator costs more than the GD of a small network). Floats become
``Fraction`` exactly: no rounding after sampling.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import sqrt

import numpy as np

from verify.errors import InvalidArgument
from verify.model.network import Network

SCHEMES = ("he", "xavier", "pytorch", "normal")


def _hidden(rng: np.random.Generator, scheme: str, d: int, m: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` draws of a layer's weights ``(count, m, d)`` and biases ``(count, m)``."""
    if scheme == "he":
        return rng.normal(0.0, sqrt(2.0 / d), size=(count, m, d)), np.zeros((count, m))
    if scheme == "xavier":
        return rng.normal(0.0, sqrt(2.0 / (d + m)), size=(count, m, d)), np.zeros((count, m))
    if scheme == "pytorch":
        bound = 1.0 / sqrt(d)
        return rng.uniform(-bound, bound, size=(count, m, d)), rng.uniform(-bound, bound, size=(count, m))
    if scheme == "normal":
        return rng.normal(size=(count, m, d)), rng.normal(size=(count, m))
    raise InvalidArgument("scheme", scheme, f"must be one of {list(SCHEMES)} or 'explicit'")


def block_size(network: Network) -> int:
    """How many consecutive inits one generator draws: 256 for small networks, fewer as the network
    grows (about 2**16 parameters per block at most), 1 for networks of more than 2**16 parameters."""
    return max(1, min(256, 2**16 // network.n_params))


def _block(network: Network, scheme: str, seed: int, block: int) -> np.ndarray:
    """Inits ``block * B .. (block + 1) * B - 1`` (``B = block_size(network)``) as a float64 array."""
    B, m, d = block_size(network), network.width, network.dim
    rng = np.random.default_rng([seed, block])
    W, b = _hidden(rng, scheme, d, m, B)
    flat = np.concatenate([W, b[:, :, None]], axis=2).reshape(B, m * (d + 1))
    if network.trains_output:
        a, _ = _hidden(rng, scheme, m, 1, B)
        flat = np.concatenate([flat, a.reshape(B, m)], axis=1)
    return flat


def sample_array(network: Network, scheme: str, seed: int, count: int, start: int = 0) -> np.ndarray:
    """Inits ``start .. start + count - 1`` as a ``(count, n_params)`` float64 array (each double is
    the exact value of its parameter)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument("seed", seed, "must be a non-negative integer")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidArgument("inits", count, "must be a non-negative integer")
    B = block_size(network)
    first, last = start // B, (start + count - 1) // B
    if count == 0:
        return np.zeros((0, network.n_params))
    rows = np.concatenate([_block(network, scheme, seed, k) for k in range(first, last + 1)])
    return rows[start - first * B: start - first * B + count]


def sample_init(network: Network, scheme: str, seed: int, index: int = 0) -> tuple[Fraction, ...]:
    """The exact flat ``theta_0`` of init ``index`` under ``scheme`` and ``seed``."""
    return tuple(Fraction(v) for v in sample_array(network, scheme, seed, 1, index)[0].tolist())


def sample_inits(network: Network, scheme: str, seed: int, count: int, start: int = 0) -> list[tuple[Fraction, ...]]:
    """Inits ``start .. start + count - 1`` of a scheme."""
    return [tuple(Fraction(v) for v in row) for row in sample_array(network, scheme, seed, count, start).tolist()]


def explicit_init(network: Network, values: Sequence[object]) -> tuple[Fraction, ...]:
    """Exact entry of explicit values (checked for length and finiteness)."""
    return network.check_params(values, field="init")
