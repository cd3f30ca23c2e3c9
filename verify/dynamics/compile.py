"""Compile one certified GD step of a given network shape to straight-line Python.

Kept for the tiniest networks only (paper A): :func:`verify.dynamics.gd.run_gd` uses it up to
:data:`~verify.dynamics.gd.COMPILED_MAX_TERMS` terms and the matrix step of
:mod:`verify.dynamics.step` beyond, because there the matrix step is faster and this one does not
scale (its source grows like ``width x points x d``: 2.4 s for 20 steps at m = 16, d = 64,
n = 64 and a ``RecursionError`` at m = 32, d = 128, n = 128). Measured in
``benchmarks/bench_wide.py`` (c), per step on Arb at 128 bits: paper A (2 neurons, 2 points in R)
10 us against 182 us for the matrix step; m = 4, d = 4, n = 8: 127 us against 245 us; at
m = 16, d = 64, n = 64 the matrix step is 42x faster (b).

The interpreter-level loops over neurons, points and coordinates cost more than the
ball arithmetic itself for small networks, so :func:`compile_step` unrolls them for
the problem's shape and folds its exact constants: a coefficient of +1 / -1 becomes an
addition / subtraction, a 0 disappears, anything else is a product with an exact
enclosure. The arithmetic performed is the one documented in :mod:`verify.dynamics.gd`;
only the bookkeeping is generated. The source is kept on the function
(``step.source``) so it can be read and tested.

The generated ``step(P, frozen, exact_sign, t)`` takes the flat parameter enclosures
``P`` (order of :meth:`Network.param_names`), the per-neuron frozen flags (updated in
place), the exact initial signs, and the step number. It returns
``(P_next, mask, active, expo)``: the next parameters, the pattern as a bitmask
(neuron-major, first bit most significant), the activity flags, and the enclosures of
``exp(-y_i N(x_i))``. It raises :class:`Ambiguous` when a sign is undecided.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from verify.arith.base import Backend
from verify.model.network import Problem


class Ambiguous(Exception):
    """The sign of a pre-activation (or the finiteness of a value) is undecided."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"step {step}: {what}")
        self.step = step
        self.what = what


class _Emitter:
    """Source lines plus the exact constants they refer to."""

    def __init__(self, backend: Backend) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, object] = {}
        self.backend = backend

    def emit(self, line: str, depth: int = 1) -> None:
        self.lines.append("    " * depth + line)

    def const(self, q: Fraction) -> str:
        name = f"C{len(self.consts)}"
        self.consts[name] = self.backend.exact(q)
        return name

    def scaled(self, coef: Fraction | str, expr: str) -> str | None:
        """Source of ``coef * expr``; ``None`` when the coefficient is exactly 0."""
        if isinstance(coef, str):
            return f"{coef} * {expr}"
        if coef == 0:
            return None
        if coef == 1:
            return expr
        if coef == -1:
            return f"-{expr}"
        return f"{self.const(coef)} * {expr}"

    def plus(self, base: str, coef: Fraction | str, expr: str) -> str:
        """Source of ``base + coef * expr``."""
        src = self.scaled(coef, expr)
        if src is None:
            return base
        return f"{base} - {src[1:]}" if src.startswith("-") else f"{base} + {src}"

    def accumulate(self, target: str, terms: list[tuple[str, Fraction | str, str]], depth: int) -> None:
        """``target = sum of coef * expr over terms whose guard holds`` (0 when none)."""
        first = True
        for guard, coef, expr in terms:
            src = self.scaled(coef, expr)
            if src is None:
                continue
            if first:
                self.emit(f"{target} = {src} if {guard} else ZERO", depth)
                first = False
            elif src.startswith("-"):
                self.emit(f"if {guard}: {target} = {target} - {src[1:]}", depth)
            else:
                self.emit(f"if {guard}: {target} = {target} + {src}", depth)
        if first:
            self.emit(f"{target} = ZERO", depth)


