"""One certified GD step of a two-layer ReLU network, written once for every arithmetic.

The network ``N(x) = sum_j a_j relu(<w_j, x> + b_j)`` and the loss
``L = (1/n) sum_i l(y_i N(x_i))``, ``l(z) = exp(-z)`` or ``log(1 + exp(-z))``, as in
:mod:`verify.dynamics.gd`. ``L`` inits of one problem run stacked ("lanes"), so that each big
product is one product for all of them. Shapes (``k = d + 1``):

* ``X1 = [X | 1]``, ``(n, k)``: the data with a column of ones, so that the bias is the last
  column of ``Theta``;
* ``Theta``, ``(L, m, k)``: row ``j`` of lane ``l`` is ``(w_j, b_j)`` (the order of
  :meth:`~verify.model.network.Network.param_names`);
* ``A``, ``(L, m)``: the output weights (trained), or the fixed ones as ``(1, m)``.

**Forward.** ``Z = X1 Theta^T``, ``(n, L, m)``, ``Z[i, l, j] = <w_j, x_i> + b_j``. The pattern
``act[i, l, j]`` is neuron ``j`` being active at ``x_i`` (``z > 0``; ``sigma'(0) = 0``): at step 0
it is the exact sign of ``z`` at ``Theta_0`` (decided exactly, :func:`exact_signs`); after step 0,
a neuron never active so far still holds its exact initial values (its gradient was exactly 0),
so it is still inactive everywhere; every other neuron's pattern is certified from ``Z``: active
where ``Z`` is certainly ``> 0``, inactive where certainly ``<= 0``, *undecided* otherwise (the
lane stops there). Then ``H = act ? Z : 0`` (``relu(Z)`` with the certified pattern),
``N = H A`` (per lane, a matrix-vector product) and ``E = exp(-y N)``, ``(L, n)``.

**Backward**, with the *old* output weights: ``G = (eta/n) E`` (exponential loss) or
``(eta/n) E / (1 + E)`` (logistic), ``r = y G``, ``D = act ? r : 0``;
``Theta += A * (D^T X1)`` (scaling the summed gradient, not each term: its rounding then scales
with the sum, which cancels, rather than with the sum of the terms' magnitudes) and, when the
output layer trains, ``A += H^T r``, for the neurons active somewhere (``on``); the others keep
their values exactly.

Invariant: if the arithmetic's operations contain their exact results (the interface
:class:`~verify.arith.arrays.ArrayArithmetic`), every enclosure here contains the exact value of
the exact iterate's quantity, because the pattern used is certified.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from verify.arith.arrays import Arr, ArrayArithmetic
from verify.model.network import Dataset, Problem


def data_matrix(ar: ArrayArithmetic, data: Dataset) -> Arr:
    """``X1 = [X | 1]``, enclosed from the dataset's exact parts (``base + means[cluster]``)."""
    n, d = data.n, data.d
    ones = np.ones((n, 1))
    if data.means is None:
        return ar.operand(ar.exact(np.hstack([data.base, ones])))
    means = np.empty((len(data.means), d + 1), dtype=object)
    means[:, :d] = np.array(data.means, dtype=object).reshape(len(data.means), d)
    means[:, d] = Fraction(0)
    rows = ar.take(ar.exact(means), data.cluster)
    return ar.operand(ar.add(ar.exact(np.hstack([data.base, ones])), rows))


@dataclass
class Forward:
    """One step's forward pass for the stacked lanes."""

    Z: Arr  # (n, L, m) pre-activations
    act: np.ndarray  # (n, L, m) certified pattern
    undecided: np.ndarray  # (n, L, m) signs not certified (only for live neurons after step 0)
    H: Arr  # (n, L, m) relu(Z) with the certified pattern
    E: Arr  # (L, n) exp(-y_i N(x_i))


