"""Float64 interval arrays in midpoint-radius form, with matrix products on numpy's BLAS.

A :class:`MidRad` array holds two float64 arrays of one shape, ``mid`` and ``rad``; entry ``k``
encloses the exact reals ``x`` with ``|x - mid[k]| <= rad[k]`` (compared exactly). ``rad`` is
``>= 0``, or ``inf``/``nan`` when the entry lost all information (:meth:`MidRadArithmetic.finite`
is then false, and no decision is made from it). Arrays are never modified in place.

**Assumptions** (checked at run time by :func:`verify.arith.fenv.require_float64` before any
float64 run, in every process):

* A1. IEEE 754 binary64 in round-to-nearest, with gradual underflow (no flush-to-zero, no
  denormals-are-zero).
* A2. The BLAS forms each entry of a product ``A B`` (inner dimension ``k``) from the ``k``
  products ``a_il b_lj``, each formed once, combined by rounded additions, multiplications and
  fused multiply-adds in any order and grouping (blocking, SIMD partial sums, threads), with no
  Strassen-like algorithm (which would form sums of entries before multiplying) and no extended
  precision (which would round twice). OpenBLAS, MKL and BLIS ``dgemm``/``dgemv`` qualify, and so
  do numpy's own loops, which it uses when it does not call the BLAS.
* A3. ``numpy.exp`` and libm's ``log1p`` are within :data:`verify.arith.f64.LIBM_ULPS` ulps.

**Notation.** ``u = 2^-53``, ``eta = 2^-1074`` (the least subnormal), ``gamma_k = k u / (1 - k u)``.

**Lemma 1** (one rounding; Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
Thm 2.2 and (2.5), with the subnormal spacing ``eta``). If the rounding ``f = fl(r)`` of a real
``r`` is finite, ``|f - r| <= u |f| + eta / 2``; when ``r`` is a sum or difference of two doubles,
``|f - r| <= u |f|`` (such a sum is exact when it is subnormal).

**Lemma 2** (:mod:`verify.arith.f64`). ``up(f) > r`` and ``down(f) < r`` for every real ``r``
with ``fl(r) = f``. So an expression that is nondecreasing in each of its arguments (sums and
products of nonnegative numbers), evaluated with ``up`` applied after every operation, is an
upper bound of its exact value; :func:`_err` gives ``up(|f| 2^-52) >= succ(|f| 2^-52 - eta/2)
>= 2u|f| + eta/2``, a bound of Lemma 1's error.

**Lemma 3** (dot products in any order; Higham §3.1, Lemma 3.1 and (3.4), with underflow as in
his (2.8)). Under A1 and A2, for an entry ``s`` of ``fl(A B)`` with inner dimension ``k``
(``k u < 1/2``), ``|s - (A B)_ij| <= gamma_k (|A| |B|)_ij + k eta``: every product
``a_il b_lj`` passes through at most ``k`` roundings (its own, or an FMA's, and at most ``k - 1``
additions: a summation tree of ``k`` leaves has depth at most ``k - 1``), each a factor
``(1 + delta)``, ``|delta| <= u``, whose product is ``1 + theta``, ``|theta| <= gamma_k``; and each
of the at most ``k`` multiplications or FMAs may add an underflow error of at most ``eta / 2``,
later multiplied by at most ``1 + gamma_k <= 2``. For nonnegative ``A, B`` this gives
``(A B)_ij <= (s + k eta) / (1 - gamma_k)``.

**Products** (Rump, "Fast and parallel interval arithmetic", BIT 39:534-554, 1999, midpoint-radius
product, with Lemma 3 in place of directed rounding). For ``A = <Am, Ar>``, ``B = <Bm, Br>`` and
any ``A~`` in ``A``, ``B~`` in ``B``: ``A~ B~ - Am Bm = (A~ - Am) B~ + Am (B~ - Bm)``, so
``|A~ B~ - Am Bm| <= Ar (|Bm| + Br) + |Am| Br``. With ``Cm = fl(Am Bm)`` and Lemma 3::

    |A~ B~ - Cm| <= Ar (|Bm| + Br) + |Am| (Br + gamma_k |Bm|) + k eta  =: R.

:meth:`MidRadArithmetic.matmul` computes ``R`` as one product ``P Q`` of nonnegative matrices
(``P = [Ar, |Am|]``, ``Q = [|Bm| + Br; Br + gamma_k |Bm|]``, rounded up entrywise, the ``Ar``
block dropped when ``A`` is a point), bounded by Lemma 3 again: ``Cr = up(up(up(S + K eta) c_K)
+ k eta)`` with ``S = fl(P Q)``, ``K`` its inner dimension, ``c_K >= 1 / (1 - gamma_K)``. So a
product with a point operand (exact data, exact signs) costs two BLAS products of its size.

**Elementwise operations** round the midpoint to nearest and add the rounding error of Lemma 1
(via :func:`_err`) to a radius computed with ``up`` after every operation (Lemma 2):

* ``<am, ar> + <bm, bm>``: ``cm = fl(am + bm)``, ``cr >= ar + br + u |cm|``;
* ``<am, ar> * <bm, br>``: ``cm = fl(am bm)``, ``cr >= |am| br + ar (|bm| + br) + u |cm| + eta/2``;
* sums over an axis of ``k`` entries: ``cm = fl(sum am)`` (any order), ``cr >= sum ar + gamma_{k-1}
  sum |am|`` by Lemma 3 (additions only: no underflow term);
* ``exp``, ``log1p`` and ``x / (1 + x)`` (increasing) are taken at the ends ``down(m - r)`` and
  ``up(m + r)``, widened for the library error (A3) as :mod:`verify.arith.f64` does, and turned back
  into midpoint-radius form: ``m = fl(lo/2 + hi/2)``, ``r = up(max(up(hi - m), up(m - lo)))``.

Decisions are exact comparisons of doubles: an entry is certainly positive iff ``mid > rad`` and
certainly nonpositive iff ``mid <= -rad`` (both finite).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from numba import njit, vectorize

from verify.arith import f64
from verify.arith.arrays import ArrayArithmetic, _float_up
from verify.arith.base import Backend

U = 2.0**-53
ETA = 2.0**-1074
F8 = "float64(float64, float64)"
F3 = "float64(float64, float64, float64)"
F4 = "float64(float64, float64, float64, float64)"
F5 = "float64(float64, float64, float64, float64, float64)"


class MidRad:
    """Entries ``{x : |x - mid| <= rad}``; see the module doc. ``point`` is true when every
    radius is known to be 0 (exact entries): products then skip the radius term of that side."""

    __slots__ = ("mid", "rad", "point", "_abs")

    def __init__(self, mid: np.ndarray, rad: np.ndarray, point: bool = False) -> None:
        self.mid = mid
        self.rad = rad
        self.point = point
        self._abs: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.mid.shape

    @property
    def absmid(self) -> np.ndarray:
        """``|mid|``, computed once (data matrices are multiplied on every step)."""
        if self._abs is None:
            self._abs = np.abs(self.mid)
        return self._abs

    def __repr__(self) -> str:
        return f"MidRad(mid={self.mid!r}, rad={self.rad!r})"


# --- scalar kernels (Lemma 2: up after every operation of a radius) ---------------------------
@njit(inline="always")
def _err(f):
    """A double ``>= u |f| + eta / 2``: the rounding error of a result ``f`` (Lemma 1)."""
    return f64.up(abs(f) * 2.0**-52)


@vectorize([F3], cache=True)
def _rad_add(ar, br, cm):  # pragma: no cover - compiled
    return f64.up(f64.up(ar + br) + _err(cm))


@vectorize([F5], cache=True)
def _rad_mul(am, ar, bm, br, cm):  # pragma: no cover - compiled
    return f64.up(f64.up(f64.up(abs(am) * br) + f64.up(ar * f64.up(abs(bm) + br))) + _err(cm))


@vectorize([F3], cache=True)
def _scaled_plus(g, absm, r):  # pragma: no cover - compiled
    """``up(r + up(g |m|))``: a radius plus ``g`` times a magnitude, rounded up."""
    return f64.up(r + f64.up(g * absm))


@vectorize([F8], cache=True)
def _sum_up(a, b):  # pragma: no cover - compiled
    return f64.up(a + b)


@vectorize([F4], cache=True)
def _product_bound(s, k_eta, c, extra):  # pragma: no cover - compiled
    """``up(up(up(s + k_eta) c) + extra)``: Lemma 3's bound of a nonnegative product from its
    computed value ``s`` (``c >= 1 / (1 - gamma_K)``), plus ``extra``."""
    return f64.up(f64.up(f64.up(s + k_eta) * c) + extra)


@vectorize([F8], cache=True)
def _lower(m, r):  # pragma: no cover - compiled
    return f64.down(m - r)


@vectorize([F8], cache=True)
def _upper(m, r):  # pragma: no cover - compiled
    return f64.up(m + r)


@vectorize([F8], cache=True)
def _mid_of(lo, hi):  # pragma: no cover - compiled
    return 0.5 * lo + 0.5 * hi


@vectorize([F3], cache=True)
def _rad_of(lo, hi, m):  # pragma: no cover - compiled
    return f64.up(max(f64.up(hi - m), f64.up(m - lo)))


@vectorize([F8], cache=True)
def _exp_lower(el, dummy):  # pragma: no cover - compiled
    return f64.widen_exp(el, el)[0]


@vectorize([F8], cache=True)
def _exp_upper(eh, dummy):  # pragma: no cover - compiled
    return f64.widen_exp(eh, eh)[1]


@vectorize([F8], cache=True)
def _log1p_lower(xl, dummy):  # pragma: no cover - compiled
    return f64.log1p(xl, xl)[0]


@vectorize([F8], cache=True)
def _log1p_upper(xh, dummy):  # pragma: no cover - compiled
    return f64.log1p(xh, xh)[1]


@vectorize([F8], cache=True)
def _logistic_lower(el, dummy):  # pragma: no cover - compiled
    return f64.logistic_weight(el, el)[0]


@vectorize([F8], cache=True)
def _logistic_upper(eh, dummy):  # pragma: no cover - compiled
    return f64.logistic_weight(eh, eh)[1]


def gamma(k: int) -> float:
    """A double ``>= gamma_k = k u / (1 - k u)`` (``k < 2^52``)."""
    return _float_up(Fraction(k, 2**53 - k))


def inv_one_minus_gamma(k: int) -> float:
    """A double ``>= 1 / (1 - gamma_k) = (2^53 - k) / (2^53 - 2k)`` (``k < 2^51``)."""
    return _float_up(Fraction(2**53 - k, 2**53 - 2 * k))


def from_bounds(lo: np.ndarray, hi: np.ndarray) -> MidRad:
    """The midpoint-radius form of ``[lo, hi]`` (a superset: Lemma 2)."""
    m = _mid_of(lo, hi)
    return MidRad(np.asarray(m, dtype=float), np.asarray(_rad_of(lo, hi, m), dtype=float))


class MidRadArithmetic(ArrayArithmetic):
    """Float64 midpoint-radius enclosure arrays; see the module doc for every bound used."""

    name = "f64"
    prec = 53

    def __init__(self, prec: int = 53) -> None:
        self._scalar: Backend | None = None

    @property
    def scalar(self) -> Backend:
        """Arb at 64 bits: every double, and every midpoint-radius pair, is an exact Arb ball."""
        if self._scalar is None:
            from verify.arith.arb_backend import ArbBackend

            self._scalar = ArbBackend(64)
        return self._scalar

    # --- entry -------------------------------------------------------------------------------
    def exact(self, values: np.ndarray) -> MidRad:
        values = np.asarray(values)
        if values.dtype == np.float64:
            if not np.isfinite(values).all():
                raise ValueError("exact values must be finite")
            return MidRad(values, np.zeros(values.shape), point=True)
        lo, hi = np.empty(values.shape), np.empty(values.shape)
        flat_lo, flat_hi = lo.reshape(-1), hi.reshape(-1)
        for k, v in enumerate(values.reshape(-1).tolist()):
            flat_lo[k], flat_hi[k] = f64.enclose(Fraction(v))
        if (lo == hi).all():
            return MidRad(lo, np.zeros(values.shape), point=True)
        return from_bounds(lo, hi)

    def zeros(self, shape: tuple[int, ...]) -> MidRad:
        return MidRad(np.zeros(shape), np.zeros(shape), point=True)

    # --- structure ---------------------------------------------------------------------------
    def shape(self, a: MidRad) -> tuple[int, ...]:
        return a.mid.shape

    def reshape(self, a: MidRad, shape: tuple[int, ...]) -> MidRad:
        return MidRad(a.mid.reshape(shape), a.rad.reshape(shape), a.point)

    def transpose(self, a: MidRad, axes: tuple[int, ...] | None = None) -> MidRad:
        return MidRad(a.mid.transpose(axes), a.rad.transpose(axes), a.point)

    def take(self, a: MidRad, index: Any) -> MidRad:
        return MidRad(a.mid[index], a.rad[index], a.point)

    def where(self, mask: np.ndarray, a: MidRad, b: MidRad) -> MidRad:
        return MidRad(np.where(mask, a.mid, b.mid), np.where(mask, a.rad, b.rad), a.point and b.point)

    def neg(self, a: MidRad) -> MidRad:
        return MidRad(-a.mid, a.rad, a.point)

    def flip(self, a: MidRad, positive: np.ndarray) -> MidRad:
        m = np.where(positive, a.mid, -a.mid)
        return MidRad(m, np.broadcast_to(a.rad, m.shape), a.point)

    # --- arithmetic --------------------------------------------------------------------------
    def add(self, a: MidRad, b: MidRad) -> MidRad:
        cm = a.mid + b.mid
        return MidRad(cm, _rad_add(a.rad, b.rad, cm))

    def sub(self, a: MidRad, b: MidRad) -> MidRad:
        cm = a.mid - b.mid
        return MidRad(cm, _rad_add(a.rad, b.rad, cm))

    def mul(self, a: MidRad, b: MidRad) -> MidRad:
        cm = a.mid * b.mid
        return MidRad(cm, _rad_mul(a.mid, a.rad, b.mid, b.rad, cm))

    def matmul(self, a: MidRad, b: MidRad) -> MidRad:
        """``a @ b`` for 2-d arrays, with the radius ``R`` of the module doc: two BLAS products of
        this size when either side is a point, else a radius product of twice the inner dimension."""
        k = a.mid.shape[-1]
        cm = a.mid @ b.mid
        if k == 0:
            return MidRad(cm, np.zeros(cm.shape), point=True)
        g = gamma(k)
        if a.point:  # R = |Am| (Br + gamma |Bm|) + k eta
            P, Q = a.absmid, _scaled_plus(g, b.absmid, b.rad)
        elif b.point:  # R = (Ar + gamma |Am|) |Bm| + k eta
            P, Q = _scaled_plus(g, a.absmid, a.rad), b.absmid
        else:  # R = Ar (|Bm| + Br) + |Am| (Br + gamma |Bm|) + k eta
            P = np.concatenate([a.rad, a.absmid], axis=-1)
            Q = np.concatenate([_sum_up(b.absmid, b.rad), _scaled_plus(g, b.absmid, b.rad)], axis=0)
        K = P.shape[-1]
        S = P @ Q
        return MidRad(cm, _product_bound(S, K * ETA, inv_one_minus_gamma(K), k * ETA))

    def sum(self, a: MidRad, axis: int) -> MidRad:
        k = a.mid.shape[axis]
        cm = a.mid.sum(axis=axis)
        if k <= 1:
            return MidRad(cm, a.rad.sum(axis=axis), a.point)
        terms = _scaled_plus(gamma(k - 1), a.absmid, a.rad)
        return MidRad(cm, _product_bound(terms.sum(axis=axis), 0.0, inv_one_minus_gamma(k - 1), 0.0))

    def _bounds_map(self, a: MidRad, lower, upper, fn) -> MidRad:
        lo, hi = _lower(a.mid, a.rad), _upper(a.mid, a.rad)
        with np.errstate(over="ignore", invalid="ignore"):
            flo, fhi = (fn(lo), fn(hi)) if fn is not None else (lo, hi)
        return from_bounds(lower(flo, 0.0), upper(fhi, 0.0))

    def exp(self, a: MidRad) -> MidRad:
        return self._bounds_map(a, _exp_lower, _exp_upper, np.exp)

    def log1p(self, a: MidRad) -> MidRad:
        return self._bounds_map(a, _log1p_lower, _log1p_upper, None)

    def logistic(self, a: MidRad) -> MidRad:
        return self._bounds_map(a, _logistic_lower, _logistic_upper, None)

    def relu(self, a: MidRad) -> MidRad:
        """Exact where the sign is decided (``a`` or 0), ``[0, up(m + r)]`` where it straddles 0."""
        pos, nonpos = self.positive(a), self.nonpositive(a)
        straddle = from_bounds(np.zeros(a.shape), _upper(a.mid, a.rad))
        out = self.where(pos, a, self.where(nonpos, self.zeros(()), straddle))
        ok = self.finite(a)
        return out if ok.all() else self.where(ok, out, MidRad(np.full(a.shape, np.nan), np.full(a.shape, np.inf)))

    # --- decisions ---------------------------------------------------------------------------
    def finite(self, a: MidRad) -> np.ndarray:
        return np.isfinite(a.mid) & np.isfinite(a.rad)

    def positive(self, a: MidRad) -> np.ndarray:
        return (a.mid > a.rad) & self.finite(a)

    def nonpositive(self, a: MidRad) -> np.ndarray:
        return (a.mid <= -a.rad) & self.finite(a)

    def width(self, a: MidRad) -> np.ndarray:
        w = 2.0 * a.rad  # exact (a power of two), or inf
        return np.where(self.finite(a), w, np.inf)

    # --- exit --------------------------------------------------------------------------------
    def bounds(self, a: MidRad) -> tuple[np.ndarray, np.ndarray]:
        ok = self.finite(a)
        return np.where(ok, _lower(a.mid, a.rad), -np.inf), np.where(ok, _upper(a.mid, a.rad), np.inf)

    def natives(self, a: MidRad) -> np.ndarray:
        from flint import arb

        out = np.empty(a.shape, dtype=object)
        flat = out.reshape(-1)
        for k, (m, r) in enumerate(zip(a.mid.reshape(-1).tolist(), a.rad.reshape(-1).tolist(), strict=True)):
            flat[k] = arb(m, r) if np.isfinite(m) and np.isfinite(r) else arb("nan")
        return out
