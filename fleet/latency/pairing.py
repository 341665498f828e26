"""Pairing rule: each `from` event pairs with the next `to` event of the same key that no earlier `from` took
(first in, first out per key). A `to` with no open `from` and a `from` never closed are counted as unmatched."""

from __future__ import annotations

import math
from collections import deque
from typing import Callable, Deque, Dict, List, NamedTuple, Optional, Tuple

PAIRING_RULES = (
    "pairing: events are taken in aligned-time order over all hosts; each FROM event pairs with the next TO event "
    "of the same key that no earlier FROM took (first in, first out per key); a TO with no open FROM, and a FROM "
    "still open at the end, count as unmatched; without a key every FROM pairs with the next TO"
)


class Pair(NamedTuple):
    """One measured latency; times are on the run's aligned time line (ns), raw_* are the hosts' own stamps."""

    key: str
    from_host: str
    to_host: str
    from_ts: int
    to_ts: int
    latency_ns: int
    uncertainty_ns: int
    from_cpu: int
    from_raw: int
    to_cpu: int
    to_raw: int


UNKNOWN = -1
"""uncertainty_ns of a pair whose hosts are not aligned (no usable sync samples)."""

# (host, aligned ts, cpu, raw ts) of an open `from`
Open = Tuple[str, int, int, int]
Bound = Callable[[str, int], float]
"""(host, raw timestamp) -> alignment uncertainty of that host at that time (ns)."""


class Pairer:
    """Streaming FIFO pairing by key; `pairs` grows as `to` events close open `from` events."""

    def __init__(self, bound: Optional[Bound] = None) -> None:
        self.open: Dict[str, Deque[Open]] = {}
        self.pairs: List[Pair] = []
        self.unmatched_to = 0
        self.bound = bound

    def add_from(self, key: str, host: str, ts: int, cpu: int, raw: int) -> None:
        q = self.open.get(key)
        if q is None:
            q = self.open[key] = deque()
        q.append((host, ts, cpu, raw))

    def add_to(self, key: str, host: str, ts: int, cpu: int, raw: int) -> Optional[Pair]:
        q = self.open.get(key)
        if not q:
            self.unmatched_to += 1
            return None
        fhost, fts, fcpu, fraw = q.popleft()
        if not q:
            del self.open[key]
        unc = 0
        if fhost != host and self.bound is not None:
            total = self.bound(fhost, fraw) + self.bound(host, raw)
            unc = UNKNOWN if math.isinf(total) else round(total)
        pair = Pair(key, fhost, host, fts, ts, ts - fts, unc, fcpu, fraw, cpu, raw)
        self.pairs.append(pair)
        return pair

    @property
    def unmatched_from(self) -> int:
        return sum(len(q) for q in self.open.values())
