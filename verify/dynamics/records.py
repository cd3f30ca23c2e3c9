"""Compact parameter records: ``theta_t`` of one lane in its arithmetic's array form.

A wide network has hundreds of thousands of parameters; a trajectory keeps them per record as
the arithmetic's packed arrays (two float64 arrays for the float64 engine, one ``arb_mat`` for
Arb), never as one Python object per parameter. :class:`PackedParams` gives them back as
interval arrays (``Theta``, ``A``), as outward float64 bounds, or, on demand, as the scalar
enclosures that paper A's code reads (:attr:`verify.dynamics.trajectory.StepRecord.theta`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from verify.arith.arrays import ArrayArithmetic


class PackedParams:
    """Enclosures of ``Theta`` (``(m, d + 1)``, rows ``(w_j, b_j)``) and of the trained output
    weights ``A`` (``(m,)``, or None), packed by ``ar``. Flat order: ``Theta`` row by row, then
    ``A``: the order of :meth:`~verify.model.network.Network.param_names`."""

    __slots__ = ("ar", "_theta", "_a")

    def __init__(self, ar: ArrayArithmetic, Theta: Any, A: Any | None) -> None:
        self.ar = ar
        self._theta = ar.pack(Theta)
        self._a = None if A is None else ar.pack(A)

    def arrays(self) -> tuple[Any, Any | None]:
        """``(Theta, A)`` as the arithmetic's enclosure arrays."""
        return self.ar.unpack(self._theta), (None if self._a is None else self.ar.unpack(self._a))

    def natives(self) -> tuple:
        """Every parameter as a scalar enclosure of ``ar.scalar``, in flat order."""
        Theta, A = self.arrays()
        out = list(self.ar.natives(Theta).reshape(-1))
        if A is not None:
            out += list(self.ar.natives(A).reshape(-1))
        return tuple(out)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """float64 ``(lo, hi)`` in flat order, each ``lo <= theta <= hi``."""
        Theta, A = self.arrays()
        lo, hi = self.ar.bounds(Theta)
        lo, hi = lo.reshape(-1), hi.reshape(-1)
        if A is not None:
            alo, ahi = self.ar.bounds(A)
            lo, hi = np.concatenate([lo, alo]), np.concatenate([hi, ahi])
        return lo, hi

    def __len__(self) -> int:
        Theta, A = self.arrays()
        return int(np.prod(self.ar.shape(Theta))) + (0 if A is None else int(np.prod(self.ar.shape(A))))
