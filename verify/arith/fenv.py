"""The floating-point environment the float64 engines rely on, checked at run time.

Every float64 enclosure in :mod:`verify.arith.f64` and :mod:`verify.arith.midrad` is proved under
three assumptions about the running process:

1. **round-to-nearest** (IEEE 754 ``roundTiesToEven``), the default mode;
2. **gradual underflow**: subnormal results are kept (no flush-to-zero, FTZ) and subnormal operands
   are read as they are (no denormals-are-zero, DAZ). A library compiled with fast-math can set
   FTZ/DAZ for the whole process; then ``2^-1000 * 2^-40`` is 0 and a "certified" interval
   ``[0, 0]`` can miss a true value of about ``1e-313``;
3. the library ``exp`` (``numpy.exp``) and ``log1p`` (libm's) are within
   :data:`verify.arith.f64.LIBM_ULPS` ulps of the true value (the batch kernels' own ``exp``,
   :func:`verify.arith.f64.exp_array`, is proved within that bound, and checked here too).

:func:`float64_environment` tests 1 and 2 with a handful of operations whose results differ under
every other rounding mode and under FTZ or DAZ, in numpy's vectorized loops, in numba-compiled
code, and in the BLAS (products large enough to run on every BLAS thread, since each thread has
its own control register). It is run before every float64 run (in every worker process, as the
register is per thread and per process): about 0.1 ms, the BLAS part once per process. :func:`libm_accuracy` tests
3 against Arb on fixed arguments across the whole range, once per process (the libraries do not
change while a process runs). Both return ``None`` when the assumption holds, else the reason;
:func:`require_float64` raises :class:`UnsafeFloatEnvironment` with it, which the engines turn into
an escalation to Arb (whose arithmetic does not depend on the floating-point environment).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from verify.arith import f64
from verify.errors import VerifyError

TINY = 2.0**-1074
BLAS_PROBE = 64  # the BLAS probe's inner dimension: its products are large enough for OpenBLAS's threads


class UnsafeFloatEnvironment(VerifyError):
    """The process's floating-point environment breaks an assumption of the float64 engines."""


def _bits(*exponents_and_mantissas: tuple[int, int]) -> np.ndarray:
    """Doubles ``m * 2^e`` built from their bit patterns, not by arithmetic, so that a broken
    environment cannot change them (under directed rounding, ``2.0 ** -1070`` is computed by ``pow``)."""
    words = []
    for e, m in exponents_and_mantissas:  # m in [1, 2) as a 52-bit fraction, or a subnormal
        words.append(((e + 1023) << 52 | m) if e >= -1022 else (1 << (e + 1074)))
    return np.array(words, dtype=np.uint64).view(np.float64)


_EXPECTED = _bits((-1040, 0), (-1010, 0), (0, 1))  # 2^-1040, 2^-1010, 1 + 2^-52


def _same(values, expected) -> bool:
    """Bit-for-bit equality (a float comparison would itself read subnormals as 0 under DAZ)."""
    a = np.asarray(values, dtype=np.float64)
    return bool((a.view(np.uint64) == np.asarray(expected, dtype=np.float64).view(np.uint64)).all())


def _arithmetic_reason(prod_tiny: float, daz: float, up1: float, down1: float, tie: float) -> str | None:
    """The assumption violated, judged from five results (see :func:`_probe_values`)."""
    if not _same(prod_tiny, _EXPECTED[0]):
        return "flush-to-zero (FTZ) is set: a subnormal product came out as 0"
    if not _same(daz, _EXPECTED[1]):
        return "denormals-are-zero (DAZ) is set: a subnormal operand was read as 0"
    if not (_same(up1, _EXPECTED[2]) and _same(down1, -_EXPECTED[2]) and _same(tie, PROBE_ARGS[4])):
        return "the rounding mode is not round-to-nearest"
    return None


