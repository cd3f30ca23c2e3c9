"""A box of two-layer ReLU networks (every parameter in an interval), certified for *all* its members.

A certified training run knows the exact iterate only through enclosures, so a claim about "the
trained network" must hold for every network in the box. Representation (exact rationals over
common denominators): ``W = Wc +- Wr`` (entrywise, radius >= 0) over ``w_den``; ``b = bc +- br`` over
``b_den``; ``v in [vlo, vhi]`` over ``v_den``.

At the points ``X = Xnum / x_den`` every pre-activation lies in ``Pc +- Pr`` with the exact integers

    Pc = (Xnum @ Wc^T) b_den + bc x_den w_den,   Pr = (|Xnum| @ Wr^T) b_den + br x_den w_den,

over ``p_den = x_den w_den b_den``; relu is monotone, and v_j relu(.) is bounded by the corner
products, so ``N(x)`` lies in an exact rational interval ``[L, U]`` containing the output of every
member. A sign is certified only when the whole interval is on one side of 0.

* :meth:`BoxNet.signs`: per point +1 (y N > 0 for every member), -1 (y N < 0 for every member), 0 (undecided).
* :class:`BoxFlipOracle`: the universal perturbation z = q u of Theorem 4.2 against every member; the
  centre is affine in q and the radius is bounded by ``Pr + q |Wr| |u|`` (triangle inequality: sound).
* :func:`box_lower_bounds`: the sound radius lower bound of :mod:`proofs.paper_b.radius` for every
  member: a neuron with v_j >= 0 on the whole box counts at the low end of its pre-activation and
  the low end of y v_j; any other at the high end with the most negative y v_j; and
  c_j >= max over the box of ||w_j||.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from proofs.paper_b.data import ClusterModel, ClusterSample
from proofs.paper_b.intmath import int_matmul, sqrt_bracket
from proofs.paper_b.net import TwoLayerNet, _common, _exact_list, _is_numeric_array, dyadic_common
from proofs.paper_b.radius import first_zero
from verify.errors import InvalidArgument


def _obj(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=object)


@dataclass(frozen=True, eq=False)
class BoxNet:
    """Every N with W in Wc +- Wr, b in bc +- br, v in [vlo, vhi] (see the module docstring)."""

    Wc: np.ndarray
    Wr: np.ndarray
    w_den: int
    bc: np.ndarray
    br: np.ndarray
    b_den: int
    vlo: np.ndarray
    vhi: np.ndarray
    v_den: int

    @classmethod
    def from_intervals(cls, W_lo: object, W_hi: object, b_lo: object, b_hi: object, v_lo: object,
                       v_hi: object) -> BoxNet:
        """From exact-like interval ends (floats at their exact value), entrywise ``lo <= hi``."""
        arrays = (W_lo, W_hi, b_lo, b_hi, v_lo, v_hi)
        if all(_is_numeric_array(a) for a in arrays) and np.ndim(W_lo) == 2 and np.size(W_lo):
            return cls._from_float_arrays(*arrays)
        Wl = np.asarray(W_lo, dtype=object)
        if Wl.ndim != 2 or Wl.shape[0] < 1 or Wl.shape[1] < 1:
            raise InvalidArgument("width", Wl.shape, "W must be a non-empty (m, d) matrix (width >= 1)")
        m, d = Wl.shape
        wl, wh = _exact_list(W_lo, "W_lo"), _exact_list(W_hi, "W_hi")
        bl, bh = _exact_list(b_lo, "b_lo"), _exact_list(b_hi, "b_hi")
        vl, vh = _exact_list(v_lo, "v_lo"), _exact_list(v_hi, "v_hi")
        for name, lo, hi, size in (("W", wl, wh, m * d), ("b", bl, bh, m), ("v", vl, vh, m)):
            if len(lo) != size or len(hi) != size:
                raise InvalidArgument(name, (len(lo), len(hi)), f"interval ends must have {size} entries")
            if any(a > b for a, b in zip(lo, hi, strict=True)):
                raise InvalidArgument(name, "lo > hi", "interval ends must satisfy lo <= hi")
        wnum, wden = _common([(a + b) / 2 for a, b in zip(wl, wh, strict=True)]
                             + [(b - a) / 2 for a, b in zip(wl, wh, strict=True)])
        bnum, bden = _common([(a + b) / 2 for a, b in zip(bl, bh, strict=True)]
                             + [(b - a) / 2 for a, b in zip(bl, bh, strict=True)])
        vnum, vden = _common(vl + vh)
        return cls(wnum[: m * d].reshape(m, d), wnum[m * d:].reshape(m, d), wden, bnum[:m], bnum[m:], bden,
                   vnum[:m], vnum[m:], vden)

    @classmethod
    def _from_float_arrays(cls, W_lo, W_hi, b_lo, b_hi, v_lo, v_hi) -> BoxNet:
        """The fast exact path for numpy float/int arrays (dyadic numerators, no Fractions)."""
        m, d = np.shape(W_lo)
        for name, lo, hi, shape in (("W", W_lo, W_hi, (m, d)), ("b", b_lo, b_hi, (m,)), ("v", v_lo, v_hi, (m,))):
            if np.shape(lo) != shape or np.shape(hi) != shape:
                raise InvalidArgument(name, (np.shape(lo), np.shape(hi)), f"interval ends must have shape {shape}")
            if np.any(np.asarray(lo) > np.asarray(hi)):
                raise InvalidArgument(name, "lo > hi", "interval ends must satisfy lo <= hi")
        (wl, wh), wden = dyadic_common(W_lo, W_hi)
        (bl, bh), bden = dyadic_common(b_lo, b_hi)
        (vl, vh), vden = dyadic_common(v_lo, v_hi)
        # centre (lo + hi) / 2 and radius (hi - lo) / 2 over twice the denominator: exact
        return cls(_obj(wl) + _obj(wh), _obj(wh) - _obj(wl), 2 * wden, _obj(bl) + _obj(bh), _obj(bh) - _obj(bl),
                   2 * bden, vl, vh, vden)

    @classmethod
    def point(cls, net: TwoLayerNet) -> BoxNet:
        """The degenerate box holding only ``net``."""
        z = np.zeros_like(np.asarray(net.Wnum))
        return cls(net.Wnum, z, net.w_den, net.bnum, np.zeros_like(np.asarray(net.bnum)), net.b_den,
                   net.vnum, net.vnum, net.v_den)

    @property
    def width(self) -> int:
        return int(self.Wc.shape[0])

    @property
    def dim(self) -> int:
        return int(self.Wc.shape[1])

    def center(self) -> TwoLayerNet:
        """The centre network (v at the middle of its interval)."""
        vmid = [Fraction(int(a) + int(b), 2 * self.v_den) for a, b in zip(self.vlo, self.vhi, strict=True)]
        vn, vd = _common(vmid)
        return TwoLayerNet(self.Wc, self.w_den, self.bc, self.b_den, vn, vd)

    def preact_box(self, Xnum: np.ndarray, x_den: int) -> tuple[np.ndarray, np.ndarray, int]:
        """(Pc, Pr, p_den): every member's pre-activations lie in (Pc +- Pr) / p_den."""
        if np.asarray(Xnum).shape[1] != self.dim:
            raise InvalidArgument("X", np.asarray(Xnum).shape, f"must have d={self.dim} columns")
        pc = _obj(int_matmul(Xnum, np.asarray(self.Wc).T)) * self.b_den + _obj(self.bc)[None, :] * (x_den * self.w_den)
        absx = np.abs(np.asarray(Xnum))
        pr = _obj(int_matmul(absx, np.asarray(self.Wr).T)) * self.b_den + _obj(self.br)[None, :] * (x_den * self.w_den)
        return pc, pr, x_den * self.w_den * self.b_den

    def output_box(self, pc: np.ndarray, pr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Numerators [L, U] (over p_den * v_den) of N from pre-activation boxes."""
        lo, hi = pc - pr, pc + pr
        rlo = np.where(lo > 0, lo, 0)
        rhi = np.where(hi > 0, hi, 0)
        vlo, vhi = _obj(self.vlo)[None, :], _obj(self.vhi)[None, :]
        tmin = np.where(vlo >= 0, vlo * rlo, vlo * rhi)
        tmax = np.where(vhi >= 0, vhi * rhi, vhi * rlo)
        return tmin.sum(axis=1), tmax.sum(axis=1)

    def signs(self, Xnum: np.ndarray, x_den: int, y: list[int] | tuple[int, ...]) -> np.ndarray:
        """Per point: +1 if y N(x) > 0 for every member, -1 if < 0 for every member, else 0."""
        pc, pr, _ = self.preact_box(Xnum, x_den)
        lo, hi = self.output_box(pc, pr)
        yy = np.asarray(y, dtype=object)
        ylo = np.where(yy > 0, lo, -hi)
        yhi = np.where(yy > 0, hi, -lo)
        return np.where(ylo > 0, 1, np.where(yhi < 0, -1, 0)).astype(np.int64)

    def w_norm_upper(self, bits: int = 64) -> list[Fraction]:
        """Rationals >= max over the box of ||w_j|| (from |Wc| + Wr entrywise)."""
        big = np.abs(_obj(self.Wc)) + _obj(self.Wr)
        return [sqrt_bracket(Fraction(int(s), self.w_den**2), bits)[1] for s in (big * big).sum(axis=1)]


@dataclass(frozen=True)
class ErrorCount:
    """Test errors of every member of a box: certified correct, certified wrong, undecided."""

    n: int
    correct: int
    wrong: int
    undecided: int

    @property
    def errors_upper(self) -> int:
        """An upper bound on the error count of every member (undecided points counted as errors)."""
        return self.wrong + self.undecided


def count_errors(box: BoxNet, sample: ClusterSample) -> ErrorCount:
    """Certified error count of every network in ``box`` on ``sample``."""
    s = box.signs(sample.Xint, sample.denominator, sample.y)
    return ErrorCount(sample.n, int((s == 1).sum()), int((s == -1).sum()), int((s == 0).sum()))


@dataclass(frozen=True, eq=False)
class BoxFlipOracle:
    """Flips of z = (qnum / 2**qbits) u certified for every member of a box (see the module docstring)."""

    box: BoxNet
    pc: np.ndarray
    pr: np.ndarray
    cnum: np.ndarray  # Wc u, over w_den
    dnum: np.ndarray  # Wr |u|, over w_den
    y: np.ndarray
    x_b_den: int

    @classmethod
    def build(cls, box: BoxNet, model: ClusterModel, sample: ClusterSample) -> BoxFlipOracle:
        pc, pr, _ = box.preact_box(sample.Xint, sample.denominator)
        u = np.asarray(model.u).reshape(-1, 1)
        cnum = _obj(int_matmul(np.asarray(box.Wc), u))[:, 0]
        dnum = _obj(int_matmul(np.asarray(box.Wr), np.abs(u)))[:, 0]
        return cls(box, pc, pr, cnum, dnum, np.asarray(sample.y, dtype=object), sample.denominator * box.b_den)

    def flips(self, qnum: int, qbits: int = 40) -> np.ndarray:
        """Mask: y N(x - y z) < 0 for every member of the box."""
        scale = 1 << qbits
        pc = self.pc * scale - np.outer(self.y * (qnum * self.x_b_den), self.cnum)
        pr = self.pr * scale + np.outer(np.ones(len(self.y), dtype=object) * (qnum * self.x_b_den), self.dnum)
        lo, hi = self.box.output_box(pc, pr)
        yhi = np.where(self.y > 0, hi, -lo)
        return np.asarray(yhi < 0, dtype=bool)


def box_lower_bounds(box: BoxNet, Xnum: np.ndarray, x_den: int, y: list[int] | tuple[int, ...],
                     bits: int = 64) -> list[Fraction | None]:
    """A radius r* per point such that no ||delta|| < r* flips sign N(x + delta) for any member."""
    pc, pr, pden = box.preact_box(Xnum, x_den)
    c = box.w_norm_upper(bits)
    out = []
    for i in range(pc.shape[0]):
        p, s = [], []
        for j in range(box.width):
            vlo, vhi = Fraction(int(box.vlo[j]), box.v_den), Fraction(int(box.vhi[j]), box.v_den)
            slo = min(y[i] * vlo, y[i] * vhi)
            if slo >= 0:  # y v_j >= slo >= 0 on the whole box: the low end of the pre-activation
                p.append(Fraction(int(pc[i, j] - pr[i, j]), pden))
            else:  # the high end, weighted by the most negative y v_j
                p.append(Fraction(int(pc[i, j] + pr[i, j]), pden))
            s.append(slo)
        out.append(first_zero(p, c, s))
    return out
