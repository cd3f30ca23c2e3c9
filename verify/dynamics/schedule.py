"""Which steps a trajectory keeps: every ``stride``-th, plus a log-spaced set.

Phase changes and the last step are always kept by the engine as well.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecordSchedule:
    """Keep ``t`` when ``t % stride == 0`` or ``t`` is in a log-spaced grid with
    ``per_decade`` points per factor of ten (0 disables either part)."""

    stride: int = 0
    per_decade: int = 50

    def steps(self, horizon: int) -> set[int]:
        kept = {0, horizon}
        if self.stride > 0:
            kept.update(range(0, horizon + 1, self.stride))
        if self.per_decade > 0:
            k = 0
            while True:
                t = round(10 ** (k / self.per_decade))
                if t > horizon:
                    break
                kept.add(t)
                k += 1
        return kept


EVERY_STEP = RecordSchedule(stride=1, per_decade=0)
