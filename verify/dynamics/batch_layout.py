"""Where each lane's state lives in the batch backend's two arrays.

Lanes are grouped in blocks of :data:`BLOCK`; each block stores its rows one after the other,
lane-minor, so ``X[block, row, lane]`` is at flat offset ``(block * rows + row) * BLOCK + lane``.
The generated kernels index the flat arrays with the literal ``row * BLOCK``, so the compiler
sees a constant distance between any two rows, proves that a lane's reads and writes never
overlap another lane's, and vectorizes the loop over lanes with no run-time alias checks.

``X`` (float64) rows: the lower ends of the parameters, then their upper ends (order of
``Network.param_names``); for each point ``i`` the exponent argument ``-y_i N(x_i)`` (lower end
rows, then the widths of the arguments), and the exp pass
(:func:`verify.dynamics.batch_kernel.exp_rows`) overwrites the lower ends with their exponentials
(:func:`verify.arith.f64.exp_span` encloses the whole exponential from them); with a trained output
layer (or for the loop kernels), the pre-activations ``z_ji``; and the index ``j * n + i`` of the
first undecided pre-activation (-1 if none).

``F`` (int8) rows: the certified pattern (``j * n + i``), the exact initial signs, the frozen
flags (neuron never active so far), and whether the lane is alive, whether its pattern changed
on the last step, and its status code.
"""

from __future__ import annotations

from dataclasses import dataclass

# Lanes per block. The kernels sweep a block's rows lane by lane, so a block's state should stay in
# the L1 data cache (32 KB): paper A's 13 rows x 128 lanes x 8 bytes = 13 KB. Measured on paper A,
# 2,048 lanes x 1,000 steps (run_batch, medians): 64 lanes 149 ms, 128: 139, 256: 141, 512: 205.
BLOCK = 128

# lane status codes (0 = every step so far certified)
COMPLETE = 0
AMBIGUOUS = 1  # a pre-activation interval straddles 0
NONFINITE = 2  # an exponential overflowed
TOO_WIDE = 3  # a parameter interval grew past the width limit (or lost finiteness)

# why the compiled step loop (verify.dynamics.batch_kernel.drive) returned to Python
DONE, NEED_ROOM, DIVERGING, ALL_STOPPED = range(4)


@dataclass(frozen=True)
class Layout:
    """Row indices of a network shape's state: ``m`` neurons, ``n`` points, ``d`` inputs."""

    m: int
    n: int
    d: int
    trains: bool
    keep_z: bool = False  # hold every z_ji in X (the loop kernels need them; unrolled ones only to train a)

    @property
    def z_rows(self) -> bool:
        return self.trains or self.keep_z

    @property
    def p(self) -> int:
        return self.m * (self.d + 1) + (self.m if self.trains else 0)

    def w(self, j: int, k: int) -> int:
        """Parameter index of ``w_jk``."""
        return j * (self.d + 1) + k

    def b(self, j: int) -> int:
        return j * (self.d + 1) + self.d

    def a(self, j: int) -> int:
        return self.m * (self.d + 1) + j

    # X rows
    def lo(self, q: int) -> int:
        return q

    def hi(self, q: int) -> int:
        return self.p + q

    def e(self, i: int) -> int:
        """Lower end ``l_i`` of the exponent argument ``-y_i N(x_i)``, then the library ``exp`` of it."""
        return 2 * self.p + i

    def span(self, i: int) -> int:
        """An upper bound of the argument's width (see :func:`verify.arith.f64.exp_span`)."""
        return 2 * self.p + self.n + i

    def z_lo(self, j: int, i: int) -> int:
        return 2 * self.p + 2 * self.n + 2 * (j * self.n + i)

    def z_hi(self, j: int, i: int) -> int:
        return self.z_lo(j, i) + 1

    @property
    def fail_at(self) -> int:
        return 2 * self.p + 2 * self.n + (2 * self.m * self.n if self.z_rows else 0)

    @property
    def x_rows(self) -> int:
        return self.fail_at + 1

    # F rows
    def act(self, j: int, i: int) -> int:
        return j * self.n + i

    def sign0(self, j: int, i: int) -> int:
        return self.m * self.n + j * self.n + i

    def frozen(self, j: int) -> int:
        return 2 * self.m * self.n + j

    @property
    def alive(self) -> int:
        return 2 * self.m * self.n + self.m

    @property
    def changed(self) -> int:
        return self.alive + 1

    @property
    def status(self) -> int:
        return self.alive + 2

    @property
    def f_rows(self) -> int:
        return self.alive + 3

    def header(self) -> list[float]:
        """The shape and the first row of each kind, in the order of :data:`HEADER_FIELDS`, for the
        kernels that index rows at run time (:mod:`verify.dynamics.batch_loops`,
        :mod:`verify.dynamics.batch_kernel`), which read field ``f`` as ``H[H_F]`` (for example
        ``H[H_X_ROWS]``) and rows as above: ``lo(q) = q``, ``hi(q) = p + q``, ``e(i) = e(0) + i``,
        ``span(i) = span(0) + i``, ``z_lo(j, i) = z_lo(0, 0) + 2 (j n + i)``, ``act(j, i) = j n + i``,
        ``sign0(j, i) = sign0(0, 0) + j n + i``, ``frozen(j) = frozen(0) + j``."""
        values = {"m": self.m, "n": self.n, "d": self.d, "trains": self.trains, "p": self.p, "e0": self.e(0),
                  "span0": self.span(0), "z0": self.z_lo(0, 0), "fail_at": self.fail_at, "sign00": self.sign0(0, 0),
                  "frozen0": self.frozen(0), "alive": self.alive, "changed": self.changed, "status": self.status,
                  "x_rows": self.x_rows, "f_rows": self.f_rows}
        return [float(values[name]) for name in HEADER_FIELDS]


HEADER_FIELDS = ("m", "n", "d", "trains", "p", "e0", "span0", "z0", "fail_at", "sign00", "frozen0", "alive",
                 "changed", "status", "x_rows", "f_rows")
# H_M = 0, H_N = 1, ...: the position of each field in the header (module constants, so numba folds them)
H_M, H_N, H_D, H_TRAINS, H_P, H_E0, H_SPAN0, H_Z0, H_FAIL_AT, H_SIGN00, H_FROZEN0, H_ALIVE, H_CHANGED, H_STATUS, \
    H_X_ROWS, H_F_ROWS = range(len(HEADER_FIELDS))
HEADER_NAMES = tuple(f"H_{name.upper()}" for name in HEADER_FIELDS)
