"""The one place that decides how a host's raw timestamps reach the run's time line for a study."""

from __future__ import annotations

from typing import Dict, Optional, Tuple

from fleet.clocksync.line import LineFit
from fleet.clocksync.model import ClockModel
from fleet.record.reader import Run


def clock_models(run: Run, sync: Optional[str] = None, aligned: bool = True) -> Dict[str, ClockModel]:
    """Each host's clock model (fleet.clocksync), or {} for raw trace-clock timestamps (`aligned=False`: only
    meaningful when every host shares one clock)."""
    if not aligned:
        return {}
    from fleet.clocksync.recorded import run_models

    return run_models(run, sync)


class FastAligned:
    """ClockModel.aligned and .bound with the method calls inlined for two straight lines (the usual model):
    the same float operations in the same order, so results are identical. Bounds are cached per millisecond of
    trace time as the larger of the bucket's two ends, which bounds the whole bucket because a line's bound is
    convex in x (flat inside the fitted span, growing linearly outside)."""

    def __init__(self, model: ClockModel) -> None:
        self.model = model
        h, c = model.to_host, model.to_coord
        self.lines = isinstance(h, LineFit) and isinstance(c, LineFit)
        if self.lines:
            assert isinstance(h, LineFit) and isinstance(c, LineFit)
            hx0, hy0, hr, cx0, cy0, cr = h.x0, h.y0, h.rate, c.x0, c.y0, c.rate

            def aligned(ts: int) -> int:
                return round(cy0 + cr * ((hy0 + hr * (ts - hx0)) - cx0))

            self.aligned = aligned  # type: ignore[method-assign]
        self._bounds: Dict[int, float] = {}

    def aligned(self, ts: int) -> int:
        return self.model.aligned(ts)

    def bound(self, ts: int) -> float:
        if not self.lines:
            return self.model.bound(ts)
        bucket = ts // BOUND_BUCKET
        b = self._bounds.get(bucket)
        if b is None:
            lo = bucket * BOUND_BUCKET
            b = self._bounds[bucket] = max(self.model.bound(lo), self.model.bound(lo + BOUND_BUCKET))
        return b

    @property
    def aligned_ok(self) -> bool:
        return self.model.aligned_ok

    @property
    def notes(self) -> Tuple[str, ...]:
        return self.model.notes


BOUND_BUCKET = 1_000_000  # trace-clock units per cached bound (1 ms for nanosecond clocks)


def fast(models: Dict[str, ClockModel]) -> Dict[str, FastAligned]:
    return {name: FastAligned(m) for name, m in models.items()}
