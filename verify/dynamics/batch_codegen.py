"""Generate, compile and cache the batch backend's step kernels for one network shape.

These unrolled lane kernels are kept beside the matrix engine (:mod:`verify.dynamics.wide`) for
paper A's many tiny lanes, where they are the fastest certified engine: 0.77x the throughput of a
plain numpy float64 loop on 10,000 inits x 1,000 steps (``benchmarks/bench_batch.py``), where a
matrix step costs hundreds of microseconds of interpreter overhead per step.

For a problem, :func:`step_kernels` writes a small Python module with two numba functions:

* ``start(X, F, C, limit, changes)``: the forward pass of step 0 (pre-activations, certified
  pattern, exponent arguments) for every lane;
* ``advance(X, F, C, limit, changes)``: finish the previous step (enclose the exponentials that
  the exp pass, :func:`verify.dynamics.batch_kernel.exp_rows`, left in ``X``, update the
  parameters, check their widths), then the forward pass of the next step.

Both return ``(lanes whose pattern changed, lanes stopped)`` and count the changes per block in
``changes``.

Both loop over lanes with one straight-line, branch-free body, unrolled
for the shape the way :mod:`verify.dynamics.compile` unrolls the engine's step, so the compiler
keeps a lane in registers and vectorizes across lanes (8 doubles per AVX-512 instruction). The
body has no Python-level branch at all (no ``if``, ternary, ``and`` or ``or``): choices go through
:func:`verify.arith.f64.select`, a call the compiler inlines as a select, since every branch in
the source is a basic block for numba and thousands of them overflow its SSA pass.
Exact coefficients 0 and +-1 (data, output weights, labels) are folded into the code; every
other constant is an interval read from ``C``, so one kernel serves every step size and every
dataset of the same structure. Row indices come from :class:`~verify.dynamics.batch_layout.Layout`;
the arithmetic is that of :mod:`verify.arith.f64`; the mathematics is documented in
:mod:`verify.dynamics.batch`. The module also compiles the generic passes of
:mod:`verify.dynamics.batch_kernel` (``record``, ``settle``).

The module is written to a cache directory (``$VERIFY_KERNEL_CACHE``, else
``~/.cache/verify-mlt/kernels``) under a name hashing its source, which holds the status codes
and a digest of :mod:`verify.arith.f64`, so numba's on-disk cache never serves code compiled
against older arithmetic.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import numpy as np

from verify.arith import f64
from verify.dynamics import batch_kernel as bk
from verify.dynamics import batch_layout as bl
from verify.dynamics.batch_layout import BLOCK, Layout
from verify.errors import InvalidArgument
from verify.model.network import Problem

ONE, MINUS = "one", "minus"
KINDS = ("auto", "unrolled", "loops")
# The unrolled kernels grow like m * n * (d + 1); numba's compile time grows faster (measured on 2 cores:
# 72 terms 10 s, 160 terms 22 s, 288 terms 49 s, 576 terms > 15 min and 4 GB), so larger shapes use loops.
MAX_UNROLLED_TERMS = 256


def unrolled_size(problem: Problem) -> int:
    """``width x points x (d + 1)``: how many terms the unrolled step spells out."""
    return problem.network.width * problem.data.n * (problem.data.d + 1)

Pair = tuple[str, str]


class _Writer:
    """Source lines of one kernel function, with fresh temporaries and the constants table."""

    def __init__(self, consts: list[Fraction]) -> None:
        self.lines: list[str] = []
        self.consts = consts
        self.count = 0

    def emit(self, line: str) -> None:
        self.lines.append("            " + line)

    def fresh(self) -> Pair:
        self.count += 1
        return f"t{self.count}l", f"t{self.count}h"

    def coef(self, q: Fraction) -> str | int | None:
        """How the exact constant ``q`` enters the code: folded (None for 0, ONE, MINUS) or tabled."""
        if q == 0:
            return None
        if q in (1, -1):
            return ONE if q == 1 else MINUS
        return self.table(q)

    def table(self, q: Fraction) -> int:
        """The index of ``q`` in the constants table (its enclosure is ``C[2k], C[2k+1]``)."""
        if q not in self.consts:
            self.consts.append(q)
        return self.consts.index(q)

    def times(self, c: str | int | Pair | None, v: Pair) -> Pair | None:
        """``c * v`` for a folded or tabled constant ``c``, or a variable interval ``c``."""
        if c is None:
            return None
        if c == ONE:
            return v
        out = self.fresh()
        if c == MINUS:
            self.emit(f"{out[0]}, {out[1]} = -{v[1]}, -{v[0]}")
        elif isinstance(c, int):
            self.emit(f"{out[0]}, {out[1]} = mul(c{c}l, c{c}h, {v[0]}, {v[1]})")
        else:
            self.emit(f"{out[0]}, {out[1]} = mul({c[0]}, {c[1]}, {v[0]}, {v[1]})")
        return out

    def sum(self, terms: list[tuple[str | None, Pair | None]]) -> Pair:
        """``sum of term over the terms whose guard holds`` (guard ``None``: always)."""
        acc: Pair | None = None
        for guard, term in terms:
            if term is None:
                continue
            if acc is None:
                acc = self.fresh()
                if guard is None:
                    self.emit(f"{acc[0]}, {acc[1]} = {term[0]}, {term[1]}")
                else:
                    self.emit(f"{acc[0]}, {acc[1]} = pick({guard}, {term[0]}, {term[1]}, 0.0, 0.0)")
            elif guard is None:
                self.emit(f"{acc[0]}, {acc[1]} = add({acc[0]}, {acc[1]}, {term[0]}, {term[1]})")
            else:
                self.emit(f"{acc[0]}, {acc[1]} = add_if({guard}, {acc[0]}, {acc[1]}, {term[0]}, {term[1]})")
        return acc if acc is not None else ("0.0", "0.0")


def _param(q: int) -> Pair:
    return f"p{q}l", f"p{q}h"


def _x(row: int) -> str:
    """The flat index of this lane's ``X`` row (constant distance between rows: see batch_layout)."""
    return f"X[ox + {row * BLOCK} + lane]"


