"""Paper B's clustered data, exactly: k cluster means of norm exactly sqrt(d), labels, noisy samples.

The distribution **(text)**: a cluster j ~ Unif[k], x = mu_j + xi with xi ~ N(0, sigma^2 I_d), label
y_j of the cluster, both labels present. What we fix **(ours)**:

* **Means with entries +-1.** Every mean is a sign vector, so ``||mu_j||^2 == d`` exactly (an integer)
  and ``||mu_j|| = sqrt(d)`` needs no rounding at all; inner products are exact integers.

  - ``kind="orthogonal"``: k distinct rows of a Sylvester-Hadamard matrix H_h (h the smallest power
    of two >= k), each entry repeated d/h times, then a seeded random column sign flip and column
    permutation (both preserve orthogonality). ``<mu_i, mu_j> == 0`` exactly for i != j. Requires the
    largest power of two dividing d to be >= k (otherwise no such +-1 family exists by this route).
  - ``kind="sphere"``: independent Rademacher (+-1) vectors. They stand in for "uniform on the sphere of
    radius sqrt(d)": the same norm exactly, and the same correlation scale |<mu_i, mu_j>| ~ sqrt(d)
    (sub-Gaussian, mean zero), which is all Assumption 2.2 uses.
* **Noise on a dyadic grid.** xi is drawn in float64 as ``sigma * N(0, 1)`` and rounded to the grid
  ``2**-grid_bits``; the sample is *that* exact dyadic point (the exact object every check sees). So
  ``X = Xint / 2**grid_bits`` with integer ``Xint``, ``Xf`` is exactly ``X`` in float64, and inner
  products are exact integer matrix products (:func:`proofs.paper_b.intmath.int_matmul`).

Invariants: ``means`` has entries in {-1, +1}; ``labels`` has both signs, and
``min(|I+|, |I-|) >= ceil(balance * k)`` when ``balance`` is set; ``sample`` is a pure function of
``(model, n, seed, split)``; ``train`` and ``test`` splits of one seed are independent draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import flint
import numpy as np

from proofs.paper_b.intmath import arb_bracket, arb_of, int_matmul
from verify.errors import InvalidArgument
from verify.exact import to_exact

KINDS = ("orthogonal", "sphere")
SPLITS = ("train", "test")
DEFAULT_GRID_BITS = 20


def _two_adic(d: int) -> int:
    """The largest power of two dividing ``d``."""
    return d & -d


def sylvester(h: int) -> np.ndarray:
    """The Sylvester-Hadamard matrix of order ``h`` (a power of two), entries +-1, H H^T = h I.

    >>> sylvester(4) @ sylvester(4).T
    array([[4, 0, 0, 0],
           [0, 4, 0, 0],
           [0, 0, 4, 0],
           [0, 0, 0, 4]])
    """
    hm = np.ones((1, 1), dtype=np.int64)
    while hm.shape[0] < h:
        hm = np.block([[hm, hm], [hm, -hm]])
    return hm


def _require_int(value: object, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidArgument(name, value, "must be an integer")
    if value < least:
        raise InvalidArgument(name, value, f"must be >= {least}")
    return int(value)


@dataclass(frozen=True)
class ClusterModel:
    """The clustered distribution of paper B, one seeded draw of its means and labels.

    >>> m = ClusterModel(d=8, k=4, sigma=Fraction(1, 4), kind="orthogonal", seed=1)
    >>> (m.means @ m.means.T).tolist() == (8 * np.eye(4, dtype=int)).tolist()
    True
    >>> sorted(set(m.labels))
    [-1, 1]
    """

    d: int
    k: int
    sigma: Fraction
    kind: str = "sphere"
    seed: int = 0
    balance: Fraction | None = None
    label_signs: tuple[int, ...] | None = None
    grid_bits: int = DEFAULT_GRID_BITS

    def __post_init__(self) -> None:
        d = _require_int(self.d, "d", 1)
        k = _require_int(self.k, "k", 2)
        sigma = to_exact(self.sigma, "sigma")
        if sigma <= 0:
            raise InvalidArgument("sigma", self.sigma, "must be > 0")
        if self.kind not in KINDS:
            raise InvalidArgument("kind", self.kind, f"must be one of {', '.join(KINDS)}")
        _require_int(self.seed, "seed", 0)
        gb = _require_int(self.grid_bits, "grid_bits", 0)
        if gb > 40:
            raise InvalidArgument("grid_bits", gb, "must be <= 40")
        if self.kind == "orthogonal" and _two_adic(d) < k:
            raise InvalidArgument("d", d, f"must be divisible by a power of two >= k={k} for kind='orthogonal'")
        balance = None
        if self.balance is not None:
            balance = to_exact(self.balance, "balance")
            if not 0 < balance <= Fraction(1, 2):
                raise InvalidArgument("balance", self.balance, "must be in (0, 1/2]")
            if math.ceil(balance * k) > k // 2:
                raise InvalidArgument("balance", self.balance, f"cannot be met with k={k} clusters")
        signs = None
        if self.label_signs is not None:
            signs = tuple(self.label_signs)
            if len(signs) != k or any(s not in (1, -1) for s in signs):
                raise InvalidArgument("label_signs", self.label_signs, f"must be k={k} values in {{+1, -1}}")
            if len(set(signs)) < 2:
                raise InvalidArgument("labels", self.label_signs, "must contain both +1 and -1 (one label only)")
            if balance is not None and min(signs.count(1), signs.count(-1)) < math.ceil(balance * k):
                raise InvalidArgument("label_signs", self.label_signs, f"violate balance={balance}")
            signs = tuple(int(s) for s in signs)
        object.__setattr__(self, "d", d)
        object.__setattr__(self, "k", k)
        object.__setattr__(self, "sigma", sigma)
        object.__setattr__(self, "balance", balance)
        object.__setattr__(self, "label_signs", signs)

    @cached_property
    def means(self) -> np.ndarray:
        """The (k, d) int64 matrix of means, entries +-1, so each row has norm exactly sqrt(d)."""
        rng = np.random.default_rng([self.seed, 0])
        if self.kind == "sphere":
            m = rng.integers(0, 2, size=(self.k, self.d), dtype=np.int64) * 2 - 1
        else:
            h = 1 << (self.k - 1).bit_length()
            rows = rng.choice(h, size=self.k, replace=False)
            m = np.repeat(sylvester(h)[rows], self.d // h, axis=1)
            flip = rng.integers(0, 2, size=self.d, dtype=np.int64) * 2 - 1
            m = (m * flip)[:, rng.permutation(self.d)]
        m = np.ascontiguousarray(m, dtype=np.int64)
        m.setflags(write=False)
        return m

    @cached_property
    def labels(self) -> tuple[int, ...]:
        """One label +-1 per cluster; both present; ``min(|I+|, |I-|) >= ceil(balance*k)`` if set."""
        if self.label_signs is not None:
            return self.label_signs
        rng = np.random.default_rng([self.seed, 1])
        least = 1 if self.balance is None else max(1, math.ceil(self.balance * self.k))
        positives = int(rng.integers(least, self.k - least + 1))
        chosen = set(rng.choice(self.k, size=positives, replace=False).tolist())
        return tuple(1 if j in chosen else -1 for j in range(self.k))

    @property
    def positive_clusters(self) -> tuple[int, ...]:
        """I+ : the clusters labelled +1."""
        return tuple(j for j, s in enumerate(self.labels) if s == 1)

    @property
    def negative_clusters(self) -> tuple[int, ...]:
        """I- : the clusters labelled -1."""
        return tuple(j for j, s in enumerate(self.labels) if s == -1)

    @cached_property
    def u(self) -> np.ndarray:
        """The label-weighted direction u = sum_j y_j mu_j (int64, exact); ||u||^2 is ``u @ u``."""
        u = np.asarray(self.labels, dtype=np.int64) @ self.means
        u.setflags(write=False)
        return u

    def sample(self, n: int, seed: int, split: str = "train") -> ClusterSample:
        """n i.i.d. points of the distribution; ``split`` separates the train and test streams."""
        n = _require_int(n, "n", 1)
        seed = _require_int(seed, "seed", 0)
        if split not in SPLITS:
            raise InvalidArgument("split", split, f"must be one of {', '.join(SPLITS)}")
        rng = np.random.default_rng([self.seed, 2, seed, SPLITS.index(split)])
        cluster = rng.integers(0, self.k, size=n)
        scale = float(2**self.grid_bits)
        noise = np.rint(rng.standard_normal((n, self.d)) * (float(self.sigma) * scale))
        if not np.all(np.isfinite(noise)) or np.abs(noise).max(initial=0) + scale >= 2.0**53:
            raise InvalidArgument("sigma", self.sigma, "is too large for the exact dyadic grid")
        xint = self.means[cluster] * (1 << self.grid_bits) + noise.astype(np.int64)
        xint.setflags(write=False)
        labels = np.asarray(self.labels)[cluster]
        return ClusterSample(xint, self.grid_bits, tuple(int(v) for v in labels), tuple(int(c) for c in cluster))

    def train_test(self, n: int, n_test: int, seed: int) -> tuple[ClusterSample, ClusterSample]:
        """An independent (training set, test set) pair of sizes ``n`` and ``n_test``."""
        return self.sample(n, seed, "train"), self.sample(n_test, seed, "test")


@dataclass(frozen=True, eq=False)
class ClusterSample:
    """n exact points ``X = Xint / 2**grid_bits`` (dyadic rationals), their labels and clusters.

    ``Xint`` is the (n, d) int64 numerator matrix; ``X`` the same points as a numpy object array of
    ``Fraction`` (built on first use: slow for large n*d, prefer ``Xint``); ``Xf`` the float64 copy,
    exactly equal to ``X`` entry by entry (every |Xint| < 2**53).
    """

    Xint: np.ndarray
    grid_bits: int
    y: tuple[int, ...]
    cluster: tuple[int, ...]
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return int(self.Xint.shape[0])

    @property
    def d(self) -> int:
        return int(self.Xint.shape[1])

    @property
    def denominator(self) -> int:
        """The common denominator 2**grid_bits of every coordinate."""
        return 1 << self.grid_bits

    @property
    def X(self) -> np.ndarray:
        """The exact points as an (n, d) object array of Fractions."""
        if "X" not in self._cache:
            den = self.denominator
            self._cache["X"] = np.array([[Fraction(int(v), den) for v in row] for row in self.Xint], dtype=object)
        return self._cache["X"]

    @property
    def Xf(self) -> np.ndarray:
        """The exact points in float64 (exact: dyadic with |numerator| < 2**53)."""
        if "Xf" not in self._cache:
            xf = self.Xint.astype(np.float64) / float(self.denominator)
            xf.setflags(write=False)
            self._cache["Xf"] = xf
        return self._cache["Xf"]

    def row(self, i: int) -> tuple[Fraction, ...]:
        """Point i as a tuple of Fractions."""
        den = self.denominator
        return tuple(Fraction(int(v), den) for v in self.Xint[i])

    def subset(self, idx: list[int] | np.ndarray) -> ClusterSample:
        """The points ``idx`` (in that order) as a new sample."""
        idx = np.asarray(idx, dtype=np.int64)
        xint = self.Xint[idx]
        xint.setflags(write=False)
        return ClusterSample(xint, self.grid_bits, tuple(self.y[i] for i in idx), tuple(self.cluster[i] for i in idx))


@dataclass(frozen=True)
class Assumption22:
    """The Assumption-2.2 quantities of one draw (exact; the noise term as a rational bracket).

    ``max_corr`` = max_{i != j} |<mu_i, mu_j>| (an integer); ``corr_ratio`` = k * max_corr / d;
    ``ratio`` = k * (max_corr + 1) / d (the assumption's left side over d with C1 = 0);
    ``noise_term`` = [lo, hi] containing sigma * sqrt(d) * ln(d).
    """

    d: int
    k: int
    sigma: Fraction
    max_corr: int
    corr_ratio: Fraction
    ratio: Fraction
    noise_term: tuple[Fraction, Fraction]

    def holds(self, c1: Fraction, c2: Fraction) -> bool | None:
        """Is k*(max_corr + c1*sigma*sqrt(d)*ln d + 1) <= d/c2?  True / False certified, None undecided."""
        c1, c2 = Fraction(c1), Fraction(c2)
        lo = self.k * (self.max_corr + c1 * self.noise_term[0] + 1)
        hi = self.k * (self.max_corr + c1 * self.noise_term[1] + 1)
        bound = Fraction(self.d) / c2
        if hi <= bound:
            return True
        if lo > bound:
            return False
        return None


def assumption_22(model: ClusterModel, prec: int = 128) -> Assumption22:
    """The Assumption-2.2 quantities of ``model``'s means, exactly.

    >>> a = assumption_22(ClusterModel(d=16, k=4, sigma=Fraction(1, 4), kind="orthogonal"))
    >>> a.max_corr, a.ratio
    (0, Fraction(1, 4))
    """
    g = int_matmul(model.means, model.means.T)
    off = np.abs(np.asarray(g, dtype=object))
    np.fill_diagonal(off, 0)
    max_corr = int(off.max())
    old = flint.ctx.prec
    try:
        flint.ctx.prec = prec
        d = flint.arb(model.d)
        noise = arb_bracket(arb_of(model.sigma) * d.sqrt() * d.log()) if model.d > 1 else (Fraction(0), Fraction(0))
    finally:
        flint.ctx.prec = old
    return Assumption22(model.d, model.k, model.sigma, max_corr, Fraction(model.k * max_corr, model.d),
                        Fraction(model.k * (max_corr + 1), model.d), noise)
