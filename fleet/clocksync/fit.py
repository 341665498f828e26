"""Bracket fit: every line y = a + b*x that passes above all lower points and below all upper points.

Each sync observation says "at x, the other clock read at least lo" or "at most hi". The lines consistent with all of
them form a convex polygon in (a, b); only the upper hull of the lower points and the lower hull of the upper points
bound it (Duda's convex-hull synchronisation, as Trace Compass uses it). We return the line through the middle of the
polygon's spread at both ends of the data and the largest deviation of any feasible line from it, so the bound is a
hard one, not a standard deviation. When no line satisfies every point, the smallest uniform widening (slack) that
makes them consistent is applied and reported.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence, Tuple

from fleet.clocksync.hull import Point, lower_hull, upper_hull
from fleet.clocksync.line import LineFit

FPoint = Tuple[float, float]


def _lower_env(hull: Sequence[FPoint], b: float) -> float:
    """max over lower points of (y - b x): the least intercept a line of slope b may have."""
    return max(y - b * x for x, y in hull)


def _upper_env(hull: Sequence[FPoint], b: float) -> float:
    """min over upper points of (y - b x): the greatest intercept a line of slope b may have."""
    return min(y - b * x for x, y in hull)


def _edge_slopes(hull: Sequence[FPoint]) -> List[float]:
    return [(y1 - y0) / (x1 - x0) for (x0, y0), (x1, y1) in zip(hull, hull[1:])]


def _recenter(lows: Sequence[Point], highs: Sequence[Point]) -> Tuple[int, int, List[Point], List[Point]]:
    """Shift to small integers (exact) so the float maths works on run-length numbers, not on boot-time ones."""
    xr = min(min(p[0] for p in lows), min(p[0] for p in highs))
    yr = min(min(p[1] for p in lows), min(p[1] for p in highs))
    return xr, yr, [(x - xr, y - yr) for x, y in lows], [(x - xr, y - yr) for x, y in highs]


def _finish(
    xr: int,
    yr: int,
    vertices: List[FPoint],
    span: Tuple[float, float],
    slack: float,
    rate_range: Tuple[float, float],
    points: int,
    prefer_rate: Optional[float] = None,
    intercepts: Optional[Callable[[float], Tuple[float, float]]] = None,
) -> LineFit:
    """Pick the line through the middle of the feasible spread at both ends of the span; bound = worst deviation.

    With `prefer_rate` (the nominal rate), a short run whose rate is barely pinned keeps the rate nearest to it
    within the inner half of the feasible range, through the middle of the intercepts feasible at that rate
    (`intercepts(rate)`; without it, the middle of the spread at the span's centre). At a fixed rate that middle
    is NTP's minimum-delay estimate: half-way between the quickest request and the quickest reply.
    """
    xs, xe = span

    def spread(x: float) -> Tuple[float, float]:
        vals = [a + b * x for a, b in vertices]
        return min(vals), max(vals)

    lo_s, hi_s = spread(xs)
    lo_e, hi_e = spread(xe)
    mid_s, mid_e = (lo_s + hi_s) / 2, (lo_e + hi_e) / 2
    rate = (mid_e - mid_s) / (xe - xs) if xe > xs else (rate_range[0] + rate_range[1]) / 2
    a = mid_s - rate * xs
    if prefer_rate is not None and xe > xs:
        quarter = (rate_range[1] - rate_range[0]) / 4
        rate = min(max(prefer_rate, rate_range[0] + quarter), rate_range[1] - quarter)
        if intercepts is not None:
            a_lo, a_hi = intercepts(rate)
            a = (a_lo + a_hi) / 2
        else:
            xc = (xs + xe) / 2
            lo_c, hi_c = spread(xc)
            a = (lo_c + hi_c) / 2 - rate * xc
    half = max(abs(va + vb * x - (a + rate * x)) for va, vb in vertices for x in (xs, xe))
    return LineFit(
        x0=xr,
        y0=yr + a,
        rate=rate,
        rate_lo=min(rate_range[0], rate),
        rate_hi=max(rate_range[1], rate),
        x_lo=xr + int(xs),
        x_hi=xr + int(xe),
        halfwidth=half + slack,
        slack=slack,
        points=points,
    )


def fit_fixed_rate(lows: Sequence[Point], highs: Sequence[Point], rate: float) -> Optional[LineFit]:
    """Fit only the offset of a line whose rate is known exactly (e.g. `mono`, `boot`, `tai` against monotonic)."""
    if not lows or not highs:
        return None
    xr, yr, lo, hi = _recenter(lows, highs)
    lo_env = max(y - rate * x for x, y in lo)
    hi_env = min(y - rate * x for x, y in hi)
    slack = max(0.0, (lo_env - hi_env) / 2)
    a_lo, a_hi = lo_env - slack, hi_env + slack
    xs = float(min(p[0] for p in lo + hi))
    xe = float(max(p[0] for p in lo + hi))
    return _finish(xr, yr, [(a_lo, rate), (a_hi, rate)], (xs, xe), slack, (rate, rate), len(lows) + len(highs))


def fit_free_rate(
    lows: Sequence[Point], highs: Sequence[Point], prefer_rate: Optional[float] = None
) -> Optional[LineFit]:
    """Fit offset and rate; None when the points do not determine a rate (too few, or all at one x)."""
    if not lows or not highs:
        return None
    xr, yr, lo, hi = _recenter(lows, highs)
    lo_hull: List[FPoint] = [(float(x), float(y)) for x, y in upper_hull(lo)]
    hi_hull: List[FPoint] = [(float(x), float(y)) for x, y in lower_hull(hi)]
    lo_xmin, lo_xmax = lo_hull[0][0], lo_hull[-1][0]
    hi_xmin, hi_xmax = hi_hull[0][0], hi_hull[-1][0]
    # gap(b) = upper_env - lower_env is concave; it must fall on both sides for the rate to be bounded.
    slope_left = lo_xmax - hi_xmin  # d gap / d b as b -> -inf
    slope_right = lo_xmin - hi_xmax  # as b -> +inf
    if slope_left <= 0 or slope_right >= 0:
        return None
    breaks = sorted(set(_edge_slopes(lo_hull) + _edge_slopes(hi_hull)))
    if not breaks:
        return None

    def gap(b: float) -> float:
        return _upper_env(hi_hull, b) - _lower_env(lo_hull, b)

    gaps = [gap(b) for b in breaks]
    slack = max(0.0, -max(gaps) / 2)
    h = [g + 2 * slack for g in gaps]
    tol = 1e-9 * max(1.0, max(abs(g) for g in gaps))
    ok = [i for i, v in enumerate(h) if v >= -tol]
    k0, k1 = ok[0], ok[-1]
    if k0 == 0:
        b_min = breaks[0] - max(h[0], 0.0) / slope_left
    else:
        b_min = breaks[k0 - 1] + (0 - h[k0 - 1]) * (breaks[k0] - breaks[k0 - 1]) / (h[k0] - h[k0 - 1])
    if k1 == len(breaks) - 1:
        b_max = breaks[-1] - max(h[-1], 0.0) / slope_right
    else:
        b_max = breaks[k1] + h[k1] * (breaks[k1 + 1] - breaks[k1]) / (h[k1] - h[k1 + 1])
    rates = [b_min] + [b for b in breaks if b_min < b < b_max] + [b_max]
    vertices: List[FPoint] = []
    for b in rates:
        vertices.append((_lower_env(lo_hull, b) - slack, b))
        vertices.append((_upper_env(hi_hull, b) + slack, b))
    xs = min(lo_hull[0][0], hi_hull[0][0])
    xe = max(lo_hull[-1][0], hi_hull[-1][0])

    def intercepts(b: float) -> Tuple[float, float]:
        return _lower_env(lo_hull, b) - slack, _upper_env(hi_hull, b) + slack

    return _finish(xr, yr, vertices, (xs, xe), slack, (b_min, b_max), len(lows) + len(highs), prefer_rate, intercepts)
