"""Paper A's algebra, derived with sympy (computed here, never typed in).

Objects (see ``/work/shared/SETTING.md``, paper A):

* network ``Phi(theta; x) = relu(w1 x + b1) - relu(w2 x + b2)``, ``theta = (w1, b1, w2, b2)``;
* data ``(x1, y1) = (1, +1)``, ``(x2, y2) = (-1, -1)``;
* loss ``L = 1/2 sum_i exp(-y_i Phi(x_i))``; GD ``theta <- theta - eta grad L`` with ``relu'(0) = 0``;
* pre-activations ``z11 = w1 + b1``, ``z12 = -w1 + b1``, ``z21 = w2 + b2``, ``z22 = -w2 + b2``; an
  activation pattern is the 4 bits ``[z11 > 0][z12 > 0][z21 > 0][z22 > 0]`` (``"1001"`` = F).

Inside a pattern every ``relu`` is either the identity or 0, so ``L`` is smooth there and its
gradient (with ``relu'(0) = 0`` on the boundary, which the inactive branch already encodes) is
the gradient of the pattern's smooth loss. Everything below follows from that by ``sympy``:

* :func:`pattern_update` -- the GD update per pattern;
* :func:`preactivation_changes` -- ``z_ij(theta') - z_ij(theta)`` per pattern and its sign
  (``+1``, ``-1`` or ``0``; ``None`` if sympy cannot decide);
* :func:`transition_graph` -- edge ``P -> Q`` iff every bit that differs can flip given the
  sign of change of that pre-activation in ``P`` (a *necessary* condition for a GD step);
* :func:`final_phase_facts` -- in F: ``c1 = w1 - b1``, ``c2 = w2 + b2`` are unchanged,
  ``u = w1 + b1`` and ``v = b2 - w2`` obey ``u <- u + eta e^{-u}``, ``v <- v + eta e^{-v}``,
  numerator ``b2 - b1 = (c1 + c2 + v - u)/2`` and denominator ``w1 - w2 = (u + v + c1 - c2)/2``;
* :func:`monotonicity_facts` -- ``f(x) = x + eta e^{-x}`` is increasing iff ``eta e^{-x} < 1``;
  with ``eta < e^{min(u0, v0)}`` the gap ``v - u`` keeps its sign and shrinks in absolute value,
  so ``|b2 - b1|`` converges monotonically to ``|c1 + c2|/2`` (lemma ``lem:monotone_limit``);
* :func:`fb_density` -- the density ``f_B`` of ``|w1(0) + w2(0)|/2`` for ``w1, w2`` iid
  ``N(0, sigma^2)`` conditioned on ``w1(0) > 0 > w2(0)`` (Figure 3).

:func:`regenerate` writes ``derived.md`` and ``derived.json`` next to this file; run
``python -m proofs.paper_a.derivations``. Those files are generated: never edit them by hand.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import sympy as sp

W1, B1, W2, B2 = sp.symbols("w1 b1 w2 b2", real=True)
ETA = sp.Symbol("eta", positive=True)
THETA = (W1, B1, W2, B2)
PARAM_NAMES = ("w1", "b1", "w2", "b2")
XS = (1, -1)
YS = (1, -1)
OUT = (1, -1)  # fixed output weights
PREACT_NAMES = ("z11", "z12", "z21", "z22")  # neuron-major: neuron j at point i
PATTERNS: tuple[str, ...] = tuple("".join(bits) for bits in itertools.product("01", repeat=4))
FINAL = "1001"
HERE = Path(__file__).resolve().parent


def preactivations(theta: tuple[Any, ...] = THETA) -> tuple[Any, ...]:
    """``(z11, z12, z21, z22)`` with ``z_ji = w_j x_i + b_j`` (neuron-major, as patterns)."""
    w1, b1, w2, b2 = theta
    return tuple(w * x + b for (w, b) in ((w1, b1), (w2, b2)) for x in XS)


def pattern_loss(pattern: str) -> sp.Expr:
    """The smooth loss of a pattern: ``1/2 sum_i exp(-y_i Phi_P(x_i))`` with each relu replaced by
    the identity (bit 1) or 0 (bit 0)."""
    z = preactivations()
    total = sp.Integer(0)
    for i, (_x, y) in enumerate(zip(XS, YS, strict=True)):
        phi = sum(OUT[j] * (z[2 * j + i] if pattern[2 * j + i] == "1" else 0) for j in range(2))
        total += sp.exp(-y * phi)
    return total / 2


@cache
def pattern_update(pattern: str) -> tuple[sp.Expr, ...]:
    """``theta - eta * grad L_P(theta)``: the exact GD update of ``theta`` inside pattern ``P``."""
    loss = pattern_loss(pattern)
    return tuple(sp.simplify(p - ETA * sp.diff(loss, p)) for p in THETA)


def _sign(expr: sp.Expr) -> int | None:
    if expr == 0:
        return 0
    if expr.is_positive:
        return 1
    if expr.is_negative:
        return -1
    return None


@cache
def preactivation_changes(pattern: str) -> tuple[tuple[sp.Expr, int | None], ...]:
    """For each of ``z11, z12, z21, z22``: ``(z(theta') - z(theta), its sign)`` inside ``P``."""
    new = preactivations(pattern_update(pattern))
    old = preactivations()
    out = []
    for zn, zo in zip(new, old, strict=True):
        delta = sp.simplify(zn - zo)
        out.append((delta, _sign(delta)))
    return tuple(out)


def can_step(p: str, q: str) -> bool:
    """Necessary condition for one GD step to go from pattern ``p`` to ``q``: a bit ``1 -> 0`` needs
    a certainly negative change of its pre-activation in ``p``, a bit ``0 -> 1`` a positive one
    (an undecided sign allows both)."""
    changes = preactivation_changes(p)
    for k in range(4):
        if p[k] == q[k]:
            continue
        sign = changes[k][1]
        if sign is None:
            continue
        if p[k] == "1" and sign >= 0:
            return False
        if p[k] == "0" and sign <= 0:
            return False
    return True


@cache
def transition_graph() -> dict[str, frozenset[str]]:
    """Pattern -> the set of patterns one GD step can reach (self included)."""
    return {p: frozenset(q for q in PATTERNS if can_step(p, q)) for p in PATTERNS}


def absorbing_patterns() -> tuple[str, ...]:
    """Patterns with no edge out except the self-loop."""
    return tuple(p for p, succ in transition_graph().items() if succ == {p})


def final_phase_facts() -> dict[str, Any]:
    """The F = 1001 algebra, each fact a sympy identity checked to simplify to 0.

    Keys: ``conserved`` (``c1' - c1``, ``c2' - c2``), ``u_update`` / ``v_update`` (the residual of
    ``u' = u + eta e^{-u}``, ``v' = v + eta e^{-v}``), ``numerator`` / ``denominator`` (residuals of
    the identities). Every residual must be 0; ``all_hold`` says whether they are.
    """
    w1n, b1n, w2n, b2n = pattern_update(FINAL)
    c1, c2 = W1 - B1, W2 + B2
    u, v = W1 + B1, B2 - W2
    c1n, c2n = w1n - b1n, w2n + b2n
    un, vn = w1n + b1n, b2n - w2n
    res = {
        "c1_change": sp.simplify(c1n - c1),
        "c2_change": sp.simplify(c2n - c2),
        "u_update_residual": sp.simplify(un - (u + ETA * sp.exp(-u))),
        "v_update_residual": sp.simplify(vn - (v + ETA * sp.exp(-v))),
        "numerator_residual": sp.simplify((B2 - B1) - (c1 + c2 + v - u) / 2),
        "denominator_residual": sp.simplify((W1 - W2) - (u + v + c1 - c2) / 2),
    }
    # F is absorbing: z12 and z21 are inactive in F and their change there is exactly 0.
    changes = preactivation_changes(FINAL)
    res["z12_change_in_F"] = changes[1][0]
    res["z21_change_in_F"] = changes[2][0]
    return {
        "residuals": res,
        "all_hold": all(r == 0 for r in res.values()),
        "u_map": sp.Symbol("u") + ETA * sp.exp(-sp.Symbol("u")),
        "v_map": sp.Symbol("v") + ETA * sp.exp(-sp.Symbol("v")),
    }


def monotonicity_facts() -> dict[str, Any]:
    """Lemma ``lem:monotone_limit`` in the form the checker uses.

    ``f(x) = x + eta e^{-x}``; ``f'(x) = 1 - eta e^{-x}``; the solution set of ``f' > 0`` is
    ``x > log(eta)``, i.e. ``eta e^{-x} < 1``. With ``u0, v0 > log(eta)`` (``eta < e^{min(u0, v0)}``)
    both sequences only grow (``f(x) - x = eta e^{-x} > 0``), so they stay in the region where
    ``f`` is increasing: the order of ``u`` and ``v`` is preserved (``f(v) - f(u) = int_u^v f' > 0``)
    and the gap shrinks (``(f(v) - f(u)) - (v - u) = eta (e^{-v} - e^{-u})``, negative for
    ``v > u`` since ``d/dx e^{-x} = -e^{-x} < 0``). Hence ``v - u`` keeps its sign, ``|v - u|``
    decreases, and ``b2 - b1 = (c1 + c2 + v - u)/2`` moves monotonically towards ``(c1 + c2)/2``.
    """
    x, u, v = sp.symbols("x u v", real=True)
    f = x + ETA * sp.exp(-x)
    fprime = sp.diff(f, x)
    increasing_set = sp.solve_univariate_inequality(fprime > 0, x, relational=False)
    if isinstance(increasing_set, sp.Interval):  # -log(1/eta) -> log(eta)
        increasing_set = increasing_set.func(sp.expand_log(increasing_set.start, force=True), *increasing_set.args[1:])
    step_gain = sp.simplify(f - x)
    gap_change = sp.simplify((f.subs(x, v) - f.subs(x, u)) - (v - u))
    exp_decreasing = (sp.diff(sp.exp(-x), x)).is_negative
    return {
        "f": f,
        "f_prime": fprime,
        "increasing_set": increasing_set,
        "increasing_iff": sp.Lt(ETA * sp.exp(-x), 1),
        "step_gain": step_gain,
        "step_gain_positive": bool(step_gain.is_positive),
        "gap_change": gap_change,
        "exp_neg_decreasing": bool(exp_decreasing),
        "criterion": sp.Lt(ETA, sp.exp(sp.Min(u, v))),
        "numerator_limit": (sp.Symbol("c1") + sp.Symbol("c2")) / 2,
    }


@cache
def fb_density() -> tuple[sp.Symbol, sp.Symbol, sp.Expr]:
    """``(z, sigma, f_B(z))``: density of ``Z = |w1 + w2|/2`` given ``w1 > 0 > w2``,
    ``w1, w2`` iid ``N(0, sigma^2)``.

    Given the event, ``A = w1`` and ``B = -w2`` are iid half-normal; ``w1 + w2 = A - B`` whose
    density at ``s >= 0`` is ``int_s^oo f_A(a) f_B(a - s) da`` (symmetric in ``s``); then
    ``|A - B|`` doubles it and ``Z = |A - B|/2`` rescales. Integrated by sympy.
    """
    a, s, z = sp.symbols("a s z", nonnegative=True)
    sigma = sp.Symbol("sigma", positive=True)
    half_normal = sp.sqrt(2) / (sigma * sp.sqrt(sp.pi)) * sp.exp(-a**2 / (2 * sigma**2))
    diff_density = sp.integrate(half_normal * half_normal.subs(a, a - s), (a, s, sp.oo))
    abs_density = 2 * diff_density
    fz = sp.simplify(2 * abs_density.subs(s, 2 * z))
    return z, sigma, fz


def fb_normalisation() -> sp.Expr:
    """``int_0^oo f_B(z) dz`` computed by sympy (must be 1)."""
    z, _sigma, fz = fb_density()
    return sp.simplify(sp.integrate(fz, (z, 0, sp.oo)))


SIGMA2 = {"he": sp.Integer(2), "xavier": sp.Rational(2, 3)}  # Var(w) for d = 1, m = 2


def fb_callable(sigma2: object = 2) -> Callable[[Any], Any]:
    """Numeric ``f_B`` for plots (vectorised over numpy arrays; floats, never for decisions)."""
    z, sigma, fz = fb_density()
    expr = fz.subs(sigma, sp.sqrt(sp.sympify(sigma2)))
    return sp.lambdify(z, expr, modules=["scipy", "numpy"])


@cache
def convergence_probability(scheme: str) -> sp.Rational:
    """``P(z11(0) > 0 and z22(0) > 0)`` for an init of ``scheme`` (d = 1, m = 2): the probability that GD
    converges (the convergence-basin claim: GD reaches small loss iff ``w1 + b1 > 0`` and ``b2 - w2 > 0``).

    Zero-bias Gaussian schemes (he, xavier): ``P(w1 > 0) P(w2 < 0)`` with ``w_j ~ N(0, s^2)``. PyTorch's
    default: ``w_j, b_j`` iid ``U(-1, 1)`` (fan-in 1), ``P(w1 + b1 > 0) P(b2 - w2 > 0)``. Integrated by sympy.
    """
    w, b = sp.symbols("w b", real=True)
    if scheme in ("he", "xavier", "normal"):
        s = sp.Symbol("s", positive=True)
        gauss = sp.exp(-w**2 / (2 * s**2)) / (s * sp.sqrt(2 * sp.pi))
        half = sp.integrate(gauss, (w, 0, sp.oo))
        if scheme == "normal":  # w, b iid N(0, 1): P(w + b > 0) = P(N(0, 2) > 0)
            half = sp.integrate(gauss.subs(s, sp.sqrt(2)), (w, 0, sp.oo))
        return sp.nsimplify(sp.simplify(half * half))
    if scheme == "pytorch":
        density = sp.Rational(1, 4)  # uniform on [-1, 1]^2
        p = sp.integrate(sp.integrate(density, (b, -w, 1)), (w, -1, 1))
        return sp.nsimplify(p * p)
    raise ValueError(f"scheme={scheme!r} has no derived convergence probability")


def _sign_str(s: int | None) -> str:
    return {1: "+", -1: "-", 0: "0", None: "?"}[s]


def summary() -> dict[str, Any]:
    """JSON-ready summary of every derivation (sympy expressions as strings)."""
    graph = transition_graph()
    patterns = {}
    for p in PATTERNS:
        upd = pattern_update(p)
        ch = preactivation_changes(p)
        patterns[p] = {
            "update": {n: str(e) for n, e in zip(PARAM_NAMES, upd, strict=True)},
            "preactivation_change": {n: str(d) for n, (d, _) in zip(PREACT_NAMES, ch, strict=True)},
            "sign": {n: _sign_str(s) for n, (_, s) in zip(PREACT_NAMES, ch, strict=True)},
            "successors": sorted(graph[p]),
        }
    ff = final_phase_facts()
    mf = monotonicity_facts()
    z, sigma, fz = fb_density()
    return {
        "patterns": patterns,
        "absorbing": list(absorbing_patterns()),
        "final_phase": {
            "residuals": {k: str(v) for k, v in ff["residuals"].items()},
            "all_hold": ff["all_hold"],
            "u_map": str(ff["u_map"]),
            "v_map": str(ff["v_map"]),
        },
        "monotonicity": {k: str(v) for k, v in mf.items()},
        "f_B": {
            "density": str(fz),
            "normalisation": str(fb_normalisation()),
            "he_sigma2_2": str(sp.simplify(fz.subs(sigma, sp.sqrt(SIGMA2["he"])))),
            "xavier_sigma2_2_3": str(sp.simplify(fz.subs(sigma, sp.sqrt(SIGMA2["xavier"])))),
        },
        "convergence_probability": {scheme: str(convergence_probability(scheme))
                                    for scheme in ("he", "xavier", "pytorch", "normal")},
    }


def _markdown(data: dict[str, Any]) -> str:
    lines = [
        "# Paper A: derived facts",
        "",
        "<!-- GENERATED by `python -m proofs.paper_a.derivations`; do not edit by hand. -->",
        "",
        "Network `Phi = relu(w1 x + b1) - relu(w2 x + b2)`, data (1, +1), (-1, -1),",
        "loss `L = 1/2 sum exp(-y_i Phi(x_i))`, GD with `relu'(0) = 0`.",
        "",
        "## Change of each pre-activation per pattern",
        "",
        "| pattern | dz11 | dz12 | dz21 | dz22 | signs | successors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p, info in data["patterns"].items():
        ch = info["preactivation_change"]
        signs = "".join(info["sign"][n] for n in PREACT_NAMES)
        lines.append(
            f"| `{p}` | `{ch['z11']}` | `{ch['z12']}` | `{ch['z21']}` | `{ch['z22']}` | `{signs}` | "
            + " ".join(f"`{q}`" for q in info["successors"]) + " |"
        )
    ff = data["final_phase"]
    lines += [
        "",
        f"Absorbing patterns (no edge out but the self-loop): {', '.join('`' + p + '`' for p in data['absorbing'])}.",
        "",
        "## Final phase F = 1001",
        "",
        f"All identities hold (residuals simplify to 0): **{ff['all_hold']}**.",
        "",
        "| identity | residual |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | `{v}` |" for k, v in ff["residuals"].items()]
    lines += ["", f"u <- `{ff['u_map']}`, v <- `{ff['v_map']}`.", "", "## Monotonicity (lem:monotone_limit)", ""]
    lines += [f"- {k}: `{v}`" for k, v in data["monotonicity"].items()]
    fb = data["f_B"]
    lines += [
        "",
        "## Figure 3 density f_B of |w1(0) + w2(0)|/2 given w1(0) > 0 > w2(0)",
        "",
        f"- f_B(z) = `{fb['density']}` (z >= 0), normalisation `{fb['normalisation']}`",
        f"- He (sigma^2 = 2): `{fb['he_sigma2_2']}`",
        f"- Xavier (sigma^2 = 2/3): `{fb['xavier_sigma2_2_3']}`",
        "",
        "## Convergence probability P(z11(0) > 0, z22(0) > 0) per init scheme",
        "",
        *(f"- {scheme}: `{p}`" for scheme, p in data["convergence_probability"].items()),
        "",
        "## JSON",
        "",
        "See `derived.json` (same data).",
        "",
    ]
    return "\n".join(lines)


def regenerate(directory: Path | None = None) -> tuple[Path, Path]:
    """Write ``derived.md`` and ``derived.json`` (deterministic) and return their paths."""
    out = directory or HERE
    data = summary()
    md, js = out / "derived.md", out / "derived.json"
    md.write_text(_markdown(data))
    js.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return md, js


if __name__ == "__main__":
    for path in regenerate():
        print(f"wrote {path}")
