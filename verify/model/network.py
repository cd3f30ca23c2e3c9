"""Two-layer ReLU networks and their training data, with exact parameters.

The network is ``N(x) = sum_j a_j * relu(<w_j, x> + b_j)`` with ``m`` neurons on
inputs in ``R^d``. The output weights ``a`` are either fixed (e.g. ``a = (1, -1)``)
or trained. Parameters are flattened neuron by neuron as
``theta = (w_1, b_1, w_2, b_2, ..., [a_1, ..., a_m])`` so that a width-2 network on the line has
``theta = (w1, b1, w2, b2)``.

Invariant: every number stored here is an exact ``Fraction``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from verify.errors import InvalidArgument
from verify.exact import to_exact, to_exact_vector

LOSSES = ("exponential", "logistic")


@dataclass(frozen=True)
class Dataset:
    """Labelled points ``(x_i, y_i)`` with ``x_i`` in ``R^d`` and ``y_i`` in ``{-1, +1}``."""

    X: tuple[tuple[Fraction, ...], ...]
    y: tuple[int, ...]

    @classmethod
    def of(cls, X: Sequence[Sequence[object]], y: Sequence[object]) -> Dataset:
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
        return cls(rows, tuple(labels))

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def d(self) -> int:
        return len(self.X[0])


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
            raise InvalidArgument("data.X", self.data.X, f"must have dimension {self.network.dim}")
        if self.eta <= 0:
            raise InvalidArgument("eta", str(self.eta), "must be > 0")
