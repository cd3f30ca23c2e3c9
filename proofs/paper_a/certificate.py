r"""Certificates valid for EVERY step ``t >= T`` inside paper A's final phase F = ``1001``.

Setting (exponential loss ``L = 1/2 sum_i exp(-y_i Phi(x_i))``, GD step ``eta``). Write

    u = w1 + b1,   v = b2 - w2,   c1 = w1 - b1,   c2 = w2 + b2.

In F neuron 1 is active only at ``x1 = 1`` and neuron 2 only at ``x2 = -1``, so ``y1 Phi(x1) = u``,
``y2 Phi(x2) = v`` and ``L = (e^{-u} + e^{-v})/2``. The gradient step moves ``(w1, b1)`` by
``(eta/2) e^{-u} (1, 1)`` and ``(w2, b2)`` by ``(eta/2) e^{-v} (-1, 1)``, hence

    u <- u + eta e^{-u},   v <- v + eta e^{-v},   c1, c2 constant.

F is the set ``u > 0, c1 >= 0, c2 <= 0, v > 0`` (pre-activations ``z11 = u``, ``z12 = -c1``,
``z21 = c2``, ``z22 = v``; a pre-activation of exactly 0 is inactive); ``u, v`` increase and
``c1, c2`` stay, so F is forward-invariant and the recurrences hold for every later step.
Inverting: ``w1 = (u + c1)/2``, ``b1 = (u - c1)/2``, ``w2 = (c2 - v)/2``, ``b2 = (v + c2)/2``;
numerator ``N = b2 - b1 = (c1 + c2 + v - u)/2``, denominator ``D = w1 - w2 = (u + v + c1 - c2)/2``
(identities checked by :func:`symbolic_identities`).

**Closed-form band** (Lemma B). Let ``s = e^u``; the step is ``s <- s exp(eta/s)``. For every real
``s_0 > 0`` and every ``k >= 0`` (``s_k`` the k-th iterate):

* lower: ``e^x >= 1 + x`` with ``x = eta/s_k`` gives ``s_{k+1} >= s_k + eta``, so
  ``s_k >= s_0 + eta k``;
* upper (``k >= 1``): Taylor with Lagrange remainder, ``e^x <= 1 + x + x^2 e^x / 2`` for ``x >= 0``.
  ``s`` increases, so ``x_k = eta/s_k <= eta/s_0`` and, with ``E = e^{eta/s_0}``,
  ``s_{k+1} <= s_k + eta + eta^2 E / (2 s_k) <= s_k + eta + eta^2 E / (2 (s_0 + eta k))``.
  Summing ``k = 0 .. K-1`` and bounding the decreasing sum by ``1/s_0 + int_0^{K-1}``,
  ``sum_{k<K} 1/(s_0 + eta k) <= 1/s_0 + ln(1 + eta (K-1)/s_0)/eta``, so

      s_K <= s_0 + eta K + (eta E / 2) (eta/s_0 + ln(1 + eta (K - 1)/s_0)).

An enclosure ``[sigma_lo, sigma_hi]`` of ``s_T = e^{u_T}`` gives the band for ``t = T + K`` by taking
``sigma_lo`` in the lower bound and, since ``e^{eta/s}``, ``eta/s`` and ``ln(1 + eta(K-1)/s)`` are
non-increasing in ``s`` (``K >= 1``), ``sigma_hi`` in the leading term and ``sigma_lo`` in the
rest. With ``p = sigma_lo - eta T``, ``R = eta E_hi / 2`` (``E_hi >= e^{eta/sigma_lo}``) and
``P = sigma_hi - eta T + R eta / sigma_lo`` (all exact rationals):

    eta t + p  <=  s_t  <=  eta t + P + R ln(1 + eta (t - T - 1)/sigma_lo)        (t >= T + 1).

**Uniform "ln t + O(1)" form** (Lemma C). Fix ``T0 >= max(T + 1, 2)``. For every ``t >= T0``:

* ``ln(eta t + p) = ln t + ln(eta + p/t) >= ln t + lam``, ``lam = ln(eta + min(p, 0)/T0)``
  (if ``p >= 0`` then ``eta + p/t >= eta``; else ``p/t >= p/T0``; and
  ``eta + p/T0 = (sigma_lo + eta (T0 - T))/T0 > 0``);
* ``U(t)/t <= mu = eta + max(P, 0)/T0 + R ln(1 + eta T0/sigma_lo)/T0``, because
  ``ln(1 + eta(t-T-1)/sigma_lo) <= ln(1 + b t)`` with ``b = eta/sigma_lo`` and ``ln(1 + b t)/t`` is
  non-increasing (its derivative is ``(bt/(1+bt) - ln(1+bt))/t^2 <= 0``). So ``u_t <= ln t + Lam``,
  ``Lam = ln mu``.

Hence ``ln t + lam_u <= u_t <= ln t + Lam_u`` and likewise for ``v``, for all ``t >= T0``; ``lam`` and
``Lam`` both tend to ``ln eta`` as ``T0 -> oo``. Everything below follows from these four numbers:

* denominator: ``ln t + kappa_lo <= D_t <= ln t + kappa_hi`` with
  ``kappa_lo = (lam_u + lam_v + (c1 - c2)_lo)/2``, ``kappa_hi = (Lam_u + Lam_v + (c1 - c2)_hi)/2``;
  then ``a ln t <= D_t <= A ln t`` with ``a = 1 + min(kappa_lo, 0)/ln T0`` and
  ``A = 1 + max(kappa_hi, 0)/ln T0`` (``kappa/ln t`` is monotone in ``t`` with the sign of ``kappa``);
* ``|u_t - v_t| <= delta = max(Lam_v - lam_u, Lam_u - lam_v)`` (``-> 0`` as ``T0 -> oo``), so
  ``|N_t - (c1 + c2)/2| <= delta/2``: the numerator tends to ``(c1 + c2)/2``;
* kinks ``k1 = -b1/w1 = (c1 - u)/(u + c1)``, ``k2 = -b2/w2 = (v + c2)/(v - c2)``; as
  ``u + c1 = 2 w1 > 0`` and ``v - c2 = -2 w2 > 0``, ``k1 < k2  <=>  u v > -c1 c2``. In F ``u_t, v_t > 0``
  increase strictly, so once ``u_t v_t > -c1 c2`` it holds for ever: the degenerate interval has
  vanished. Then Phi is ``< 0`` left of ``k1``, linear with slope ``D > 0`` on ``(k1, k2)`` and ``> 0``
  right of ``k2``, with ``-1 <= k1 < k2 <= 1``: the boundary is the single point ``x* = N/D`` in
  ``(-1, 1)`` and ``gamma* - gamma = |x*| = |N|/D`` (``gamma* = 1``);
* margin deficit (``S = c1 + c2`` certified nonzero, ``|S|_lo > delta``): for
  ``t >= max(T0, T_deg)``, ``c / ln t <= gamma* - gamma <= C / ln t`` with
  ``c = (|S|_lo - delta)/(2A)``, ``C = (|S|_hi + delta)/(2a)``, and
  ``(gamma* - gamma) ln t`` lies in
  ``[(|S|_lo - delta)/2 * min(1, ln T0/(ln T0 + kappa_hi)), (|S|_hi + delta)/2 * max(1, ln T0/(ln T0 + kappa_lo))]``
  (``ln t/(ln t + kappa)`` is monotone in ``t`` towards 1). As ``T0 -> oo`` the bracket shrinks to
  ``|S|/2``: ``(gamma* - gamma) ln t -> |c1 + c2|/2``;
* direction: with ``e = theta*/|theta*| = (1, 1, -1, 1)/2``, ``<theta, e> = (u + v)/2`` and
  ``|theta|^2 = (u^2 + v^2 + c1^2 + c2^2)/2``, so the angle ``phi`` in ``[0, pi/2)`` has
  ``sin^2 phi = ((u - v)^2 + 2K) / (2(u^2 + v^2 + K))``, ``K = c1^2 + c2^2``. With
  ``r = 1 + min(lam, 0)/ln T0 > 0`` and ``R' = 1 + max(Lam, 0)/ln T0`` (so ``r ln t <= u <= R' ln t``):
  ``sin^2 phi ln^2 t <= (2K_hi + delta^2)/(2(r_u^2 + r_v^2)) =: D0^2`` and
  ``sin^2 phi ln^2 t >= K_lo/(R'_u^2 + R'_v^2 + K_hi/ln^2 T0) =: d^2``. From
  ``sin phi <= phi <= tan phi``: ``d/ln t <= phi_t <= (D0/sqrt(1 - D0^2/ln^2 T0))/ln t``, and
  ``phi_t ln t -> sqrt(K/2)``: Theta(1/ln t) when ``K > 0``.

Decisions use exact rationals (endpoints of arb enclosures, rounded outward); floats only print.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from verify.arith import Backend, Enclosure, get_backend
from verify.dynamics.trajectory import StepRecord, Trajectory
from verify.errors import InvalidArgument, UndecidableError
from verify.exact import to_exact

F_PATTERN = "1001"
SIG_DIGITS = 20  # constants are rounded outward to this many significant digits
MAX_DECADE = 1 << 20  # T0 is searched among 10^j, j up to this


class NotInF(InvalidArgument):
    """The state handed to a certificate is not certified in F (or the loss is not exponential)."""


# --- exact helpers ------------------------------------------------------------------------
def round_out(q: Fraction, up: bool, digits: int = SIG_DIGITS) -> Fraction:
    """``q`` rounded to ``digits`` significant decimal digits, up (``>= q``) or down (``<= q``)."""
    if q == 0:
        return Fraction(0)
    aq = abs(q)
    e = len(str(aq.numerator)) - len(str(aq.denominator))
    while Fraction(10) ** e > aq:
        e -= 1
    while Fraction(10) ** (e + 1) <= aq:
        e += 1
    scale = Fraction(10) ** (digits - 1 - e)
    x = q * scale
    n = -((-x.numerator) // x.denominator) if up else x.numerator // x.denominator
    return Fraction(n) / scale


def lo(x: Enclosure) -> Fraction:
    """Exact lower endpoint, rounded down to :data:`SIG_DIGITS` digits (still a valid bound)."""
    return round_out(x.lower, up=False)


def hi(x: Enclosure) -> Fraction:
    """Exact upper endpoint, rounded up to :data:`SIG_DIGITS` digits (still a valid bound)."""
    return round_out(x.upper, up=True)


def interval(be: Backend, a: Fraction, b: Fraction) -> Enclosure:
    """An enclosure of the real interval ``[a, b]`` (``a <= b``, exact rationals)."""
    return Enclosure.of(be, a).hull(Enclosure.of(be, b))


def ln_of(be: Backend, q: Fraction) -> Enclosure:
    """Enclosure of ``ln q`` for an exact rational ``q > 0``."""
    if q <= 0:
        raise UndecidableError(f"ln of a non-positive number {q}")
    with be.working_precision():
        return Enclosure.of(be, q).log()


def sqrt_of(x: Enclosure) -> Enclosure:
    """Enclosure of ``sqrt(x)`` for ``x`` certainly positive (``exp(ln(x)/2)``)."""
    if not (x > 0).certainly():
        raise UndecidableError(f"sqrt of a possibly non-positive enclosure {x!r}")
    return (x.log() / 2).exp()


def enc_str(x: Enclosure) -> str:
    """``"[lower, upper]"`` with the exact rational endpoints."""
    return f"[{x.lower}, {x.upper}]"


def endpoints(x: Fraction | Enclosure) -> tuple[Fraction, Fraction]:
    """``(x, x)`` for an exact rational, ``(lower, upper)`` for an enclosure."""
    return (x, x) if isinstance(x, Fraction) else (x.lower, x.upper)


def exact_str(x: Fraction | Enclosure) -> str:
    """An exact rational as ``"p/q"``, an enclosure as ``"[lower, upper]"``."""
    return str(x) if isinstance(x, Fraction) else enc_str(x)


# --- the state at step T -------------------------------------------------------------------
@dataclass(frozen=True)
class FState:
    """Enclosures of ``u_T, v_T, c1, c2`` at a step ``T`` certified in F, and the step size.

    Invariant: each enclosure contains the exact value of the exact GD trajectory at step ``T``
    (``c1, c2`` are conserved, so they hold for every ``t >= T``).
    """

    T: int
    eta: Fraction
    u: Enclosure
    v: Enclosure
    c1: Enclosure
    c2: Enclosure
    c_exact: tuple[Fraction, Fraction] | None = None  # the exact (c1, c2) when known (run in F from t = 0)

    def __post_init__(self) -> None:
        if isinstance(self.T, bool) or not isinstance(self.T, int) or self.T < 0:
            raise InvalidArgument("T", self.T, "must be a non-negative integer")
        object.__setattr__(self, "eta", to_exact(self.eta, "eta"))
        if self.eta <= 0:
            raise InvalidArgument("eta", str(self.eta), "must be > 0")

    @property
    def backend(self) -> Backend:
        return self.u.backend

    @classmethod
    def exact(cls, u: object, v: object, c1: object = 0, c2: object = 0, eta: object = "0.1", T: int = 0,
              backend: str | Backend = "arb", prec: int = 128) -> FState:
        """A state from exact rationals (``u, v`` need not be positive for the scalar bands)."""
        be = get_backend(backend, prec) if isinstance(backend, str) else backend
        c = (to_exact(c1, "c1"), to_exact(c2, "c2"))
        return cls(T, to_exact(eta, "eta"), Enclosure.of(be, u, "u"), Enclosure.of(be, v, "v"),
                   Enclosure.of(be, c[0]), Enclosure.of(be, c[1]), c)

    @classmethod
    def from_theta(cls, theta: Mapping[str, Enclosure], eta: object, T: int) -> FState:
        """From enclosures of ``w1, b1, w2, b2`` at step ``T`` (the caller certifies F)."""
        w1, b1, w2, b2 = (theta[n] for n in ("w1", "b1", "w2", "b2"))
        return cls(T, to_exact(eta, "eta"), w1 + b1, b2 - w2, w1 - b1, w2 + b2)

    def in_f(self) -> bool:
        """``u > 0, v > 0, c1 >= 0, c2 <= 0`` all certified (the definition of F)."""
        return all(t.certainly() for t in (self.u > 0, self.v > 0, self.c1 >= 0, self.c2 <= 0))

    def strings(self) -> dict[str, str]:
        return {"T": str(self.T), "eta": str(self.eta), "u_T": enc_str(self.u), "v_T": enc_str(self.v),
                "c1": enc_str(self.c1), "c2": enc_str(self.c2)}


def last_f_record(traj: Trajectory) -> StepRecord:
    """The last recorded step of a certified run, which must be in F."""
    if not traj.records:
        raise NotInF("trajectory", "empty", "has no recorded step")
    rec = traj.final
    if rec.pattern != F_PATTERN:
        raise NotInF("trajectory.final.pattern", rec.pattern, f"must be {F_PATTERN}")
    return rec


def state_from_trajectory(traj: Trajectory, record: StepRecord | None = None) -> FState:
    """The F state at ``record`` (default: the last recorded step, which must be in F).

    ``c1, c2``: when every certified step from 0 is in F they are the exact ``c1, c2`` of
    ``theta_0`` (conserved); otherwise the enclosures at ``record``.
    """
    if traj.problem.network.loss != "exponential":
        raise NotInF("loss", traj.problem.network.loss, "must be exponential for the F recurrences")
    rec = record if record is not None else last_f_record(traj)
    if rec.pattern != F_PATTERN:
        raise NotInF("record.pattern", rec.pattern, f"must be {F_PATTERN}")
    st = FState.from_theta(traj.enclosures(rec), traj.problem.eta, rec.t)
    if [p for _, p in traj.phases] == [F_PATTERN] and traj.phases[0][0] == 0:
        w1, b1, w2, b2 = traj.theta0
        be = traj.backend
        st = FState(st.T, st.eta, st.u, st.v, Enclosure.of(be, w1 - b1), Enclosure.of(be, w2 + b2),
                    (w1 - b1, w2 + b2))
    return st


# --- one scalar band -----------------------------------------------------------------------
@dataclass(frozen=True)
class ScalarBand:
    """Closed-form band (Lemma B) for ``x_t`` with ``x <- x + eta e^{-x}`` from an enclosure of ``x_T``.

    Exact rationals: ``sigma_lo <= e^{x_T} <= sigma_hi``, ``p``, ``P``, ``R`` as in the module
    docstring, so that ``eta t + p <= e^{x_t} <= eta t + P + R ln(1 + eta (t-T-1)/sigma_lo)``.
    """

    T: int
    eta: Fraction
    x_T: Enclosure
    sigma_lo: Fraction
    sigma_hi: Fraction
    p: Fraction
    P: Fraction
    R: Fraction

    @classmethod
    def of(cls, x_T: Enclosure, eta: Fraction, T: int) -> ScalarBand:
        be = x_T.backend
        with be.working_precision():
            sigma = x_T.exp()
            if not be.is_finite(sigma.value):
                raise UndecidableError(f"e^x_T = {sigma!r} is not finite at the working precision")
            s_lo, s_hi = sigma.lower, sigma.upper
            if not s_lo > 0:
                raise UndecidableError(f"e^x_T enclosure {sigma!r} does not exclude 0")
            E = Enclosure.of(be, eta / s_lo).exp()
            if not be.is_finite(E.value):  # e.g. eta = 1e400: e^(eta/sigma_lo) is past any exponent range
                raise UndecidableError(f"e^(eta/sigma_lo) = {E!r} is not finite at the working precision")
            E_hi = E.upper
        R = eta * E_hi / 2
        return cls(T, eta, x_T, s_lo, s_hi, s_lo - eta * T, s_hi - eta * T + R * eta / s_lo, R)

    @property
    def backend(self) -> Backend:
        return self.x_T.backend

    def s_lower(self, t: int) -> Fraction:
        """``eta t + p <= e^{x_t}`` (exact), ``t >= T``."""
        return self.eta * t + self.p

    def s_upper(self, t: int) -> Enclosure:
        """Enclosure of ``eta t + P + R ln(1 + eta (t - T - 1)/sigma_lo) >= e^{x_t}``, ``t >= T + 1``."""
        be = self.backend
        with be.working_precision():
            arg = Enclosure.of(be, self.eta * (t - self.T - 1) / self.sigma_lo)
            return arg.log1p() * self.R + (self.eta * t + self.P)

    def bounds(self, t: int) -> tuple[Fraction, Fraction]:
        """Exact ``lo <= x_t <= hi`` (endpoints of outward enclosures), ``t >= T``."""
        self._check_t(t)
        if t == self.T:
            return self.x_T.lower, self.x_T.upper
        low = max(ln_of(self.backend, self.s_lower(t)).lower, self.x_T.lower)  # x_t also increases
        with self.backend.working_precision():
            high = self.s_upper(t).log().upper
        return low, high

    def at(self, t: int) -> Enclosure:
        """Enclosure of ``x_t`` from the closed form, valid for every ``t >= T``."""
        return interval(self.backend, *self.bounds(t))

    def lam(self, T0: int) -> Fraction:
        """``lam(T0)``: ``x_t >= ln t + lam`` for every ``t >= T0`` (Lemma C)."""
        return lo(ln_of(self.backend, self.eta + min(self.p, Fraction(0)) / T0))

    def Lam(self, T0: int) -> Fraction:
        """``Lam(T0)``: ``x_t <= ln t + Lam`` for every ``t >= T0 >= T + 1`` (Lemma C)."""
        be = self.backend
        with be.working_precision():
            tail = Enclosure.of(be, self.eta * T0 / self.sigma_lo).log1p() * self.R / T0
            mu = tail + (self.eta + max(self.P, Fraction(0)) / T0)
            return hi(mu.log())

    def _check_t(self, t: int) -> None:
        if isinstance(t, bool) or not isinstance(t, int) or t < self.T:
            raise InvalidArgument("t", t, f"must be an integer >= T={self.T}")


# --- the constants at one T0 ---------------------------------------------------------------
@dataclass(frozen=True)
class Constants:
    """Explicit bounds valid for EVERY ``t >= T0`` (see the module docstring for the proofs).

    ``ln t + lam_x <= x_t <= ln t + Lam_x`` (x = u, v); ``ln t + kappa_lo <= w1 - w2 <= ln t + kappa_hi``
    and ``a ln t <= w1 - w2 <= A ln t``; ``|u_t - v_t| <= delta``; ``numerator_lo <= b2 - b1 <=
    numerator_hi``. When ``c1 + c2`` is certified nonzero and ``T0 >= T_deg``: ``c/ln t <= gamma* -
    gamma <= C/ln t`` and ``deficit_ln_lo <= (gamma* - gamma) ln t <= deficit_ln_hi``. When
    ``c1^2 + c2^2 > 0``: ``angle_lo/ln t <= angle(theta_t, theta*) <= angle_hi/ln t``. ``None``
    marks a bound whose hypotheses fail at this ``T0``.
    """

    T0: int
    lam_u: Fraction
    Lam_u: Fraction
    lam_v: Fraction
    Lam_v: Fraction
    kappa_lo: Fraction
    kappa_hi: Fraction
    a: Fraction | None
    A: Fraction
    delta: Fraction
    numerator_lo: Fraction
    numerator_hi: Fraction
    c: Fraction | None = None
    C: Fraction | None = None
    deficit_ln_lo: Fraction | None = None
    deficit_ln_hi: Fraction | None = None
    angle_lo: Fraction | None = None
    angle_hi: Fraction | None = None

    def strings(self) -> dict[str, str | None]:
        """Every constant as an exact string (``None`` stays ``None``)."""
        out: dict[str, str | None] = {}
        for name in self.__dataclass_fields__:
            val = getattr(self, name)
            out[name] = None if val is None else str(val)
        return out


@dataclass
class Certificate:
    """All-``t`` certificate built from an :class:`FState` at step ``T``.

    Invariant: for every integer ``t >= T``, :meth:`band` encloses the exact ``u_t, v_t`` of the
    GD trajectory; every derived enclosure and every :class:`Constants` is a consequence of it.
    """

    state: FState
    u_band: ScalarBand = field(init=False)
    v_band: ScalarBand = field(init=False)

    def __post_init__(self) -> None:
        st = self.state
        self.u_band = ScalarBand.of(st.u, st.eta, st.T)
        self.v_band = ScalarBand.of(st.v, st.eta, st.T)

    @property
    def backend(self) -> Backend:
        return self.state.backend

    @property
    def T(self) -> int:
        return self.state.T

    # --- fixed quantities -------------------------------------------------------------
    @property
    def S(self) -> Enclosure:
        """``c1 + c2`` (twice the numerator's limit); an exact point when ``c1, c2`` are known exactly."""
        if self.state.c_exact is not None:
            return Enclosure.of(self.backend, sum(self.state.c_exact, Fraction(0)))
        return self.state.c1 + self.state.c2

    @property
    def K(self) -> Enclosure:
        """``c1^2 + c2^2`` (``(angle ln t)^2 -> K/2``)."""
        if self.state.c_exact is not None:
            return Enclosure.of(self.backend, sum((q * q for q in self.state.c_exact), Fraction(0)))
        c1, c2 = self.state.c1, self.state.c2
        return c1 * c1 + c2 * c2

    def _exact_or(self, f: Callable[[Fraction, Fraction], Fraction], enc: Enclosure) -> Fraction | Enclosure:
        return f(*self.state.c_exact) if self.state.c_exact is not None else enc

    def numerator_limit(self) -> Fraction | Enclosure:
        """``lim b2 - b1 = (c1 + c2)/2`` (an exact Fraction when ``c1, c2`` are known exactly)."""
        return self._exact_or(lambda c1, c2: (c1 + c2) / 2, self.S / 2)

    def deficit_limit(self) -> Fraction | Enclosure:
        """``lim (gamma* - gamma) ln t = |c1 + c2|/2`` (exact Fraction when known exactly)."""
        return self._exact_or(lambda c1, c2: abs(c1 + c2) / 2, abs(self.S) / 2)

    def angle_limit_squared(self) -> Fraction | Enclosure:
        """``lim (angle ln t)^2 = (c1^2 + c2^2)/2`` (exact Fraction when known exactly)."""
        return self._exact_or(lambda c1, c2: (c1 * c1 + c2 * c2) / 2, self.K / 2)

    def s_nonzero(self) -> bool:
        """``c1 + c2 != 0`` certified."""
        return self.S.sign() in (1, -1)

    def k_positive(self) -> bool:
        """``c1^2 + c2^2 > 0`` certified."""
        return (self.K > 0).certainly()

    # --- enclosures at one t ------------------------------------------------------------
    def band(self, t: int) -> tuple[Enclosure, Enclosure]:
        """Enclosures of ``(u_t, v_t)`` from the closed form, ``t >= T``."""
        return self.u_band.at(t), self.v_band.at(t)

    def theta(self, t: int) -> dict[str, Enclosure]:
        """Enclosures of ``w1, b1, w2, b2`` at step ``t``."""
        u, v = self.band(t)
        c1, c2 = self.state.c1, self.state.c2
        return {"w1": (u + c1) / 2, "b1": (u - c1) / 2, "w2": (c2 - v) / 2, "b2": (v + c2) / 2}

    def numerator(self, t: int) -> Enclosure:
        """``b2 - b1 = (c1 + c2 + v - u)/2``."""
        u, v = self.band(t)
        return (self.S + v - u) / 2

    def denominator(self, t: int) -> Enclosure:
        """``w1 - w2 = (u + v + c1 - c2)/2``."""
        u, v = self.band(t)
        return (u + v + self.state.c1 - self.state.c2) / 2

    def boundary(self, t: int) -> Enclosure:
        """``x* = (b2 - b1)/(w1 - w2)``."""
        return self.numerator(t) / self.denominator(t)

    def deficit(self, t: int) -> Enclosure:
        """``gamma* - gamma(theta_t) = |x*|``; needs ``t >= T_deg`` (no degenerate interval)."""
        tdeg = self.degenerate_vanish_step()
        if tdeg is None or t < tdeg:
            raise UndecidableError(f"t={t} is not certified past the degenerate interval (T_deg={tdeg})")
        return abs(self.boundary(t))

    def sin2_angle(self, t: int) -> Enclosure:
        """``sin^2`` of the angle between ``theta_t`` and ``theta*``: ``((u-v)^2 + 2K)/(2(u^2+v^2+K))``."""
        u, v = self.band(t)
        d = u - v
        return (d * d + self.K * 2) / ((u * u + v * v + self.K) * 2)

    def angle_bounds(self, t: int) -> tuple[Fraction, Fraction]:
        """Exact ``lo <= angle(theta_t, theta*) <= hi`` from ``sin phi <= phi <= tan phi``."""
        s2 = self.sin2_angle(t)
        s = sqrt_of(s2)
        tan = sqrt_of(s2 / (1 - s2))
        return s.lower, tan.upper

    # --- the degenerate interval --------------------------------------------------------
    def kinks_ordered_at(self, k: int) -> bool:
        """Certified ``u_{T+k} v_{T+k} > -c1 c2`` from the lower bands (both lower bands positive)."""
        t = self.T + k
        ul, vl = self.u_band.bounds(t)[0], self.v_band.bounds(t)[0]
        if ul <= 0 or vl <= 0:
            return False
        return ul * vl > (-(self.state.c1 * self.state.c2)).upper

    def degenerate_vanish_step(self) -> int | None:
        """A step ``T_deg >= T`` with ``k1 < k2`` (no degenerate interval) for EVERY ``t >= T_deg``.

        Proof: ``k1 < k2 <=> u v > -c1 c2``; in F ``u_t, v_t > 0`` increase strictly, so ``u_t v_t``
        increases and the inequality, certified at ``T_deg`` from the lower bands, persists.
        Found by doubling then bisection on the certified predicate; ``None`` if no step up to
        ``T + 2^400`` is certified.
        """
        if "_tdeg" in self.__dict__:
            return self.__dict__["_tdeg"]
        result: int | None
        if self.kinks_ordered_at(0):
            result = self.T
        else:
            hi_k = 1
            while not self.kinks_ordered_at(hi_k) and hi_k < 1 << 400:
                hi_k *= 2
            if not self.kinks_ordered_at(hi_k):
                result = None
            else:
                lo_k = hi_k // 2  # not certified at lo_k (or lo_k = 0)
                while hi_k - lo_k > 1:
                    mid = (lo_k + hi_k) // 2
                    if self.kinks_ordered_at(mid):
                        hi_k = mid
                    else:
                        lo_k = mid
                result = self.T + hi_k
        self.__dict__["_tdeg"] = result
        return result

    # --- constants ----------------------------------------------------------------------
    def constants(self, T0: int) -> Constants:
        """The explicit bounds of :class:`Constants` for every ``t >= T0`` (``T0 >= max(T + 1, 2)``)."""
        if isinstance(T0, bool) or not isinstance(T0, int) or T0 < max(self.T + 1, 2):
            raise InvalidArgument("T0", T0, f"must be an integer >= max(T + 1, 2) = {max(self.T + 1, 2)}")
        be, st = self.backend, self.state
        lu, Lu = self.u_band.lam(T0), self.u_band.Lam(T0)
        lv, Lv = self.v_band.lam(T0), self.v_band.Lam(T0)
        cdiff = st.c1 - st.c2
        k_lo = round_out((lu + lv + cdiff.lower) / 2, up=False)
        k_hi = round_out((Lu + Lv + cdiff.upper) / 2, up=True)
        lnT0 = ln_of(be, Fraction(T0))
        with be.working_precision():
            a_enc = 1 + min(k_lo, Fraction(0)) / lnT0
            A_enc = 1 + max(k_hi, Fraction(0)) / lnT0
        a = lo(a_enc)
        a_ok: Fraction | None = a if a > 0 else None
        A = hi(A_enc)
        delta = max(Lv - lu, Lu - lv, Fraction(0))
        S = self.S
        num_lo = round_out((S.lower - delta) / 2, up=False)
        num_hi = round_out((S.upper + delta) / 2, up=True)
        out: dict[str, Any] = {}
        tdeg = self.degenerate_vanish_step()
        absS = abs(S)
        if self.s_nonzero() and a_ok is not None and tdeg is not None and T0 >= tdeg and absS.lower > delta:
            with be.working_precision():
                one = Enclosure.of(be, 1)
                m_lo = Enclosure.of(be, (absS.lower - delta) / 2)
                m_hi = Enclosure.of(be, (absS.upper + delta) / 2)
                out["c"] = lo(m_lo / A)
                out["C"] = hi(m_hi / a_ok)
                fac_lo = one if k_hi <= 0 else lnT0 / (lnT0 + k_hi)
                fac_hi = one if k_lo >= 0 else lnT0 / (lnT0 + k_lo)
                out["deficit_ln_lo"] = lo(m_lo * fac_lo)
                out["deficit_ln_hi"] = hi(m_hi * fac_hi)
        if self.k_positive():
            ru, rv = 1 + min(lu, Fraction(0)) / lnT0, 1 + min(lv, Fraction(0)) / lnT0
            Ru, Rv = 1 + max(Lu, Fraction(0)) / lnT0, 1 + max(Lv, Fraction(0)) / lnT0
            K = self.K
            if (ru > 0).certainly() and (rv > 0).certainly():
                with be.working_precision():
                    D0sq = (Enclosure.of(be, 2 * K.upper + delta * delta)) / ((ru * ru + rv * rv) * 2)
                    dsq = Enclosure.of(be, K.lower) / (Ru * Ru + Rv * Rv + Enclosure.of(be, K.upper) / (lnT0 * lnT0))
                    room = 1 - D0sq / (lnT0 * lnT0)
                    if (room > 0).certainly():
                        out["angle_lo"] = lo(sqrt_of(dsq))
                        out["angle_hi"] = hi(sqrt_of(D0sq / room))
        return Constants(T0, lu, Lu, lv, Lv, k_lo, k_hi, a_ok, A, round_out(delta, up=True), num_lo, num_hi, **out)

    def t0_candidates(self) -> Iterable[int]:
        """``max(T + 1, 2, T_deg)``, then the powers ``10^j`` above it (``j`` linear to 64, then doubling)."""
        tdeg = self.degenerate_vanish_step()
        start = max(self.T + 1, 2, tdeg if tdeg is not None else 0)
        yield start
        j = 1
        while j <= MAX_DECADE:
            if 10**j > start:
                yield 10**j
            j = j + 1 if j < 64 else 2 * j

    def choose_constants(self, *, margin: bool = True, angle: bool = True) -> Constants | None:
        """The first candidate ``T0`` at which ``a >= 1/2``, ``A <= 2`` and (when asked and the
        hypotheses ``c1 + c2 != 0`` / ``c1^2 + c2^2 > 0`` hold) the deficit and angle constants exist
        with ``delta <= |c1 + c2|_lo / 2``. ``None`` if no candidate qualifies."""
        want_margin = margin and self.s_nonzero()
        want_angle = angle and self.k_positive()
        half = Fraction(1, 2)
        for T0 in self.t0_candidates():
            k = self.constants(T0)
            if k.a is None or k.a < half or k.A > 2:
                continue
            if want_margin and (k.c is None or k.delta > abs(self.S).lower / 2):
                continue
            if want_angle and k.angle_lo is None:
                continue
            return k
        return None

    def ladder(self, count: int = 6, start_exp: int = 3) -> list[Constants]:
        """Constants at ``T0 = 10^(start_exp 2^i)``, ``i < count`` (each raised to the first candidate
        ``T0`` if smaller): the limit brackets shrink to the limits as ``T0`` grows."""
        first = next(iter(self.t0_candidates()))
        return [self.constants(max(10 ** (start_exp * 2**i), first)) for i in range(count)]


def certificate(traj_or_state: Trajectory | FState) -> Certificate:
    """The all-``t`` certificate of a trajectory (at its last step, which must be in F) or a state."""
    st = traj_or_state if isinstance(traj_or_state, FState) else state_from_trajectory(traj_or_state)
    return Certificate(st)


def band(traj_or_state: Trajectory | FState | Certificate, t: int) -> tuple[Enclosure, Enclosure]:
    """Enclosures of ``(u_t, v_t)`` from the closed-form band, valid for every ``t >= T``."""
    cert = traj_or_state if isinstance(traj_or_state, Certificate) else certificate(traj_or_state)
    return cert.band(t)


# --- cross-check by iteration ---------------------------------------------------------------
@dataclass(frozen=True)
class BandRow:
    """At step ``t``: the iterated enclosure and the closed-form band of ``u_t`` and ``v_t``."""

    t: int
    u_iter: Enclosure
    u_band: Enclosure
    v_iter: Enclosure
    v_band: Enclosure

    @property
    def inside(self) -> bool:
        """Iterated enclosures lie inside the bands (exact comparisons of rational endpoints)."""
        return all(b.lower <= x.lower and x.upper <= b.upper
                   for x, b in ((self.u_iter, self.u_band), (self.v_iter, self.v_band)))

    def strings(self) -> dict[str, str]:
        return {"t": str(self.t), "u_iter": enc_str(self.u_iter), "u_band": enc_str(self.u_band),
                "v_iter": enc_str(self.v_iter), "v_band": enc_str(self.v_band), "inside": str(self.inside)}


def iterate_band_check(state: FState, eta: object | None, t_max: int,
                       checkpoints: Iterable[int]) -> list[BandRow]:
    """Iterate ``u <- u + eta e^{-u}`` and ``v <- v + eta e^{-v}`` with arb balls from step ``T`` to
    ``t_max`` and compare with the closed-form band at each checkpoint in ``[T, t_max]``.

    ``eta`` (``None``: the state's) must equal the state's step size. The iterated balls contain
    the exact iterates (arb's containment guarantee); a row's ``inside`` is the exact check.
    """
    if eta is not None and to_exact(eta, "eta") != state.eta:
        raise InvalidArgument("eta", str(eta), f"must equal the state's eta={state.eta}")
    if isinstance(t_max, bool) or not isinstance(t_max, int) or t_max < state.T:
        raise InvalidArgument("t_max", t_max, f"must be an integer >= T={state.T}")
    cert = Certificate(state)
    be = state.backend
    marks = sorted({int(t) for t in checkpoints if state.T <= int(t) <= t_max})
    rows: list[BandRow] = []
    with be.working_precision():
        e = be.exact(state.eta)
        u, v = state.u.value, state.v.value
        t = state.T
        for mark in marks:
            while t < mark:
                u = u + e * be.exp(-u)
                v = v + e * be.exp(-v)
                t += 1
            ub, vb = cert.band(t)
            rows.append(BandRow(t, Enclosure(be, u), ub, Enclosure(be, v), vb))
    return rows


# --- symbolic identities ----------------------------------------------------------------------
def symbolic_identities() -> dict[str, bool]:
    """sympy check of the algebra used above (each entry simplifies to the claimed form)."""
    import sympy as sp

    u, v, c1, c2, eta = sp.symbols("u v c1 c2 eta", real=True)
    w1, b1, w2, b2 = (u + c1) / 2, (u - c1) / 2, (c2 - v) / 2, (v + c2) / 2
    L = (sp.exp(-(w1 + b1)) + sp.exp(-(b2 - w2))) / 2
    W1, B1, W2, B2 = sp.symbols("W1 B1 W2 B2", real=True)
    Lw = (sp.exp(-(W1 + B1)) + sp.exp(-(B2 - W2))) / 2  # F: y1 Phi(x1) = W1 + B1, y2 Phi(x2) = B2 - W2
    sub = {W1: w1, B1: b1, W2: w2, B2: b2}
    step = {n: (x - eta * sp.diff(Lw, X).subs(sub)) for n, x, X in (("w1", w1, W1), ("b1", b1, B1),
                                                                      ("w2", w2, W2), ("b2", b2, B2))}
    k1, k2 = -b1 / w1, -b2 / w2
    theta = sp.Matrix([w1, b1, w2, b2])
    e = sp.Matrix([1, 1, -1, 1]) / 2
    cos2 = (theta.dot(e)) ** 2 / theta.dot(theta)
    K = c1**2 + c2**2
    checks = {
        "inverse": sp.simplify(w1 + b1 - u) == 0 and sp.simplify(b2 - w2 - v) == 0
        and sp.simplify(w1 - b1 - c1) == 0 and sp.simplify(w2 + b2 - c2) == 0,
        "loss": sp.simplify(L - (sp.exp(-u) + sp.exp(-v)) / 2) == 0,
        "u_step": sp.simplify(step["w1"] + step["b1"] - (u + eta * sp.exp(-u))) == 0,
        "v_step": sp.simplify(step["b2"] - step["w2"] - (v + eta * sp.exp(-v))) == 0,
        "c_conserved": sp.simplify(step["w1"] - step["b1"] - c1) == 0
        and sp.simplify(step["w2"] + step["b2"] - c2) == 0,
        "numerator": sp.simplify(b2 - b1 - (c1 + c2 + v - u) / 2) == 0,
        "denominator": sp.simplify(w1 - w2 - (u + v + c1 - c2) / 2) == 0,
        # (k2 - k1) * (u + c1)(v - c2) = 2(u v + c1 c2): with both factors positive, k1 < k2 <=> u v > -c1 c2
        "kink_order": sp.simplify((k2 - k1) * (u + c1) * (v - c2) - 2 * (u * v + c1 * c2)) == 0,
        "sin2_angle": sp.simplify((1 - cos2) - ((u - v) ** 2 + 2 * K) / (2 * (u**2 + v**2 + K))) == 0,
        "theta_dot_e": sp.simplify(theta.dot(e) - (u + v) / 2) == 0,
        "theta_norm2": sp.simplify(theta.dot(theta) - (u**2 + v**2 + K) / 2) == 0,
    }
    x = sp.symbols("x", nonnegative=True)
    # e^x <= 1 + x + x^2 e^x / 2 for x >= 0: g(0) = 0 and g'(x) = x e^x (1 + x/2) - ... checked via series
    g = 1 + x + x**2 * sp.exp(x) / 2 - sp.exp(x)
    g1 = sp.simplify(sp.diff(g, x))
    # g' = 1 + x e^x + x^2 e^x/2 - e^x = 1 - e^x (1 - x - x^2/2) >= 0 since e^{-x} >= 1 - x >= 1 - x - x^2/2
    checks["taylor_upper"] = sp.simplify(g1 - (1 - sp.exp(x) * (1 - x - x**2 / 2))) == 0 and g.subs(x, 0) == 0
    return {k: bool(val) for k, val in checks.items()}
