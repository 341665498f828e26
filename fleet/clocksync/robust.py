"""Bracket fits that survive real data: drop a few contradictory samples, split the run where the rate changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from fleet.clocksync.fit import fit_fixed_rate, fit_free_rate
from fleet.clocksync.hull import Point
from fleet.clocksync.line import LineFit
from fleet.clocksync.mapping import Piecewise

# (lower point, upper point) of one sample: the other clock read at least lo[1] at lo[0], at most hi[1] at hi[0].
Pair = Tuple[Point, Point]

MIN_SEGMENT = 8  # samples; fewer cannot pin a rate against jitter


@dataclass
class RobustFit:
    """The fitted mapping and what had to be done to get it."""

    mapping: Piecewise
    dropped: List[int] = field(default_factory=list)
    """Indexes (into the input) of samples that contradicted all others and were left out."""


def _fit(pairs: List[Pair], rate: Optional[float], prefer: Optional[float] = None) -> Optional[LineFit]:
    lows = [p[0] for p in pairs]
    highs = [p[1] for p in pairs]
    return fit_fixed_rate(lows, highs, rate) if rate is not None else fit_free_rate(lows, highs, prefer)


def _violation(line: LineFit, pair: Pair) -> float:
    (xl, yl), (xh, yh) = pair
    return max(yl - line.at(xl), line.at(xh) - yh)


def _drop_outliers(
    pairs: List[Pair], rate: Optional[float], line: LineFit, prefer: Optional[float]
) -> Tuple[List[int], LineFit]:
    """Remove, one at a time, the worst-violating sample while that at least halves the slack (at most 5%)."""
    keep = list(range(len(pairs)))
    dropped: List[int] = []
    budget = max(1, len(pairs) // 20)
    while line.slack > 0 and len(dropped) < budget and len(keep) > MIN_SEGMENT:
        worst = max(keep, key=lambda i: _violation(line, pairs[i]))
        trial = [i for i in keep if i != worst]
        refit = _fit([pairs[i] for i in trial], rate, prefer)
        if refit is None or refit.slack > line.slack / 2:
            break
        keep, line = trial, refit
        dropped.append(worst)
    return dropped, line


def _split(pairs: List[Pair], rate: Optional[float], line: LineFit, prefer: Optional[float]) -> List[LineFit]:
    """Split at the middle while that at least halves the slack: the rate drifted (NTP slewing) or the clock stepped."""
    if line.slack <= 0 or len(pairs) < 2 * MIN_SEGMENT:
        return [line]
    half = len(pairs) // 2
    left, right = _fit(pairs[:half], rate, prefer), _fit(pairs[half:], rate, prefer)
    if left is None or right is None or max(left.slack, right.slack) > line.slack / 2:
        return [line]
    return _split(pairs[:half], rate, left, prefer) + _split(pairs[half:], rate, right, prefer)


def fit_pairs(pairs: List[Pair], rate: Optional[float] = None, prefer: Optional[float] = None) -> Optional[RobustFit]:
    """Fit a (piecewise) line through sample brackets, with the rate fixed when `rate` is given.

    `prefer` is the nominal rate a free fit leans to when the samples leave it loose (see fit._finish).

    None when the samples cannot determine the mapping (none, or a free rate from samples all at one x).
    """
    order = sorted(range(len(pairs)), key=lambda i: pairs[i][0][0])
    ordered = [pairs[i] for i in order]
    line = _fit(ordered, rate, prefer)
    if line is None:
        return None
    dropped_local, line = _drop_outliers(ordered, rate, line, prefer)
    kept = [p for i, p in enumerate(ordered) if i not in set(dropped_local)]
    segments = _split(kept, rate, line, prefer)
    return RobustFit(Piecewise(tuple(segments)), sorted(order[i] for i in dropped_local))