def _probe_values(a: np.ndarray) -> tuple[float, float, float, float, float]:
    """From ``a = [2^-1000, 2^-40, 2^-1070, 2^60, 1, 3 * 2^-54, 2^-54]`` (run-time values, so
    nothing is folded at compile time): a subnormal product, a subnormal operand scaled to a
    normal result, ``1 + 3 * 2^-54`` (nearest: ``1 + 2^-52``; down or toward zero: 1),
    ``-1 - 3 * 2^-54`` (nearest: ``-1 - 2^-52``; up or toward zero: -1), ``1 + 2^-54``
    (nearest: 1; up: ``1 + 2^-52``)."""
    return a[0] * a[1], a[2] * a[3], a[4] + a[5], -a[4] - a[5], a[4] + a[6]


_probe_numba = njit(_probe_values)


# 2^-1000, 2^-40, 2^-1070 (subnormal), 2^60, 1, 3 * 2^-54 = 1.5 * 2^-53, 2^-54
PROBE_ARGS = _bits((-1000, 0), (-40, 0), (-1070, 0), (60, 0), (0, 0), (-53, 1 << 51), (-54, 0))


def _numpy_reason() -> str | None:
    a = np.broadcast_to(PROBE_ARGS, (64, PROBE_ARGS.size)).copy()  # vectorized loops, not scalar code
    cols = (a[:, 0] * a[:, 1], a[:, 2] * a[:, 3], a[:, 4] + a[:, 5], -a[:, 4] - a[:, 5], a[:, 4] + a[:, 6])
    want = (_EXPECTED[0], _EXPECTED[1], _EXPECTED[2], -_EXPECTED[2], PROBE_ARGS[4])
    if all(_same(c, np.full(c.shape, w)) for c, w in zip(cols, want, strict=True)):
        return None
    for values in zip(*(c.tolist() for c in cols), strict=True):  # which assumption: the first failing one
        reason = _arithmetic_reason(*values)
        if reason:
            return reason
    return "numpy's vectorized arithmetic does not round to nearest with subnormals"


