"""Streaming k-way merge of every host's per-CPU event streams on the run's one (aligned) time line.

Memory is one pending item per stream, whatever the run length. Equal aligned times keep a stable order: hosts in
the order given, then CPUs in the order given, then each stream's own order.
"""

from __future__ import annotations

import heapq
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from fleet.clocksync.model import ClockModel

# (host, aligned_ts, item): item is whatever the streams yield (fleet.ftrace Event or Lost), with its raw `ts`.
Merged = Tuple[str, int, Any]


def merge_hosts(
    streams: Dict[str, Sequence[Iterable[Any]]],
    models: Optional[Dict[str, ClockModel]] = None,
) -> Iterator[Merged]:
    """Merge host -> per-CPU iterables (each in its own timestamp order) by aligned time.

    A host without a model keeps its raw timestamps (useful for a single host or an unaligned look).
    """
    models = models or {}
    heap: List[Tuple[int, int, str, Any, Iterator[Any]]] = []
    index = 0
    for host, per_cpu in streams.items():
        model = models.get(host)
        for stream in per_cpu:
            it = iter(stream)
            for item in it:
                ts = model.aligned(item.ts) if model else item.ts
                heap.append((ts, index, host, item, it))
                break
            index += 1
    heapq.heapify(heap)
    while heap:
        ts, idx, host, item, it = heap[0]
        yield host, ts, item
        model = models.get(host)
        for nxt in it:
            nts = model.aligned(nxt.ts) if model else nxt.ts
            heapq.heapreplace(heap, (nts, idx, host, nxt, it))
            break
        else:
            heapq.heappop(heap)