class GDStep:
    """The step of :mod:`this module <verify.dynamics.step>` for one problem in one arithmetic."""

    def __init__(self, problem: Problem, ar: ArrayArithmetic) -> None:
        net, data = problem.network, problem.data
        self.problem, self.ar = problem, ar
        self.n, self.m, self.k = data.n, net.width, data.d + 1
        self.trains = net.trains_output
        self.logistic = net.loss == "logistic"
        with ar.working_precision():
            self.X1 = data_matrix(ar, data)
            self.X1T = ar.transpose(self.X1)
            self.step_size = ar.constant(problem.eta / data.n)
            self.fixed_a = None if self.trains else ar.exact(np.array([list(net.output_weights)], dtype=object))
            self.inv_n = ar.constant(Fraction(1, data.n))
        self.y_pos = (data.labels > 0)[None, :]  # (1, n): exact label signs

    def output_weights(self, A: Arr | None) -> Arr:
        return self.fixed_a if A is None else A

    def forward(self, Theta: Arr, A: Arr | None, live: np.ndarray, exact_act: np.ndarray | None) -> Forward:
        """The forward pass at ``Theta`` (``(L, m, k)``). ``live`` (``(L, m)``): neurons active at some
        step so far (the others are inactive, exactly). ``exact_act``: the pattern of step 0."""
        ar = self.ar
        L = ar.shape(Theta)[0]
        flat = ar.reshape(Theta, (L * self.m, self.k))
        Z = ar.reshape(ar.matmul(self.X1, ar.transpose(flat)), (self.n, L, self.m))
        if exact_act is not None:
            act, undecided = exact_act, np.zeros(exact_act.shape, bool)
        else:
            pos, nonpos = ar.decide(Z)
            act = pos & live[None]
            undecided = live[None] & ~(pos | nonpos)
        H = ar.where(act, Z, ar.zeros(()))
        a = ar.reshape(self.output_weights(A), (-1, self.m, 1))
        N = ar.reshape(ar.matmul(ar.transpose(H, (1, 0, 2)), a), (L, self.n))
        E = ar.exp(ar.flip(N, ~self.y_pos))  # exp(-y N)
        return Forward(Z, act, undecided, H, E)

    def loss(self, E: Arr) -> Arr:
        """``(1/n) sum_i l(y_i N(x_i))`` per lane, ``(L,)``, from ``E = exp(-y N)``."""
        ar = self.ar
        terms = ar.log1p(E) if self.logistic else E
        return ar.mul(ar.sum(terms, axis=1), self.inv_n)

    def backward(self, fw: Forward, Theta: Arr, A: Arr | None) -> tuple[Arr, Arr | None, np.ndarray]:
        """``(Theta', A', on)``: the updated parameters and the neurons that moved (``(L, m)``)."""
        ar = self.ar
        L = ar.shape(Theta)[0]
        G = ar.mul(ar.logistic(fw.E) if self.logistic else fw.E, self.step_size)
        r = ar.flip(G, self.y_pos)  # (L, n)
        D = ar.where(fw.act, ar.reshape(ar.transpose(r), (self.n, L, 1)), ar.zeros(()))  # (n, L, m)
        grad = ar.reshape(ar.matmul(ar.transpose(ar.reshape(D, (self.n, L * self.m))), self.X1), (L, self.m, self.k))
        on = fw.act.any(axis=0)  # (L, m)
        a = ar.reshape(self.output_weights(A), (-1, self.m, 1))
        Theta_next = ar.where(on[:, :, None], ar.axpy(Theta, a, grad), Theta)
        if A is None:
            return Theta_next, None, on
        ga = ar.reshape(ar.matmul(ar.transpose(fw.H, (1, 2, 0)), ar.reshape(r, (L, self.n, 1))), (L, self.m))
        return Theta_next, ar.where(on, ar.add(A, ga), A), on


def split_params(problem: Problem, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """A flat exact parameter array ``(..., p)`` as ``Theta (..., m, k)`` and ``A (..., m)`` (or None)."""
    net = problem.network
    m, k = net.width, net.dim + 1
    lead = theta.shape[:-1]
    Theta = theta[..., : m * k].reshape(*lead, m, k)
    return Theta, (theta[..., m * k:] if net.trains_output else None)


def exact_signs(problem: Problem, Theta0: np.ndarray, decided: Any | None = None) -> np.ndarray:
    """``sign(z_ij)`` at the exact ``Theta0`` (``(L, m, k)``, float64 doubles or ``Fraction`` objects),
    as int8 ``(n, L, m)``: decided by a float64 enclosure where it excludes 0, the rest exactly
    (rational matrix products of the rows and neurons involved, python-flint ``fmpq_mat``)."""
    from verify.arith.midrad import MidRadArithmetic

    ar = MidRadArithmetic()
    data = problem.data
    n = data.n
    L, m, k = Theta0.shape
    X1 = data_matrix(ar, data)
    Z = ar.reshape(ar.matmul(X1, ar.transpose(ar.reshape(ar.exact(Theta0), (L * m, k)))), (n, L, m))
    signs = np.where(ar.positive(Z), 1, np.where(Z.mid < -Z.rad, -1, 0)).astype(np.int8)
    open_ = ~(ar.positive(Z) | (Z.mid < -Z.rad))
    if open_.any():
        signs[open_] = _exact_signs_at(data, Theta0.reshape(L * m, k), open_.reshape(n, L * m))
    return signs


def _exact_signs_at(data: Dataset, rows: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Exact signs of ``[x_i, 1] . rows[c]`` at the True entries of ``where`` (``(n, C)``)."""
    from flint import fmpq, fmpq_mat

    points = np.flatnonzero(where.any(axis=1))
    cols = np.flatnonzero(where.any(axis=0))

    def q(v: object) -> fmpq:
        f = Fraction(v)
        return fmpq(f.numerator, f.denominator)

    X = fmpq_mat([[q(v) for v in data.point(int(i))] + [fmpq(1)] for i in points])
    W = fmpq_mat([[q(v) for v in rows[int(c)].tolist()] for c in cols]).transpose()
    Z = X * W
    out = []
    index_p = {int(i): a for a, i in enumerate(points)}
    index_c = {int(c): b for b, c in enumerate(cols)}
    for i, c in zip(*np.nonzero(where), strict=True):
        z = Z[index_p[int(i)], index_c[int(c)]]
        out.append((z > 0) - (z < 0))
    return np.array(out, dtype=np.int8)