def _f(row: int) -> str:
    return f"F[of + {row * BLOCK} + lane]"


def _forward(wr: _Writer, problem: Problem, lay: Layout, first: bool) -> None:
    """Pre-activations, certified pattern, failure index, outputs and exponent arguments."""
    net, data = problem.network, problem.data
    m, n, d = lay.m, lay.n, lay.d
    undecided = []
    for j in range(m):
        for i in range(n):
            terms = [(None, _param(lay.b(j)))]
            terms += [(None, wr.times(wr.coef(data.X[i][k]), _param(lay.w(j, k)))) for k in range(d)]
            zl, zh = wr.sum(terms)
            wr.emit(f"z{j}_{i}l, z{j}_{i}h = {zl}, {zh}")
            wr.emit(f"a{j}_{i} = select(fr{j}, {_f(lay.sign0(j, i))} > 0, z{j}_{i}l > 0.0)")
            wr.emit(f"u{j}_{i} = (not fr{j}) & (not (((z{j}_{i}l > 0.0) & (z{j}_{i}h < INF)) | "
                    f"((z{j}_{i}h <= 0.0) & (z{j}_{i}l > -INF))))")
            undecided.append((j, i))
    wr.emit("und = " + " | ".join(f"u{j}_{i}" for j, i in undecided))
    wr.emit("fidx = -1.0")
    for j, i in reversed(undecided):
        wr.emit(f"fidx = select(u{j}_{i}, {float(j * n + i)}, fidx)")
    for i in range(n):
        terms = []
        for j in range(m):
            coef = _param(lay.a(j)) if lay.trains else wr.coef(net.output_weights[j])
            terms.append((f"a{j}_{i}", wr.times(coef, (f"z{j}_{i}l", f"z{j}_{i}h"))))
        ol, oh = wr.sum(terms)
        if data.y[i] > 0:
            wr.emit(f"{_x(lay.e(i))}, {_x(lay.span(i))} = -{oh}, up({oh} - {ol})")
        else:
            wr.emit(f"{_x(lay.e(i))}, {_x(lay.span(i))} = {ol}, up({oh} - {ol})")
        if lay.trains:
            for j in range(m):
                wr.emit(f"{_x(lay.z_lo(j, i))}, {_x(lay.z_hi(j, i))} = z{j}_{i}l, z{j}_{i}h")
    if first:
        wr.emit("chg = True")
    else:
        wr.emit("chg = " + " | ".join(f"(a{j}_{i} != o{j}_{i})" for j, i in undecided))


