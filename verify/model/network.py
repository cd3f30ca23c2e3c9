"""Two-layer ReLU networks and their training data, with exact parameters.

The network is ``N(x) = sum_j a_j * relu(<w_j, x> + b_j)`` with ``m`` neurons on
inputs in ``R^d``. The output weights ``a`` are either fixed (e.g. ``a = (1, -1)``)
or trained. Parameters are flattened neuron by neuron as
``theta = (w_1, b_1, w_2, b_2, ..., [a_1, ..., a_m])`` so that a width-2 network on the line has
``theta = (w1, b1, w2, b2)``.

Invariant: every number stored here is exact (``Fraction``, or a double taken at its exact value).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from verify.errors import InvalidArgument
from verify.exact import to_exact, to_exact_vector

LOSSES = ("exponential", "logistic")


class Dataset:
    """Labelled points ``(x_i, y_i)`` with ``x_i`` in ``R^d`` and ``y_i`` in ``{-1, +1}``, held compactly.

    The exact points are ``x_i = base_i + means[cluster_i]``: ``base`` is a float64 array whose
    doubles are the exact values (noise, or the whole data), ``means`` an optional table of exact
    rational rows (cluster means; also any data that is not made of doubles), ``cluster`` the row of
    ``means`` each point adds. So paper B's ``x = mu_c + xi`` costs one double per coordinate and one
    ``Fraction`` per coordinate of each of the ``k`` means, never one per coordinate of each point.
    The arithmetics enclose the data from these parts (:func:`verify.dynamics.step.data_matrix`);
    :attr:`X` spells every point out in exact ``Fraction`` values, for small data.

    Instances are immutable (their arrays are read-only) and compare by content.

    >>> data = Dataset.clustered([["1/3", 0], [0, 1]], [0, 1, 1], np.array([[0.5, 0], [0, 0], [0, 0.25]]), [1, -1, 1])
    >>> data.X[0], data.n, data.d
    ((Fraction(5, 6), Fraction(0, 1)), 3, 2)
    """

    __slots__ = ("base", "labels", "means", "cluster", "_X", "_key")

    def __init__(self, base: np.ndarray, labels: np.ndarray, means: tuple[tuple[Fraction, ...], ...] | None = None,
                 cluster: np.ndarray | None = None) -> None:
        base = np.array(base, dtype=np.float64)
        if base.ndim != 2 or base.shape[0] == 0 or base.shape[1] == 0:
            raise InvalidArgument("data.X", f"array of shape {base.shape}", "must hold at least one point of "
                                  "dimension >= 1 (an (n, d) array)")
        if not np.isfinite(base).all():
            raise InvalidArgument("data.X", "array", "must be finite (no NaN or infinity)")
        labels = np.asarray(labels)
        if labels.shape != (base.shape[0],):
            raise InvalidArgument("data.y", f"{labels.shape[0] if labels.ndim else 0} labels",
                                  f"must have {base.shape[0]} labels, one per point")
        bad = np.flatnonzero((labels != 1) & (labels != -1))
        if bad.size:
            raise InvalidArgument(f"data.y[{bad[0]}]", labels[bad[0]].item(), "must be +1 or -1")
        if (means is None) != (cluster is None):
            raise InvalidArgument("data.cluster", cluster, "must be given exactly when means are")
        if means is not None:
            if any(len(row) != base.shape[1] for row in means):
                raise InvalidArgument("data.means", f"{len(means)} rows",
                                      f"must have rows of dimension {base.shape[1]}")
            cluster = np.array(cluster, dtype=np.int64)
            if cluster.shape != (base.shape[0],) or cluster.min() < 0 or cluster.max() >= len(means):
                raise InvalidArgument("data.cluster", f"array of shape {cluster.shape}", f"must give each of the "
                                      f"{base.shape[0]} points a row of means in [0, {len(means)})")
            cluster.flags.writeable = False
        base.flags.writeable = False
        labels = labels.astype(np.int8)
        labels.flags.writeable = False
        for name, value in (("base", base), ("labels", labels), ("means", means), ("cluster", cluster),
                            ("_X", None), ("_key", None)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Dataset is immutable")

    @classmethod
    def of(cls, X: Sequence[Sequence[object]], y: Sequence[object]) -> Dataset:
        """Exact entry of points given as numbers (anything :func:`verify.exact.to_exact` takes)."""
        if isinstance(X, np.ndarray) and X.dtype == np.float64:
            return cls.from_arrays(X, y)
        if len(X) == 0:
            raise InvalidArgument("data.X", X, "must hold at least one point")
        rows = tuple(to_exact_vector(row, f"data.X[{i}]") for i, row in enumerate(X))
        if len({len(r) for r in rows}) != 1:
            raise InvalidArgument("data.X", X, "must have rows of one dimension")
        if len(y) != len(rows):
            raise InvalidArgument("data.y", y, f"must have {len(rows)} labels, one per point")
        labels = []
        for i, label in enumerate(y):
            if isinstance(label, bool) or label not in (1, -1):
                raise InvalidArgument(f"data.y[{i}]", label, "must be +1 or -1")
            labels.append(int(label))
        doubles = [[_as_double(q) for q in row] for row in rows]
        if all(v is not None for row in doubles for v in row):
            data = cls(np.array(doubles, dtype=np.float64), np.array(labels))
        else:  # rational points: each is its own "mean"
            data = cls(np.zeros((len(rows), len(rows[0]))), np.array(labels), rows, np.arange(len(rows)))
        object.__setattr__(data, "_X", rows)
        return data

    @classmethod
    def from_arrays(cls, X: np.ndarray, y: Sequence[int] | np.ndarray) -> Dataset:
        """Points given as a float64 ``(n, d)`` array whose doubles are the exact values."""
        X = np.asarray(X)
        if X.dtype != np.float64:
            raise InvalidArgument("data.X", f"array of dtype {X.dtype}", "must be float64 (exact doubles)")
        return cls(X, np.asarray(y))

    @classmethod
    def clustered(cls, means: Sequence[Sequence[object]] | np.ndarray, cluster: Sequence[int] | np.ndarray,
                  noise: np.ndarray, y: Sequence[int] | np.ndarray) -> Dataset:
        """``x_i = means[cluster[i]] + noise[i]``, exactly: ``means`` rows of exact numbers (rationals,
        or a float64 array taken exactly), ``noise`` a float64 ``(n, d)`` array taken exactly."""
        noise = np.asarray(noise)
        if noise.dtype != np.float64:
            raise InvalidArgument("data.noise", f"array of dtype {noise.dtype}", "must be float64 (exact doubles)")
        rows = tuple(to_exact_vector(row, f"data.means[{c}]") for c, row in enumerate(
            means.tolist() if isinstance(means, np.ndarray) else means))
        return cls(noise, np.asarray(y), rows, np.asarray(cluster))

    # --- shape and exact values ------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.base.shape[0]

    @property
    def d(self) -> int:
        return self.base.shape[1]

    @property
    def y(self) -> tuple[int, ...]:
        return tuple(self.labels.tolist())

    @property
    def X(self) -> tuple[tuple[Fraction, ...], ...]:
        """Every point as exact exact ``Fraction`` values (computed once; for small data)."""
        if self._X is None:
            rows = [[Fraction(v) for v in row] for row in self.base.tolist()]
            if self.means is not None:
                for i, c in enumerate(self.cluster.tolist()):
                    rows[i] = [v + q for v, q in zip(rows[i], self.means[c], strict=True)]
            object.__setattr__(self, "_X", tuple(tuple(row) for row in rows))
        return self._X

    @property
    def exact_doubles(self) -> bool:
        """True when every coordinate is the double stored in :attr:`base` (no rational part)."""
        return self.means is None

    def point(self, i: int) -> tuple[Fraction, ...]:
        """The exact ``x_i``."""
        row = [Fraction(v) for v in self.base[i].tolist()]
        if self.means is not None:
            row = [v + q for v, q in zip(row, self.means[int(self.cluster[i])], strict=True)]
        return tuple(row)

    def _content_key(self) -> tuple:
        if self._key is None:
            h = hashlib.sha256()
            for arr in (self.base, self.labels) + ((self.cluster,) if self.cluster is not None else ()):
                h.update(str(arr.shape).encode())
                h.update(np.ascontiguousarray(arr).tobytes())
            if self.means is not None:
                h.update(repr(self.means).encode())
            object.__setattr__(self, "_key", (self.n, self.d, h.hexdigest()))
        return self._key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dataset) and self._content_key() == other._content_key()

    def __hash__(self) -> int:
        return hash(self._content_key())

    def __getstate__(self) -> dict:
        return {"base": self.base, "labels": self.labels, "means": self.means, "cluster": self.cluster}

    def __setstate__(self, state: dict) -> None:
        for name in ("base", "labels", "means", "cluster"):
            arr = state[name]
            if isinstance(arr, np.ndarray):
                arr = arr.copy()
                arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "_X", None)
        object.__setattr__(self, "_key", None)

    def __repr__(self) -> str:
        parts = f"{self.n} points in R^{self.d}"
        if self.means is not None:
            parts += f", {len(self.means)} exact rational means"
        return f"Dataset({parts})"


def _as_double(q: Fraction) -> float | None:
    """``q`` as a double when it is one exactly, else None."""
    try:
        f = q.numerator / q.denominator
    except OverflowError:
        return None
    return f if math.isfinite(f) and Fraction(f) == q else None


@dataclass(frozen=True)
class Network:
    """Architecture and loss: width ``m``, input dimension ``d``, output layer, loss.

    ``output_weights`` is the fixed second layer, or ``None`` when it is trained.
    """

    width: int
    dim: int
    output_weights: tuple[Fraction, ...] | None
    loss: str = "exponential"

    def __post_init__(self) -> None:
        if isinstance(self.width, bool) or not isinstance(self.width, int) or self.width < 1:
            raise InvalidArgument("width", self.width, "must be a positive integer")
        if isinstance(self.dim, bool) or not isinstance(self.dim, int) or self.dim < 1:
            raise InvalidArgument("dim", self.dim, "must be a positive integer")
        if self.loss not in LOSSES:
            raise InvalidArgument("loss", self.loss, f"must be one of {list(LOSSES)}")
        if self.output_weights is not None:
            if len(self.output_weights) != self.width:
                raise InvalidArgument("output_weights", self.output_weights, f"must have {self.width} entries")
            object.__setattr__(self, "output_weights", to_exact_vector(self.output_weights, "output_weights"))

    @property
    def trains_output(self) -> bool:
        return self.output_weights is None

    @property
    def n_params(self) -> int:
        return self.width * (self.dim + 1) + (self.width if self.trains_output else 0)

    def param_names(self) -> tuple[str, ...]:
        """Names in flattening order; width 2 on the line: ``('w1', 'b1', 'w2', 'b2')``."""
        names: list[str] = []
        for j in range(1, self.width + 1):
            names += [f"w{j}"] if self.dim == 1 else [f"w{j}_{k}" for k in range(1, self.dim + 1)]
            names.append(f"b{j}")
        if self.trains_output:
            names += [f"a{j}" for j in range(1, self.width + 1)]
        return tuple(names)

    def neuron_slice(self, j: int) -> slice:
        """Indices of ``(w_j, b_j)`` in the flat parameter vector."""
        start = j * (self.dim + 1)
        return slice(start, start + self.dim + 1)

    def output_index(self, j: int) -> int | None:
        return self.width * (self.dim + 1) + j if self.trains_output else None

    def check_params(self, theta: Sequence[object], field: str = "theta") -> tuple[Fraction, ...]:
        """Exact entry of a flat parameter vector of the right length."""
        if isinstance(theta, str) or len(theta) != self.n_params:
            raise InvalidArgument(field, theta, f"must have {self.n_params} entries {self.param_names()}")
        if all(type(v) is Fraction for v in theta):  # already exact: the common case of sampled inits
            return tuple(theta)
        return tuple(to_exact(v, f"{field}.{name}") for v, name in zip(theta, self.param_names(), strict=True))


@dataclass(frozen=True)
class Problem:
    """A network, its data and the GD step size: everything GD needs but ``theta_0``."""

    network: Network
    data: Dataset
    eta: Fraction

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta", to_exact(self.eta, "eta"))
        if self.network.dim != self.data.d:
            raise InvalidArgument("data.X", f"{self.data.n} points in R^{self.data.d}",
                                  f"must have dimension {self.network.dim}")
        if self.eta <= 0:
            raise InvalidArgument("eta", str(self.eta), "must be > 0")
