"""Clock mappings beyond one straight line: piecewise lines, and interpolation between markers for event counters."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Tuple, Union

from fleet.clocksync.line import LineFit


@dataclass(frozen=True)
class Piecewise:
    """Consecutive line segments (the rate changed during the run); x between segments uses the tighter neighbour."""

    segments: Tuple[LineFit, ...]

    def _segment(self, x: float) -> LineFit:
        segs = self.segments
        if len(segs) == 1:
            return segs[0]
        i = bisect.bisect_right([s.x_lo for s in segs], x) - 1
        if i < 0:
            return segs[0]
        if x <= segs[i].x_hi or i == len(segs) - 1:
            return segs[i]
        left, right = segs[i], segs[i + 1]
        return left if left.bound_at(x) <= right.bound_at(x) else right

    def at(self, x: float) -> float:
        return self._segment(x).at(x)

    def bound_at(self, x: float) -> float:
        return self._segment(x).bound_at(x)

    @property
    def rate(self) -> float:
        first, last = self.segments[0], self.segments[-1]
        if last.x_hi > first.x_lo:
            return (last.at(last.x_hi) - first.at(first.x_lo)) / (last.x_hi - first.x_lo)
        return first.rate

    @property
    def slack(self) -> float:
        return max(s.slack for s in self.segments)


@dataclass(frozen=True)
class Interp:
    """For `counter` (an event count, not a time): an event between markers k and k+1 happened between them.

    Knots are the markers' counts with the host-time interval of each write; the estimate interpolates the
    intervals' midpoints and the bound reaches from the earlier marker's start to the later marker's end.
    Before the first or after the last marker nothing bounds it (infinite).
    """

    xs: Tuple[int, ...]
    lo: Tuple[int, ...]
    hi: Tuple[int, ...]

    def _mid(self, k: int) -> float:
        return (self.lo[k] + self.hi[k]) / 2

    def at(self, x: float) -> float:
        xs = self.xs
        if len(xs) == 1:
            return self._mid(0) + (x - xs[0]) * self.rate
        k = min(max(bisect.bisect_right(xs, x) - 1, 0), len(xs) - 2)
        if x == xs[k]:
            return self._mid(k)
        return self._mid(k) + (x - xs[k]) * (self._mid(k + 1) - self._mid(k)) / (xs[k + 1] - xs[k])

    def bound_at(self, x: float) -> float:
        xs = self.xs
        if x < xs[0] or x > xs[-1]:
            return math.inf
        k = bisect.bisect_right(xs, x) - 1
        est = self.at(x)
        if x == xs[k]:
            return (self.hi[k] - self.lo[k]) / 2
        return max(est - self.lo[k], self.hi[k + 1] - est)

    @property
    def rate(self) -> float:
        if len(self.xs) < 2:
            return 1.0
        return (self._mid(len(self.xs) - 1) - self._mid(0)) / (self.xs[-1] - self.xs[0])

    @property
    def slack(self) -> float:
        return 0.0


Mapping = Union[LineFit, Piecewise, Interp]