def _finish(wr: _Writer, problem: Problem, lay: Layout) -> None:
    """Widened exponentials, step factors ``G_i``, the update of every parameter, the width check."""
    net, data = problem.network, problem.data
    m, n, d = lay.m, lay.n, lay.d
    step = wr.table(problem.eta / n)
    for i in range(n):
        wr.emit(f"e{i}l, e{i}h = exp_span({_x(lay.e(i))}, {_x(lay.span(i))})")
        if net.loss == "logistic":
            wr.emit(f"e{i}l, e{i}h = logistic_weight(e{i}l, e{i}h)")
        wr.emit(f"g{i}l, g{i}h = mul_pos(e{i}l, e{i}h, c{step}l, c{step}h)")
    wr.emit("nf = " + " | ".join(f"(not (e{i}h < INF))" for i in range(n)))
    for j in range(m):
        wr.emit(f"on{j} = " + " | ".join(f"o{j}_{i}" for i in range(n)))
        a_j = _param(lay.a(j)) if lay.trains else wr.coef(net.output_weights[j])
        for k in range(d + 1):  # k < d: w_jk, whose coefficient is y_i x_ik; k == d: b_j, coefficient y_i
            q = lay.w(j, k) if k < d else lay.b(j)
            coefs = [Fraction(data.y[i]) * (data.X[i][k] if k < d else 1) for i in range(n)]
            g = wr.sum([(f"o{j}_{i}", wr.times(wr.coef(coefs[i]), (f"g{i}l", f"g{i}h"))) for i in range(n)])
            u = wr.times(a_j, g)
            if u is not None:
                wr.emit(f"p{q}l, p{q}h = add_if(on{j}, p{q}l, p{q}h, {u[0]}, {u[1]})")
        if lay.trains:  # after w_j, b_j: their update used the old a_j
            terms = []
            for i in range(n):
                gz = wr.fresh()
                wr.emit(f"{gz[0]}, {gz[1]} = mul(g{i}l, g{i}h, {_x(lay.z_lo(j, i))}, {_x(lay.z_hi(j, i))})")
                terms.append((f"o{j}_{i}", wr.times(wr.coef(Fraction(data.y[i])), gz)))
            g = wr.sum(terms)
            q = lay.a(j)
            wr.emit(f"p{q}l, p{q}h = add_if(on{j}, p{q}l, p{q}h, {g[0]}, {g[1]})")
        wr.emit(f"fr{j} = fr{j} & (not on{j})")
    wr.emit("wide = " + " | ".join(f"(not (p{q}h - p{q}l <= limit))" for q in range(lay.p)))


