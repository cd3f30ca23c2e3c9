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

**Radius products in float32.** A product of at least :data:`SINGLE_MIN_WORK` multiply-adds with
a point operand computes its nonnegative radius product ``P Q`` in binary32 (``sgemm``: about
twice as fast as ``dgemm``, so such a product costs about 1.5 plain products): ``P`` and ``Q`` are
rounded *up* to float32 (:func:`_f32_up`), so ``P <= P32`` and ``Q <= Q32`` entrywise, and Lemma 3
in binary32 (``u = 2^-24``, ``eta = 2^-149``, under A1-A2 for the BLAS's ``sgemm``) bounds the
exact ``P32 Q32 >= P Q``. The radius grows by a factor of at most about ``1 + (K + 8) 2^-24`` over
the float64 one. When the float32 result overflows, is not a number, or is tiny (below ``2^-90``,
where float32's underflow would floor the radii), the radius product is redone in float64.

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

import functools
from fractions import Fraction
from typing import Any

import numpy as np
from numba import njit

from verify.arith import f64
from verify.arith.arrays import ArrayArithmetic, _float_up
from verify.arith.base import Backend

U = 2.0**-53
ETA = 2.0**-1074
U32_BITS = 24  # binary32: u = 2^-24, least subnormal 2^-149
ETA32 = 2.0**-149
SINGLE_MIN_WORK = 1 << 20  # products of at least this many multiply-adds get their radius in float32


class MidRad:
    """Entries ``{x : |x - mid| <= rad}``; see the module doc. ``point`` is true when every
    radius is known to be 0 (exact entries): products then skip the radius term of that side."""

    __slots__ = ("mid", "rad", "point", "_abs", "_abs32")

    def __init__(self, mid: np.ndarray, rad: np.ndarray, point: bool = False) -> None:
        self.mid = mid
        self.rad = rad
        self.point = point
        self._abs: np.ndarray | None = None
        self._abs32: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.mid.shape

    @property
    def absmid(self) -> np.ndarray:
        """``|mid|``, computed once (data matrices are multiplied on every step)."""
        if self._abs is None:
            self._abs = np.abs(self.mid)
        return self._abs

    @property
    def absmid32(self) -> np.ndarray:
        """``|mid|`` rounded *up* to float32 (for radius products), computed once."""
        if self._abs32 is None:
            self._abs32 = _ew(_k_up32, [self.mid, np.zeros(())], 1, (1.0,), dtype=np.float32)[0]
        return self._abs32

    def __repr__(self) -> str:
        return f"MidRad(mid={self.mid!r}, rad={self.rad!r})"


# --- kernels: one pass over flat arrays; Lemma 2 (up after every operation of a radius) -------
@njit(inline="always")
def _err(f):
    """A double ``>= u |f| + eta / 2``: the rounding error of a result ``f`` (Lemma 1)."""
    return f64.up(abs(f) * 2.0**-52)


@njit(inline="always")
def _rad_mul(am, ar, bm, br, cm):
    """A radius of ``<am, ar> * <bm, br>`` around ``cm = fl(am bm)``."""
    return f64.up(f64.up(f64.up(abs(am) * br) + f64.up(ar * f64.up(abs(bm) + br))) + _err(cm))


# Each kernel loops over 3-d arrays (any strides: broadcast operands are zero-stride views, not
# copies); :func:`_ew` prepares the views and the outputs.
@njit(cache=True, nogil=True)
def _k_add(sign, am, ar, bm, br, cm, cr):  # pragma: no cover - compiled
    """``a + sign * b`` (``sign = +-1``: exact)."""
    n0, n1, n2 = cm.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                m = am[i, j, k] + sign * bm[i, j, k]
                cm[i, j, k] = m
                cr[i, j, k] = f64.up(f64.up(ar[i, j, k] + br[i, j, k]) + _err(m))


@njit(cache=True, nogil=True)
def _k_mul(am, ar, bm, br, cm, cr):  # pragma: no cover - compiled
    n0, n1, n2 = cm.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                m = am[i, j, k] * bm[i, j, k]
                cm[i, j, k] = m
                cr[i, j, k] = _rad_mul(am[i, j, k], ar[i, j, k], bm[i, j, k], br[i, j, k], m)


@njit(cache=True, nogil=True)
def _k_axpy(ym, yr, am, ar, xm, xr, cm, cr):  # pragma: no cover - compiled
    """``y + a * x``: the product's enclosure ``p +- pr``, then the sum's."""
    n0, n1, n2 = cm.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                p = am[i, j, k] * xm[i, j, k]
                pr = _rad_mul(am[i, j, k], ar[i, j, k], xm[i, j, k], xr[i, j, k], p)
                m = ym[i, j, k] + p
                cm[i, j, k] = m
                cr[i, j, k] = f64.up(f64.up(yr[i, j, k] + pr) + _err(m))


@njit(cache=True, nogil=True)
def _k_where(mask, am, ar, bm, br, cm, cr):  # pragma: no cover - compiled
    n0, n1, n2 = cm.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                if mask[i, j, k]:
                    cm[i, j, k], cr[i, j, k] = am[i, j, k], ar[i, j, k]
                else:
                    cm[i, j, k], cr[i, j, k] = bm[i, j, k], br[i, j, k]


@njit(cache=True, nogil=True)
def _k_decide(m, r, pos, nonpos):  # pragma: no cover - compiled
    """Certainly ``> 0`` (``m > r``) and certainly ``<= 0`` (``m <= -r``), both finite: exact comparisons."""
    n0, n1, n2 = pos.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                mi, ri = m[i, j, k], r[i, j, k]
                ok = np.isfinite(mi) and np.isfinite(ri)
                pos[i, j, k] = ok and mi > ri
                nonpos[i, j, k] = ok and mi <= -ri


@njit(cache=True, nogil=True)
def _k_scaled_plus(g, m, r, out):  # pragma: no cover - compiled
    """``up(r + up(g |m|))``: a radius plus ``g`` times a magnitude."""
    n0, n1, n2 = out.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                out[i, j, k] = f64.up(r[i, j, k] + f64.up(g * abs(m[i, j, k])))


@njit(inline="always")
def _f32_up(v):
    """A float32 ``>= v`` for a double ``v >= 0`` (``inf`` beyond the float32 range): ``w = v (1 +
    2^-22) + 2^-149`` rounded up, then rounded to nearest float32, which loses at most half a
    float32 ulp (``<= 2^-24 w`` for normal results, ``2^-150`` for subnormal ones): less than the
    margin ``w - v``."""
    return np.float32(f64.up(f64.up(v * (1.0 + 2.0**-22)) + 2.0**-149))


@njit(cache=True, nogil=True)
def _k_up32(g, m, r, out):  # pragma: no cover - compiled
    """``up(r + up(g |m|))`` rounded up to float32 (``g = 1``, ``r = 0``: ``|m|`` rounded up)."""
    n0, n1, n2 = out.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                out[i, j, k] = _f32_up(f64.up(r[i, j, k] + f64.up(g * abs(m[i, j, k]))))


@njit(cache=True, nogil=True)
def _k_product_bound(k_eta, c, extra, s, out):  # pragma: no cover - compiled
    """``up(up(up(s + k_eta) c) + extra)``: Lemma 3's bound of a nonnegative product from its
    computed value ``s`` (``c >= 1 / (1 - gamma_K)``), plus ``extra``."""
    n0, n1, n2 = out.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                out[i, j, k] = f64.up(f64.up(f64.up(s[i, j, k] + k_eta) * c) + extra)


@njit(cache=True, nogil=True)
def _k_sum_up(a, b, out):  # pragma: no cover - compiled
    n0, n1, n2 = out.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                out[i, j, k] = f64.up(a[i, j, k] + b[i, j, k])


@njit(cache=True, nogil=True)
def _k_bounds(m, r, lo, hi):  # pragma: no cover - compiled
    n0, n1, n2 = lo.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                lo[i, j, k] = f64.down(m[i, j, k] - r[i, j, k])
                hi[i, j, k] = f64.up(m[i, j, k] + r[i, j, k])


@njit(inline="always")
def _to_midrad(lo, hi):
    m = 0.5 * lo + 0.5 * hi
    return m, f64.up(max(f64.up(hi - m), f64.up(m - lo)))


@njit(cache=True, nogil=True)
def _k_from_bounds(lo, hi, cm, cr):  # pragma: no cover - compiled
    n0, n1, n2 = cm.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                cm[i, j, k], cr[i, j, k] = _to_midrad(lo[i, j, k], hi[i, j, k])


@njit(cache=True, nogil=True)
def _k_exp(el, eh, cm, cr):  # pragma: no cover - compiled
    """From ``numpy.exp`` of the two ends, widened for the library error (A3)."""
    n0, n1, n2 = cm.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                lo = f64.widen_exp(el[i, j, k], el[i, j, k])[0]
                hi = f64.widen_exp(eh[i, j, k], eh[i, j, k])[1]
                cm[i, j, k], cr[i, j, k] = _to_midrad(lo, hi)


@njit(cache=True, nogil=True)
def _k_log1p(xl, xh, cm, cr):  # pragma: no cover - compiled
    n0, n1, n2 = cm.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                lo = f64.log1p(xl[i, j, k], xl[i, j, k])[0]
                hi = f64.log1p(xh[i, j, k], xh[i, j, k])[1]
                cm[i, j, k], cr[i, j, k] = _to_midrad(lo, hi)


@njit(cache=True, nogil=True)
def _k_logistic(xl, xh, cm, cr):  # pragma: no cover - compiled
    n0, n1, n2 = cm.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                lo, hi = f64.logistic_weight(xl[i, j, k], xh[i, j, k])
                cm[i, j, k], cr[i, j, k] = _to_midrad(lo, hi)


@njit(cache=True, nogil=True)
def _k_relu(lo, hi, cm, cr):  # pragma: no cover - compiled
    n0, n1, n2 = cm.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                cm[i, j, k], cr[i, j, k] = _to_midrad(max(lo[i, j, k], 0.0), max(hi[i, j, k], 0.0))


def _ew(kernel, ins: list, nout: int, scalars: tuple = (), dtype=np.float64) -> list[np.ndarray]:
    """Run ``kernel(*scalars, *operands, *outputs)`` over the broadcast shape of ``ins``: operands as
    C-ordered 3-d arrays (axes reversed when the full-size operands are column-major, so that they
    need no copy), outputs allocated and returned in the broadcast shape."""
    ins = [np.asarray(x) for x in ins]
    shape = ins[0].shape
    if all(x.shape == shape and x.flags.c_contiguous for x in ins) and len(shape) <= 3:  # the common case
        pad = (1,) * (3 - len(shape))
        outs = [np.empty(pad + shape, dtype=dtype) for _ in range(nout)]
        kernel(*scalars, *(x.reshape(pad + shape) for x in ins), *outs)
        return [o.reshape(shape) for o in outs]
    shape = np.broadcast_shapes(*(x.shape for x in ins))
    if len(shape) > 3:
        raise ValueError(f"interval arrays of at most 3 dimensions, not {shape}")
    views = [np.broadcast_to(x, shape) for x in ins]
    flip = len(shape) >= 2 and any(x.shape == shape and x.flags.f_contiguous and not x.flags.c_contiguous
                                   for x in ins)
    if flip:
        views = [v.T for v in views]
    sh = views[0].shape
    pad = (1,) * (3 - len(sh))
    # contiguous operands only: numba vectorizes the loops over C-ordered arrays, not over
    # zero-stride broadcast views (measured: 0.34 ms against 2.8 ms for 100 x 2001 entries)
    views = [np.ascontiguousarray(v).reshape(pad + sh) for v in views]
    outs = [np.empty(pad + sh, dtype=dtype) for _ in range(nout)]
    kernel(*scalars, *views, *outs)
    outs = [o.reshape(sh) for o in outs]
    return [o.T if flip else o for o in outs]


@functools.lru_cache(maxsize=256)
def gamma(k: int, bits: int = 53) -> float:
    """A double ``>= gamma_k = k u / (1 - k u)``, ``u = 2^-bits`` (``k < 2^(bits-1)``)."""
    return _float_up(Fraction(k, 2**bits - k))


@functools.lru_cache(maxsize=256)
def inv_one_minus_gamma(k: int, bits: int = 53) -> float:
    """A double ``>= 1 / (1 - gamma_k) = (2^bits - k) / (2^bits - 2k)`` (``k < 2^(bits-2)``)."""
    return _float_up(Fraction(2**bits - k, 2**bits - 2 * k))


def from_bounds(lo: np.ndarray, hi: np.ndarray) -> MidRad:
    """The midpoint-radius form of ``[lo, hi]`` (a superset: Lemma 2)."""
    return MidRad(*_ew(_k_from_bounds, [lo, hi], 2))


def _bounds(a: MidRad) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = _ew(_k_bounds, [a.mid, a.rad], 2)
    return lo, hi


def _scaled_sum_bound(S: np.ndarray, k: int) -> np.ndarray:
    """Lemma 3 for a sum of nonnegative terms (additions only: no underflow term): ``up(S c_k)``."""
    return _ew(_k_product_bound, [S], 1, (0.0, inv_one_minus_gamma(k), 0.0))[0]


def _quiet(method):
    """Overflow and NaN are results here (an entry that is not finite), not warnings."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
            return method(*args, **kwargs)

    return wrapper


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
        return MidRad(*_ew(_k_where, [mask, a.mid, a.rad, b.mid, b.rad], 2), a.point and b.point)

    def neg(self, a: MidRad) -> MidRad:
        return MidRad(-a.mid, a.rad, a.point)

    def flip(self, a: MidRad, positive: np.ndarray) -> MidRad:
        m = np.where(positive, a.mid, -a.mid)
        return MidRad(m, np.broadcast_to(a.rad, m.shape), a.point)

    # --- arithmetic --------------------------------------------------------------------------
    def add(self, a: MidRad, b: MidRad) -> MidRad:
        return MidRad(*_ew(_k_add, [a.mid, a.rad, b.mid, b.rad], 2, (1.0,)))

    def sub(self, a: MidRad, b: MidRad) -> MidRad:
        return MidRad(*_ew(_k_add, [a.mid, a.rad, b.mid, b.rad], 2, (-1.0,)))

    def mul(self, a: MidRad, b: MidRad) -> MidRad:
        return MidRad(*_ew(_k_mul, [a.mid, a.rad, b.mid, b.rad], 2))

    def axpy(self, y: MidRad, a: MidRad, x: MidRad) -> MidRad:
        """``y + a * x`` in one pass (the product's enclosure, then the sum's)."""
        return MidRad(*_ew(_k_axpy, [y.mid, y.rad, a.mid, a.rad, x.mid, x.rad], 2))

    def _scaled_plus(self, g: float, m: np.ndarray, r: np.ndarray) -> np.ndarray:
        """``up(r + up(g |m|))`` entrywise."""
        return _ew(_k_scaled_plus, [m, r], 1, (g,))[0]

    def _radius(self, S: np.ndarray, K: int, extra: float) -> np.ndarray:
        return _ew(_k_product_bound, [S], 1, (K * ETA, inv_one_minus_gamma(K), extra))[0]

    def _radius32(self, S: np.ndarray, K: int, extra: float) -> np.ndarray:
        """Lemma 3 in binary32 (``u = 2^-24``, ``eta = 2^-149``) for a float32 product ``S`` of
        nonnegative float32 matrices, in float64, plus ``extra``."""
        return _ew(_k_product_bound, [S.astype(np.float64)], 1,
                   (K * ETA32, inv_one_minus_gamma(K, U32_BITS), extra))[0]

    @_quiet
    def matmul(self, a: MidRad, b: MidRad) -> MidRad:
        """``a @ b`` (numpy ``matmul``: 2-d, or stacks of matrices), with the radius ``R`` of the
        module doc: two BLAS products of this size when either side is a point, else three."""
        k = a.mid.shape[-1]
        cm = a.mid @ b.mid
        if k == 0:
            return MidRad(cm, np.zeros(cm.shape), point=True)
        g = gamma(k)
        single = k < 2**20 and cm.size * k >= SINGLE_MIN_WORK
        if single and (a.point or b.point):  # the radius product below, in float32 (Lemma 3 in binary32)
            if a.point:
                S = a.absmid32 @ _ew(_k_up32, [b.mid, b.rad], 1, (g,), dtype=np.float32)[0]
            else:
                S = _ew(_k_up32, [a.mid, a.rad], 1, (g,), dtype=np.float32)[0] @ b.absmid32
            top = S.max(initial=0.0)
            if top < np.inf and (top > 2.0**-90 or top == 0.0):  # else out of float32's range: float64 below
                return MidRad(cm, self._radius32(S, k, k * ETA))
        if a.point:  # R = |Am| (Br + gamma |Bm|) + k eta
            return MidRad(cm, self._radius(a.absmid @ self._scaled_plus(g, b.mid, b.rad), k, k * ETA))
        if b.point:  # R = (Ar + gamma |Am|) |Bm| + k eta
            return MidRad(cm, self._radius(self._scaled_plus(g, a.mid, a.rad) @ b.absmid, k, k * ETA))
        # R = Ar (|Bm| + Br) + |Am| (Br + gamma |Bm|) + k eta: two products, each bounded by Lemma 3
        q1 = _ew(_k_sum_up, [b.absmid, b.rad], 1)[0]
        r1 = self._radius(a.rad @ q1, k, 0.0)
        r2 = self._radius(a.absmid @ self._scaled_plus(g, b.mid, b.rad), k, k * ETA)
        return MidRad(cm, _ew(_k_sum_up, [r1, r2], 1)[0])

    @_quiet
    def sum(self, a: MidRad, axis: int) -> MidRad:
        k = a.mid.shape[axis]
        cm = a.mid.sum(axis=axis)
        if k <= 1:
            return MidRad(cm, a.rad.sum(axis=axis), a.point)
        terms = self._scaled_plus(gamma(k - 1), a.mid, a.rad)
        return MidRad(cm, _scaled_sum_bound(terms.sum(axis=axis), k - 1))

    def _ends_map(self, a: MidRad, kernel, fn) -> MidRad:
        lo, hi = _bounds(a)
        if fn is not None:
            lo, hi = fn(lo), fn(hi)
        return MidRad(*_ew(kernel, [lo, hi], 2))

    @_quiet
    def exp(self, a: MidRad) -> MidRad:
        return self._ends_map(a, _k_exp, np.exp)

    @_quiet
    def log1p(self, a: MidRad) -> MidRad:
        return self._ends_map(a, _k_log1p, None)

    @_quiet
    def logistic(self, a: MidRad) -> MidRad:
        return self._ends_map(a, _k_logistic, None)

    @_quiet
    def relu(self, a: MidRad) -> MidRad:
        """``[max(lo, 0), max(hi, 0)]`` around the outward ends (exact where the sign is decided:
        ``a`` itself, or 0); not finite where ``a`` is not."""
        pos, nonpos = self.decide(a)
        out = self.where(pos, a, self.where(nonpos, self.zeros(()), self._ends_map(a, _k_relu, None)))
        ok = self.finite(a)
        return out if ok.all() else self.where(ok, out, MidRad(np.full(a.shape, np.nan), np.full(a.shape, np.inf)))

    # --- decisions ---------------------------------------------------------------------------
    def decide(self, a: MidRad) -> tuple[np.ndarray, np.ndarray]:
        """``(positive, nonpositive)`` in one pass."""
        pos, nonpos = _ew(_k_decide, [a.mid, a.rad], 2, dtype=np.bool_)
        return pos, nonpos

    def finite(self, a: MidRad) -> np.ndarray:
        return np.isfinite(a.mid) & np.isfinite(a.rad)

    def positive(self, a: MidRad) -> np.ndarray:
        return self.decide(a)[0]

    def nonpositive(self, a: MidRad) -> np.ndarray:
        return self.decide(a)[1]

    def width(self, a: MidRad) -> np.ndarray:
        w = 2.0 * a.rad  # exact (a power of two), or inf
        return np.where(self.finite(a), w, np.inf)

    def max_width(self, a: MidRad, axes: tuple[int, ...]) -> np.ndarray:
        """``2 max(rad)``, ``nan`` or ``inf`` when an entry is not finite (a non-finite midpoint
        shows as a ``nan`` radius: ``inf - inf``)."""
        spread = a.mid.max(axis=axes) - a.mid.min(axis=axes)  # inf or nan when a midpoint is not finite
        return 2.0 * (a.rad.max(axis=axes) + 0.0 * spread)

    # --- exit --------------------------------------------------------------------------------
    def bounds(self, a: MidRad) -> tuple[np.ndarray, np.ndarray]:
        ok = self.finite(a)
        lo, hi = _bounds(a)
        return np.where(ok, lo, -np.inf), np.where(ok, hi, np.inf)

    def natives(self, a: MidRad) -> np.ndarray:
        from flint import arb

        out = np.empty(a.shape, dtype=object)
        flat = out.reshape(-1)
        for k, (m, r) in enumerate(zip(a.mid.reshape(-1).tolist(), a.rad.reshape(-1).tolist(), strict=True)):
            flat[k] = arb(m, r) if np.isfinite(m) and np.isfinite(r) else arb("nan")
        return out
