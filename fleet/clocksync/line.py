"""A fitted straight line y = y0 + rate * (x - x0) with a hard error bound: one segment of a clock mapping."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class LineFit:
    """Map x (source clock) to y (target clock); |truth - at(x)| <= bound_at(x) if the data were consistent.

    Inside the data's span [x_lo, x_hi] the bound is `halfwidth`; outside it widens by the spread of feasible rates.
    `slack` > 0 says the samples contradict every straight line by that much (jitter, per-CPU skew, a clock step);
    it is already included in `halfwidth`.
    """

    x0: int
    y0: float
    rate: float
    rate_lo: float
    rate_hi: float
    x_lo: int
    x_hi: int
    halfwidth: float
    slack: float = 0.0
    points: int = 0

    def at(self, x: float) -> float:
        return self.y0 + self.rate * (x - self.x0)

    def distance(self, x: float) -> float:
        """How far x lies outside the data's span (0 inside)."""
        if x < self.x_lo:
            return self.x_lo - x
        if x > self.x_hi:
            return x - self.x_hi
        return 0

    def bound_at(self, x: float) -> float:
        d = self.distance(x)
        if d == 0 or math.isinf(self.halfwidth):
            return self.halfwidth
        return self.halfwidth + max(self.rate - self.rate_lo, self.rate_hi - self.rate) * d

    @property
    def offset(self) -> float:
        """y at x = 0 (the `offset` of y = offset + rate * x)."""
        return self.y0 - self.rate * self.x0


def identity(halfwidth: float) -> LineFit:
    """y = x, exactly (halfwidth 0: the same clock) or with no knowledge at all (halfwidth inf)."""
    return LineFit(x0=0, y0=0.0, rate=1.0, rate_lo=1.0, rate_hi=1.0, x_lo=0, x_hi=0, halfwidth=halfwidth)