def compile_step(problem: Problem, backend: Backend) -> Callable:
    """Generate and compile the step function for ``problem`` on ``backend``'s natives."""
    net, data = problem.network, problem.data
    m, n, d = net.width, data.n, data.d
    X, y = data.X, data.y
    trains = net.trains_output
    e = _Emitter(backend)
    names = [f"p{k}" for k in range(net.n_params)]
    w = [[names[net.neuron_slice(j).start + k] for k in range(d)] for j in range(m)]
    b = [names[net.neuron_slice(j).stop - 1] for j in range(m)]
    a: list[Fraction | str] = [names[net.output_index(j)] for j in range(m)] if trains else list(net.output_weights)
    e.emit("def step(P, frozen, exact_sign, t):", 0)
    e.emit(f"{', '.join(names)}, = P")
    # forward: pre-activations and certified signs
    for j in range(m):
        for i in range(n):
            z = b[j]
            for k in range(d):
                z = e.plus(z, X[i][k], w[j][k])
            e.emit(f"z{j}_{i} = {z}")
    for j in range(m):
        e.emit(f"if frozen[{j}]:")
        for i in range(n):
            e.emit(f"a{j}_{i} = exact_sign[{j}][{i}] > 0", 2)
        e.emit("else:")
        for i in range(n):
            e.emit(f"s = sign(z{j}_{i})", 2)
            e.emit("if s is None:", 2)
            e.emit(f"raise Ambiguous(t, 'sign of pre-activation of neuron {j + 1} at x_{i + 1}')", 3)
            e.emit(f"a{j}_{i} = s > 0", 2)
    bits = [f"a{j}_{i}" for j in range(m) for i in range(n)]
    e.emit("mask = " + " | ".join(f"({bit} << {len(bits) - 1 - k})" for k, bit in enumerate(bits)))
    # outputs, losses and the step factors G_i = (eta / n) * (-l'(y_i N_i))
    for i in range(n):
        e.accumulate(f"o{i}", [(f"a{j}_{i}", a[j], f"z{j}_{i}") for j in range(m)], 1)
        e.emit(f"e{i} = exp({'-' if y[i] > 0 else ''}o{i})")
        dl = f"e{i} / (1 + e{i})" if net.loss == "logistic" else f"e{i}"
        e.emit(f"G{i} = {dl} * STEP" if net.loss != "logistic" else f"G{i} = ({dl}) * STEP")
    # backward, neuron by neuron, with the old output weights
    out = list(names)
    for j in range(m):
        any_active = " or ".join(f"a{j}_{i}" for i in range(n))
        e.emit(f"if {any_active}:")
        e.emit(f"frozen[{j}] = False", 2)
        e.accumulate("g", [(f"a{j}_{i}", Fraction(y[i]), f"G{i}") for i in range(n)], 2)
        e.emit(f"n{b[j]} = {e.plus(b[j], a[j], 'g')}", 2)
        for k in range(d):
            e.accumulate("g", [(f"a{j}_{i}", y[i] * X[i][k], f"G{i}") for i in range(n)], 2)
            e.emit(f"n{w[j][k]} = {e.plus(w[j][k], a[j], 'g')}", 2)
        if trains:
            e.accumulate("g", [(f"a{j}_{i}", Fraction(y[i]), f"G{i} * z{j}_{i}") for i in range(n)], 2)
            e.emit(f"n{a[j]} = {a[j]} + g", 2)
        e.emit("else:")
        params = [b[j], *w[j]] + ([a[j]] if trains else [])
        e.emit("; ".join(f"n{p} = {p}" for p in params), 2)
    out = [f"n{p}" for p in names]
    active = ", ".join(f"({', '.join(f'a{j}_{i}' for i in range(n))},)" for j in range(m))
    e.emit(f"return [{', '.join(out)}], mask, ({active},), ({', '.join(f'e{i}' for i in range(n))},)")
    source = "\n".join(e.lines) + "\n"
    namespace = dict(e.consts)
    namespace.update(
        ZERO=backend.exact(Fraction(0)),
        STEP=backend.exact(problem.eta / n),
        sign=backend.sign,
        exp=backend.kernel("exp"),  # the step runs inside the backend's working precision
        Ambiguous=Ambiguous,
    )
    exec(compile(source, f"<gd step {m}x{d}, n={n}, {net.loss}>", "exec"), namespace)  # noqa: S102
    step = namespace["step"]
    step.source = source
    return step
