"""Order statistics of a study's latencies and the one way they are written for a person (`312.4 µs ± 1.1`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p999", 99.9))


def percentile(sorted_values: Sequence[int], p: float) -> int:
    """Nearest-rank percentile of an ascending sequence (the smallest value with at least p% at or below it)."""
    n = len(sorted_values)
    rank = max(1, math.ceil(p * n / 100.0 - 1e-9))  # the epsilon: 99.9 * 1000 / 100 is 999.0000000000001
    return sorted_values[min(rank, n) - 1]


@dataclass
class Summary:
    """count, min, p50/p90/p99/p99.9, max of latencies in ns (None when there are none)."""

    count: int
    min_ns: Optional[int]
    p50_ns: Optional[int]
    p90_ns: Optional[int]
    p99_ns: Optional[int]
    p999_ns: Optional[int]
    max_ns: Optional[int]

    @classmethod
    def of(cls, latencies: List[int]) -> Summary:
        if not latencies:
            return cls(0, None, None, None, None, None, None)
        s = sorted(latencies)
        pct: Dict[str, int] = {name: percentile(s, p) for name, p in PERCENTILES}
        return cls(len(s), s[0], pct["p50"], pct["p90"], pct["p99"], pct["p999"], s[-1])

    def as_dict(self) -> Dict[str, Optional[int]]:
        return {
            "min_ns": self.min_ns,
            "p50_ns": self.p50_ns,
            "p90_ns": self.p90_ns,
            "p99_ns": self.p99_ns,
            "p999_ns": self.p999_ns,
            "max_ns": self.max_ns,
        }


UNITS = ((1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "µs"))


def unit_for(ns: float) -> tuple[int, str]:
    for scale, name in UNITS:
        if abs(ns) >= scale:
            return scale, name
    return 1, "ns"


def human(ns: Optional[float], uncertainty: Optional[float] = None) -> str:
    """`312.4 µs`, or with an uncertainty in the same unit `312.4 µs ± 1.1` (`± ?` when not aligned); the value gets
    as many decimals as the uncertainty needs to show two significant digits (`4.2559 ms ± 0.0044`)."""
    if ns is None:
        return "-"
    scale, name = unit_for(ns)
    if scale == 1:
        text = f"{ns:.0f} ns"
        if uncertainty is None:
            return text
        return f"{text} ± ?" if uncertainty < 0 else f"{text} ± {uncertainty:.0f}"
    decimals = 1
    if uncertainty is not None and uncertainty > 0:
        # two significant digits of the uncertainty, never finer than 1 ns
        decimals = min(max(1, 1 - math.floor(math.log10(uncertainty / scale))), len(str(scale)) - 1)
    text = f"{ns / scale:.{decimals}f} {name}"
    if uncertainty is None:
        return text
    if uncertainty < 0:
        return f"{text} ± ?"
    return f"{text} ± {uncertainty / scale:.{decimals}f}"
