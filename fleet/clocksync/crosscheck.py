"""Ground truth for alignment: hosts on one kernel record every kernel event at the same instant.

The same event (same CPU, identical record bytes) seen by two hosts' instances must land on the same aligned time;
the difference is the alignment error of the pair, and the two hosts' bounds added must cover it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Dict, Iterable, List, Tuple

from fleet.clocksync.model import ClockModel

# (cpu, record bytes) -> raw trace timestamp, for records that occur once in a host's trace.
Fingerprints = Dict[Tuple[int, bytes], int]


def fingerprints(items: Iterable[Tuple[int, int, bytes]]) -> Fingerprints:
    """Unique (cpu, data) keys of (cpu, ts, data) records; repeated records (same bytes twice) are left out."""
    seen: Dict[Tuple[int, bytes], int] = {}
    count: Counter = Counter()
    for cpu, ts, data in items:
        key = (cpu, data)
        count[key] += 1
        seen[key] = ts
    return {k: v for k, v in seen.items() if count[k] == 1}


@dataclass
class PairStats:
    """Alignment error of one pair of hosts over their matched events."""

    hosts: Tuple[str, str]
    matched: int
    median: float
    p99: float
    max: float
    covered: float
    """Fraction of matched events whose |delta| is within the two hosts' bounds added."""
    first_half_median: float
    last_half_median: float


def compare(a: str, b: str, fa: Fingerprints, fb: Fingerprints, ma: ClockModel, mb: ClockModel) -> PairStats:
    """|aligned_a - aligned_b| over events both hosts recorded once."""
    rows: List[Tuple[int, float, float]] = []
    for key in fa.keys() & fb.keys():
        ta, tb = fa[key], fb[key]
        at = ma.aligned(ta)
        rows.append((at, abs(at - mb.aligned(tb)), ma.bound(ta) + mb.bound(tb)))
    if not rows:
        return PairStats((a, b), 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    rows.sort()
    deltas = sorted(r[1] for r in rows)
    half = len(rows) // 2 or 1
    return PairStats(
        hosts=(a, b),
        matched=len(rows),
        median=statistics.median(deltas),
        p99=deltas[min(len(deltas) - 1, int(0.99 * len(deltas)))],
        max=deltas[-1],
        covered=sum(1 for r in rows if r[1] <= r[2]) / len(rows),
        first_half_median=statistics.median(r[1] for r in rows[:half]),
        last_half_median=statistics.median(r[1] for r in rows[half:]),
    )
