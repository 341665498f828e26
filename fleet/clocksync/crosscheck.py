"""Ground truth for alignment: hosts on one kernel record every kernel event at (nearly) the same instant.

The same event (same CPU, identical record bytes) seen by two hosts' instances must land on the same aligned time;
the difference is the alignment error of the pair, and the two hosts' bounds added must cover it.

The kernel writes an event into each instance's ring buffer one after the other, with interrupts enabled: an
interrupt between two copies stamps the second copy late by the interrupt's length (tens of microseconds on this
machine). That copy then sits on the other side of the interrupt's own events (irq, irq_vectors) in one buffer
than in the other. Such events are not ground truth, so `compare` leaves out every event whose order against the
other matched events differs between the two hosts (the fewest such, via a longest common order) and counts them.
"""

from __future__ import annotations

import bisect
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Dict, Iterable, List, Set, Tuple

from fleet.clocksync.model import ClockModel

Key = Tuple[int, bytes]
# (cpu, record bytes) -> (raw trace timestamp, position in that CPU's stream), for records that occur once.
Fingerprints = Dict[Key, Tuple[int, int]]


def fingerprints(items: Iterable[Tuple[int, int, bytes]]) -> Fingerprints:
    """Unique (cpu, data) keys of (cpu, ts, data) records in stream order; repeated records are left out."""
    seen: Dict[Key, Tuple[int, int]] = {}
    count: Counter = Counter()
    for pos, (cpu, ts, data) in enumerate(items):
        key = (cpu, data)
        count[key] += 1
        seen[key] = (ts, pos)
    return {k: v for k, v in seen.items() if count[k] == 1}


def reordered(fa: Fingerprints, fb: Fingerprints) -> Set[Key]:
    """Common keys outside a longest subsequence kept in the same order by both hosts (per CPU)."""
    out: Set[Key] = set()
    for cpu in {k[0] for k in fa}:
        keys = sorted((k for k in fa.keys() & fb.keys() if k[0] == cpu), key=lambda k: fa[k][1])
        # Longest increasing subsequence of B's positions taken in A's order (patience sorting, O(n log n)).
        tails: List[int] = []
        tail_idx: List[int] = []
        prev = [-1] * len(keys)
        for i, k in enumerate(keys):
            p = fb[k][1]
            j = bisect.bisect_left(tails, p)
            if j == len(tails):
                tails.append(p)
                tail_idx.append(i)
            else:
                tails[j], tail_idx[j] = p, i
            prev[i] = tail_idx[j - 1] if j else -1
        keep: Set[int] = set()
        i = tail_idx[-1] if tail_idx else -1
        while i >= 0:
            keep.add(i)
            i = prev[i]
        out.update(k for i, k in enumerate(keys) if i not in keep)
    return out


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
    excluded: int = 0
    """Events both hosts recorded once but in a different order against the others (not ground truth)."""


def compare(a: str, b: str, fa: Fingerprints, fb: Fingerprints, ma: ClockModel, mb: ClockModel) -> PairStats:
    """|aligned_a - aligned_b| over events both hosts recorded once, in the same order."""
    skip = reordered(fa, fb)
    rows: List[Tuple[int, float, float]] = []
    for key in fa.keys() & fb.keys():
        if key in skip:
            continue
        ta, tb = fa[key][0], fb[key][0]
        at = ma.aligned(ta)
        rows.append((at, abs(at - mb.aligned(tb)), ma.bound(ta) + mb.bound(tb)))
    if not rows:
        return PairStats((a, b), 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, len(skip))
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
        excluded=len(skip),
    )
