"""Activation patterns: which neuron is active at which training point.

A pattern is one bit per (neuron j, point i), neuron-major, so paper A's patterns
read ``(n1@x1, n1@x2, n2@x1, n2@x2)``, e.g. ``"1001"``. Neuron j is *active* at
x_i when its pre-activation is > 0; a pre-activation of exactly 0 is inactive
(sigma'(0) = 0, the convention of common frameworks).
"""

from __future__ import annotations

from collections.abc import Sequence


def pattern_string(active: Sequence[Sequence[bool]]) -> str:
    """Bits of ``active[j][i]`` neuron-major: ``[[1, 0], [0, 1]] -> '1001'``."""
    return "".join("1" if bit else "0" for row in active for bit in row)


def parse_pattern(bits: str, width: int, n_points: int) -> tuple[tuple[bool, ...], ...]:
    """Inverse of :func:`pattern_string`."""
    if len(bits) != width * n_points or set(bits) - {"0", "1"}:
        raise ValueError(f"pattern={bits!r} must be {width * n_points} bits")
    return tuple(tuple(bits[j * n_points + i] == "1" for i in range(n_points)) for j in range(width))