@lru_cache(maxsize=1)
def _blas_reason() -> str | None:
    """Products computed by the BLAS, large enough to run on every BLAS thread (each has its own
    control register): subnormal products (0 under FTZ), subnormal operands (0 under DAZ), and
    two-term dot products whose rounding differs between round-to-nearest and every other mode
    (``1 + 3 * 2^-54``, ``-1 - 3 * 2^-54`` and ``1 + 2^-54``, as in :func:`_probe_values`)."""
    k = BLAS_PROBE  # (2k x k) times (k x 2k): 2^19 multiply-adds, past OpenBLAS's threading threshold
    p530, p1054, p1070, p60, p1004 = _bits((-530, 0), (-1054, 0), (-1070, 0), (60, 0), (-1004, 0)).tolist()
    if not _same(np.full((2 * k, k), p530) @ np.full((k, 2 * k), p530), p1054):  # 2^6 products of 2^-1060
        return "the BLAS flushes subnormal results to zero (FTZ on a BLAS thread)"
    if not _same(np.full((2 * k, k), p1070) @ np.full((k, 2 * k), p60), p1004):
        return "the BLAS reads subnormal operands as zero (DAZ on a BLAS thread)"
    one, three, quarter = PROBE_ARGS[4], PROBE_ARGS[5], PROBE_ARGS[6]
    rows = np.array([[one, three], [-one, -three], [one, quarter]])
    A = np.tile(rows, (8 * k // 3 + 1, 1))[: 8 * k]
    sums = A @ np.ones((2, 8 * k))
    up1 = _EXPECTED[2]
    want = np.tile([up1, -up1, one], 8 * k // 3 + 1)[: 8 * k]
    if not _same(sums, np.broadcast_to(want[:, None], sums.shape)):
        return "the BLAS does not round to nearest"
    return None


def float64_environment() -> str | None:
    """``None`` when round-to-nearest with subnormals holds in numpy, numba and the BLAS; else why not.

    The BLAS's threads are probed once per process (a thread's control register is set when the
    thread starts and changes only by code running on it; with two busy cores waking the BLAS
    threads costs tens of milliseconds); the calling thread, which runs numpy, numba and part of
    every BLAS call, on every call."""
    reason = _arithmetic_reason(*_probe_values(PROBE_ARGS.tolist()))  # Python floats: the C double ops
    reason = reason or _arithmetic_reason(*_probe_numba(PROBE_ARGS)) or _numpy_reason() or _blas_reason()
    return reason


def _ulps(value: float, exact) -> float:
    """``|value - exact|`` in ulps of the true value (``exact`` an arb ball at high precision)."""
    from flint import arb

    err = abs(arb(value) - exact)
    ulp = math.ulp(float(exact.mid())) if float(exact.mid()) != 0 else TINY
    return float((err / ulp).upper())


@njit
def _kernel_elementary(exp_args, log_args):
    """The batch kernels' ``exp`` (:func:`verify.arith.f64.exp_array`) and libm's ``log1p`` as they call it."""
    exps, logs = exp_args.copy(), np.empty_like(log_args)
    f64.exp_array(exps, np.empty(exps.size, np.int64), np.empty(exps.size, np.int64))
    for i in range(log_args.size):
        logs[i] = math.log1p(log_args[i])
    return exps, logs


def _libm_args() -> tuple[np.ndarray, np.ndarray]:
    """Arguments for ``exp`` (normal, subnormal and near-overflow results) and ``log1p``."""
    rng = np.random.default_rng(20240601)
    exp_args = np.concatenate([
        rng.uniform(-745.0, 709.7, 160), rng.uniform(-30.0, 30.0, 160), rng.uniform(-1e-8, 1e-8, 32),
        [-744.4, -740.0, -708.5, 0.0, 1.0, -1.0, 709.0, 709.78, 2.0**-30, -(2.0**-30)],
    ])
    log_args = np.concatenate([
        rng.uniform(-0.999, 4.0, 160), np.exp(rng.uniform(-700.0, 700.0, 160)), rng.uniform(-1e-8, 1e-8, 32),
        [-0.5, 0.0, 1.0, 1e-300, 2.0**-1070, 1e300],
    ])
    return exp_args, log_args


@lru_cache(maxsize=1)
def libm_accuracy() -> str | None:
    """``None`` when ``numpy.exp``, the kernels' ``exp`` and libm's ``log1p`` are within ``LIBM_ULPS`` ulps of Arb's
    values on fixed arguments over the whole range (subnormal results included); else why not.
    Run once per process."""
    import flint
    from flint import arb

    exp_args, log_args = _libm_args()
    libm_exps, libm_logs = _kernel_elementary(exp_args, log_args)
    saved = flint.ctx.prec
    flint.ctx.prec = 200
    try:
        for name, args, values, true in (
            ("numpy.exp", exp_args, np.exp(exp_args), lambda x: arb(x).exp()),
            ("exp", exp_args, libm_exps, lambda x: arb(x).exp()),
            ("log1p", log_args, libm_logs, lambda x: arb(x).log1p()),
        ):
            for x, v in zip(args.tolist(), values.tolist(), strict=True):
                exact = true(x)
                if not math.isfinite(v) or _ulps(v, exact) > f64.LIBM_ULPS:
                    return (f"{name}({x!r}) = {v!r} is more than {f64.LIBM_ULPS} ulps from the true value "
                            f"{exact.mid()}: the library-error bound of verify.arith.f64 does not hold here")
    finally:
        flint.ctx.prec = saved
    return None


def require_float64() -> None:
    """Raise :class:`UnsafeFloatEnvironment` unless every float64 assumption holds in this process."""
    reason = float64_environment() or libm_accuracy()
    if reason:
        raise UnsafeFloatEnvironment(f"float64 arithmetic refused: {reason}")
