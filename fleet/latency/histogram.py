"""A log-scale text histogram: one row per power-of-two bucket of latency, a bar scaled to the fullest bucket."""

from __future__ import annotations

from collections import Counter
from typing import List, Sequence

from fleet.latency.stats import human

BAR = 40


def bucket(ns: int) -> int:
    """Bucket index: latency in [2**k, 2**(k+1)) ns -> k; 0 and 1 ns share bucket 0."""
    return max(ns, 1).bit_length() - 1


def histogram_lines(latencies: Sequence[int], width: int = BAR) -> List[str]:
    """Rows `  [64.0 µs, 128.0 µs)  |#####      |  1234` from the smallest to the largest non-empty bucket."""
    if not latencies:
        return []
    counts = Counter(bucket(v) for v in latencies)
    lo, hi = min(counts), max(counts)
    peak = max(counts.values())
    labels = [f"[{human(1 << k)}, {human(1 << (k + 1))})" for k in range(lo, hi + 1)]
    pad = max(len(s) for s in labels)
    digits = len(str(peak))
    out = []
    for k, label in zip(range(lo, hi + 1), labels):
        n = counts.get(k, 0)
        bar = "#" * (0 if n == 0 else max(1, round(n * width / peak)))
        out.append(f"  {label.rjust(pad)}  |{bar.ljust(width)}| {str(n).rjust(digits)}")
    return out
