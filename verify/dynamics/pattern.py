"""Activation patterns: which neuron is active at which training point.

A pattern is one bit per (neuron j, point i), neuron-major, so paper A's patterns
read ``(n1@x1, n1@x2, n2@x1, n2@x2)``, e.g. ``"1001"``. Neuron j is *active* at
x_i when its pre-activation is > 0; a pre-activation of exactly 0 is inactive
(sigma'(0) = 0, the convention of common frameworks).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pattern_string(active: Sequence[Sequence[bool]]) -> str:
    """Bits of ``active[j][i]`` neuron-major: ``[[1, 0], [0, 1]] -> '1001'``."""
    return "".join("1" if bit else "0" for row in active for bit in row)


def parse_pattern(bits: str, width: int, n_points: int) -> tuple[tuple[bool, ...], ...]:
    """Inverse of :func:`pattern_string`."""
    if len(bits) != width * n_points or set(bits) - {"0", "1"}:
        raise ValueError(f"pattern={bits!r} must be {width * n_points} bits")
    return tuple(tuple(bits[j * n_points + i] == "1" for i in range(n_points)) for j in range(width))


class PackedPattern:
    """A pattern held as packed bits (``m * n / 8`` bytes), read like its string: ``str(p)``,
    ``p == "1001"``, ``p[k]``, ``len(p)``, iteration. Wide networks' patterns are tens of
    thousands of bits; their phases keep these instead of strings."""

    __slots__ = ("packed", "size")

    def __init__(self, bits: np.ndarray) -> None:
        bits = np.asarray(bits, dtype=bool).reshape(-1)
        self.packed = np.packbits(bits).tobytes()
        self.size = bits.size

    def bits(self) -> np.ndarray:
        """The bits as a bool array (neuron-major)."""
        return np.unpackbits(np.frombuffer(self.packed, dtype=np.uint8), count=self.size).astype(bool)

    def __str__(self) -> str:
        return "".join("1" if b else "0" for b in self.bits().tolist())

    def __repr__(self) -> str:
        return f"PackedPattern({self.size} bits, {int(self.bits().sum())} active)"

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        return iter(str(self))

    def __getitem__(self, k):
        return str(self)[k]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedPattern):
            return self.size == other.size and self.packed == other.packed
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))


def lane_pattern(act: np.ndarray, small: int = 4096) -> str | PackedPattern:
    """The pattern of one lane from ``act[i, j]`` (``(n, m)``), neuron-major: a string for small
    networks (up to ``small`` bits), packed beyond."""
    bits = act.T.reshape(-1)
    if bits.size <= small:
        return "".join("1" if b else "0" for b in bits.tolist())
    return PackedPattern(bits)