def _function(name: str, problem: Problem, lay: Layout, consts: list[Fraction],
              first: bool) -> tuple[list[str], list[str]]:
    """The header and the per-lane body of ``start`` (``first``) or ``advance``."""
    wr = _Writer(consts)
    for q in range(lay.p):
        wr.emit(f"p{q}l, p{q}h = {_x(lay.lo(q))}, {_x(lay.hi(q))}")
    for j in range(lay.m):
        wr.emit(f"fr{j} = {_f(lay.frozen(j))} != 0")
    wr.emit(f"live = {_f(lay.alive)} != 0")
    if not first:
        for j in range(lay.m):
            for i in range(lay.n):
                wr.emit(f"o{j}_{i} = {_f(lay.act(j, i))} != 0")
        _finish(wr, problem, lay)
    _forward(wr, problem, lay, first)
    if first:
        wr.emit(f"code = select(und, {bl.AMBIGUOUS}, {bl.COMPLETE})")
    else:
        wr.emit(f"code = select(nf, {bl.NONFINITE}, select(wide, {bl.TOO_WIDE}, "
                f"select(und, {bl.AMBIGUOUS}, {bl.COMPLETE})))")
    wr.emit(f"stop = live & (code != {bl.COMPLETE})")
    wr.emit(f"{_f(lay.status)} = select(stop, code, {_f(lay.status)})")
    wr.emit(f"live = live & (code == {bl.COMPLETE})")
    wr.emit(f"{_f(lay.alive)} = live")
    for q in range(lay.p):  # a lane stopped here is parked by the settle pass before the next step
        wr.emit(f"{_x(lay.lo(q))}, {_x(lay.hi(q))} = p{q}l, p{q}h")
    for j in range(lay.m):
        wr.emit(f"{_f(lay.frozen(j))} = fr{j}")
        for i in range(lay.n):
            wr.emit(f"{_f(lay.act(j, i))} = a{j}_{i}")
    wr.emit(f"{_x(lay.fail_at)} = fidx")
    wr.emit("chg = chg & live")
    wr.emit(f"{_f(lay.changed)} = chg")
    wr.emit("block_changed += chg")
    wr.emit("n_stopped += stop")
    head = [
        "@njit(cache=True, nogil=True)",
        f"def {name}(X, F, C, limit, changes):  # pragma: no cover - generated",
        f"    blocks = X.shape[0] // {lay.x_rows * BLOCK}",
        "    n_changed = 0",
        "    n_stopped = 0",
    ]
    return head, wr.lines


def kernel_source(problem: Problem) -> tuple[str, list[Fraction]]:
    """The generated module's source and its table of exact constants (entered via ``C``)."""
    net, data = problem.network, problem.data
    lay = Layout(net.width, data.n, data.d, net.trains_output)
    consts: list[Fraction] = []
    parts = []
    for name, first in (("start", True), ("advance", False)):
        head, body = _function(name, problem, lay, consts, first)
        loads = [f"    c{k}l, c{k}h = C[{2 * k}], C[{2 * k + 1}]" for k in range(len(consts))]
        loop = ["    for block in range(blocks):", f"        ox = block * {lay.x_rows * BLOCK}",
                f"        of = block * {lay.f_rows * BLOCK}", "        block_changed = 0",
                f"        for lane in range({BLOCK}):"]
        tail = ["        changes[block] = block_changed", "        n_changed += block_changed",
                "    return n_changed, n_stopped"]
        parts.append("\n".join(head + loads + loop + body + tail))
    title = (f"width {lay.m}, {lay.n} points in R^{lay.d}, {'trained' if lay.trains else 'fixed'} output layer, "
             f"{net.loss} loss")
    return _module_source(title, parts), consts


def loops_source() -> str:
    """The loop kernels' module (one for every shape): :mod:`verify.dynamics.batch_loops` and the passes."""
    from verify.dynamics import batch_loops as lp

    return _module_source("loop kernels for any shape",
                          [inspect.getsource(f) for f in (lp.start, lp.advance, lp._step, lp._finish, lp._forward)])


