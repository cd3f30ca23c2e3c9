"""Certified evaluation of a two-layer ReLU network on many inputs: outputs and signs.

:func:`evaluate` computes, for given parameters and inputs ``x_1 .. x_n``, enclosures of the
pre-activations ``z_ij = <w_j, x_i> + b_j`` and of the outputs ``N(x_i) = sum_j a_j relu(z_ij)``,
with their *certified* signs. Parameters are either

* exact (a flat vector in the order of :meth:`~verify.model.network.Network.param_names`: a float64
  array of exact doubles, or exact numbers): then the evaluation runs in float64 interval matrices
  (in Arb when this process's floating-point environment is not the one they assume:
  :mod:`verify.arith.fenv`) and every sign they leave undecided is decided in exact rational
  arithmetic, so every sign comes out decided (``0`` meaning exactly zero); or
* enclosures (:class:`~verify.dynamics.records.PackedParams` from a trajectory record, e.g.
  ``traj.final.params``): then the evaluation runs in the record's own arithmetic (float64, or Arb
  at its precision) and a sign that straddles 0 on the enclosure is reported undecided.

Inputs are a :class:`~verify.model.network.Dataset` (exact; its labels are not used) or a float64
``(n, d)`` array of exact doubles.

Invariant: ``output_lo[i] <= N(x_i) <= output_hi[i]`` for the exact ``N`` of every parameter
vector in the enclosure; a sign reported decided holds for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from verify.arith import fenv
from verify.arith.arrays import Arr, ArrayArithmetic, get_arithmetic
from verify.errors import InvalidArgument
from verify.model.network import Dataset, Network, Problem

UNDECIDED = 2  # sign code: the enclosure straddles 0


@dataclass
class Evaluation:
    """Certified values of a network on ``n`` inputs (see the module invariant).

    Sign arrays are int8: ``1`` certainly ``> 0``, ``-1`` certainly ``< 0``, ``0`` exactly zero,
    :data:`UNDECIDED` (2) not decided (only for enclosure parameters).
    """

    ar: ArrayArithmetic
    Z: Arr  # (n, m) enclosures of the pre-activations, in ``ar``
    N: Arr  # (n,) enclosures of the outputs, in ``ar``
    preactivation_sign: np.ndarray  # (n, m)
    output_sign: np.ndarray  # (n,)
    inactive: np.ndarray  # (n, m) bool: z_ij certainly <= 0 (the neuron is off: sigma'(0) = 0)
    exact_fallback: int  # entries (pre-activations and outputs) decided in exact arithmetic

    @property
    def active(self) -> np.ndarray:
        """``(n, m)`` bool: neuron ``j`` certainly active at ``x_i`` (``z_ij > 0``)."""
        return self.preactivation_sign == 1

    @property
    def decided(self) -> bool:
        return not ((self.preactivation_sign == UNDECIDED).any() or (self.output_sign == UNDECIDED).any())

    def output_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """float64 ``(lo, hi)`` with ``lo <= N(x_i) <= hi``."""
        return self.ar.bounds(self.N)

    def preactivation_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.ar.bounds(self.Z)


def _inputs(X: Dataset | np.ndarray, d: int) -> Dataset:
    if isinstance(X, Dataset):
        data = X
    else:
        X = np.asarray(X)
        if X.ndim != 2:
            raise InvalidArgument("inputs", f"array of shape {X.shape}", "must be an (n, d) array")
        data = Dataset.from_arrays(X, np.ones(X.shape[0], dtype=np.int8))
    if data.d != d:
        raise InvalidArgument("inputs", f"{data.n} points in R^{data.d}", f"must have dimension {d}")
    return data


def _signs(ar: ArrayArithmetic, a: Arr) -> np.ndarray:
    pos, nonpos, neg = ar.positive(a), ar.nonpositive(a), ar.positive(ar.neg(a))
    out = np.full(pos.shape, UNDECIDED, dtype=np.int8)
    out[pos] = 1
    out[neg] = -1
    del nonpos  # <= 0 but maybe 0: undecided as a sign (Evaluation.inactive keeps it)
    return out


def evaluate(network: Network, params: Any, X: Dataset | np.ndarray) -> Evaluation:
    """The network with ``params`` on the inputs ``X``; see the module doc."""
    from verify.dynamics.records import PackedParams
    from verify.dynamics.step import data_matrix, split_params
    from verify.dynamics.wide import exact_inits

    data = _inputs(X, network.dim)
    problem = Problem(network, data, Fraction(1))
    if isinstance(params, PackedParams):
        ar = params.ar
        Theta, A = params.arrays()
        exact = None
    else:
        ar = get_arithmetic("f64" if fenv.float64_environment() is None else "arb", 128)
        flat = exact_inits(problem, [params] if not isinstance(params, np.ndarray) else params[None, :])[0][0]
        exact = split_params(problem, flat)
        Theta = ar.exact(exact[0])
        A = None if exact[1] is None else ar.exact(exact[1])
    with ar.working_precision():
        X1 = data_matrix(ar, data)
        Z = ar.matmul(X1, ar.transpose(Theta))  # (n, m)
        a = ar.exact(np.array([list(network.output_weights)], dtype=object)) if A is None else \
            ar.reshape(A, (1, network.width))
        N = ar.sum(ar.mul(ar.relu(Z), a), axis=1)
        zs, ns = _signs(ar, Z), _signs(ar, N)
    fallback = 0
    if exact is not None and ((zs == UNDECIDED).any() or (ns == UNDECIDED).any()):
        fallback = _decide_exactly(network, data, exact, zs, ns)
    inactive = (zs == -1) | (zs == 0) | ar.nonpositive(Z)
    return Evaluation(ar, Z, N, zs, ns, inactive, fallback)


def _decide_exactly(network: Network, data: Dataset, exact: tuple[np.ndarray, np.ndarray | None],
                    zs: np.ndarray, ns: np.ndarray) -> int:
    """Replace every UNDECIDED sign by the exact one (rational products of the points involved)."""
    from flint import fmpq, fmpq_mat

    Theta, A = exact
    points = np.flatnonzero((zs == UNDECIDED).any(axis=1) | (ns == UNDECIDED))

    def q(v: object) -> fmpq:
        f = Fraction(v)
        return fmpq(f.numerator, f.denominator)

    Xq = fmpq_mat([[q(v) for v in data.point(int(i))] + [fmpq(1)] for i in points])
    W = fmpq_mat([[q(v) for v in row] for row in Theta.tolist()]).transpose()
    Zq = Xq * W
    a = [q(v) for v in (network.output_weights if A is None else A.tolist())]
    decided = 0
    for r, i in enumerate(points.tolist()):
        row = [Zq[r, j] for j in range(network.width)]
        for j, z in enumerate(row):
            if zs[i, j] == UNDECIDED:
                zs[i, j] = (z > 0) - (z < 0)
                decided += 1
        if ns[i] == UNDECIDED:
            out = sum((a[j] * z for j, z in enumerate(row) if z > 0), fmpq(0))
            ns[i] = (out > 0) - (out < 0)
            decided += 1
    return decided
