"""Convex hulls of integer points, exact (integer cross products): the only points a bracket fit needs to look at."""

from __future__ import annotations

from typing import Dict, List, Tuple

Point = Tuple[int, int]


def _cross(o: Point, a: Point, b: Point) -> int:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def upper_hull(points: List[Point]) -> List[Point]:
    """Upper hull, left to right, of points that lines must pass above (only the highest y per x matters)."""
    best: Dict[int, int] = {}
    for x, y in points:
        if x not in best or y > best[x]:
            best[x] = y
    hull: List[Point] = []
    for p in sorted(best.items()):
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) >= 0:
            hull.pop()
        hull.append(p)
    return hull


def lower_hull(points: List[Point]) -> List[Point]:
    """Lower hull, left to right, of points that lines must pass below (only the lowest y per x matters)."""
    best: Dict[int, int] = {}
    for x, y in points:
        if x not in best or y < best[x]:
            best[x] = y
    hull: List[Point] = []
    for p in sorted(best.items()):
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) <= 0:
            hull.pop()
        hull.append(p)
    return hull