def _module_source(title: str, functions: list[str]) -> str:
    """A kernel module: imports, the constants it relies on (status codes, ``BLOCK``, the header fields),
    ``functions`` and the generic passes of :mod:`verify.dynamics.batch_kernel`, all compiled with
    numba's disk cache."""
    from verify.dynamics.batch_loops import C_DATA, C_LOSS

    digest = hashlib.sha256(inspect.getsource(f64).encode()).hexdigest()[:16]
    names = ("COMPLETE", "AMBIGUOUS", "NONFINITE", "TOO_WIDE", "BLOCK", "DONE", "NEED_ROOM", "DIVERGING", "ALL_STOPPED",
             *bl.HEADER_NAMES)
    constants = "".join(f"{name} = {getattr(bl, name)}\n" for name in names) + f"C_LOSS = {C_LOSS}\nC_DATA = {C_DATA}\n"
    header = (
        f'"""Generated by verify.dynamics.batch_codegen: {title} (verify.arith.f64 {digest})."""\n\n'
        "import math\n\n"
        "import numpy as np\n"
        "from numba import njit\n\n"
        "from verify.arith.f64 import add, add_if, div_int, exp_array, exp_span, log1p, logistic_weight, mul, "
        "mul_pos, pick, select, up\n\n"
        "INF = np.inf\n" + constants + "\n\n"
    )
    parts = functions + [inspect.getsource(getattr(bk, name)) for name in bk.PASSES]
    parts = [part.replace("@njit(nogil=True)", "@njit(cache=True, nogil=True)") for part in parts]
    return header + "\n\n\n".join(parts) + "\n"


def _cache_dir() -> Path:
    root = os.environ.get("VERIFY_KERNEL_CACHE")
    path = Path(root) if root else Path.home() / ".cache" / "verify-mlt" / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, delete=True)
        probe.close()
    except OSError:
        path = Path(tempfile.gettempdir()) / f"verify-mlt-kernels-{os.getuid() if hasattr(os, 'getuid') else 0}"
        path.mkdir(parents=True, exist_ok=True)
    return path


@lru_cache(maxsize=64)
def _load(source: str) -> ModuleType:
    name = "verify_kernel_" + hashlib.sha256(source.encode()).hexdigest()[:20]
    path = _cache_dir() / f"{name}.py"
    if not path.exists() or path.read_text() != source:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            fh.write(source)
        os.replace(tmp, path)  # atomic: concurrent workers never read half a file
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    from verify.distributed.executors import new_code_loaded

    new_code_loaded()  # warm worker pools forked before this would load it again, each: fork afresh
    return module


@dataclass(frozen=True)
class Kernels:
    """A problem's compiled step kernels, the constants they read, and the state layout they expect."""

    module: ModuleType  # start, advance, record, settle
    C: np.ndarray
    layout: Layout
    unrolled: bool


@lru_cache(maxsize=16)  # generating the source costs tens of ms: once per problem and process
def step_kernels(problem: Problem, kind: str = "auto") -> Kernels:
    """The compiled kernels for ``problem``: unrolled for its shape (``"unrolled"``), or the loop
    kernels (``"loops"``); ``"auto"`` unrolls up to :data:`MAX_UNROLLED_TERMS` terms."""
    if kind not in KINDS:
        raise InvalidArgument("kernel", kind, f"must be one of {list(KINDS)}")
    net, data = problem.network, problem.data
    if kind == "unrolled" or (kind == "auto" and unrolled_size(problem) <= MAX_UNROLLED_TERMS):
        source, consts = kernel_source(problem)
        table = np.array([v for q in consts for v in f64.enclose(q)] or [0.0])
        return Kernels(_load(source), table, Layout(net.width, data.n, data.d, net.trains_output), True)
    lay = Layout(net.width, data.n, data.d, net.trains_output, keep_z=True)
    flat = [v for row in data.X for v in row]
    values = [*(f64.enclose(v)[0] for v in flat), *(f64.enclose(v)[1] for v in flat), *map(float, data.y)]
    weights = net.output_weights or (Fraction(0),) * net.width
    values += [f64.enclose(a)[0] for a in weights] + [f64.enclose(a)[1] for a in weights]
    values += list(f64.enclose(problem.eta / data.n))
    table = np.array([*lay.header(), float(net.loss == "logistic"), *values])
    return Kernels(_load(loops_source()), table, lay, False)
