"""The streaming k-way merge of every host's and CPU's events on the run's one time line.

`fleet report`, the exports, `fleet latency` and the TUI all read events through here. Memory is one pending item
per stream (host x buffer x CPU), whatever the run length. Equal times keep a stable order: streams in the order
given, then CPUs, then each CPU's own order (as `trace-cmd report` merges CPUs).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Protocol, Sequence, Set, Tuple

from fleet.clocksync.model import ClockModel
from fleet.ftrace.events import Decoder, Event, Lost
from fleet.ftrace.meta import TraceMeta


@dataclass
class Stream:
    """One ring buffer of one host: its metadata, its pages per CPU and how its timestamps reach the time line."""

    host: Optional[str]
    """Fleet host name; None for a plain trace.dat file."""
    meta: TraceMeta
    pages: Dict[int, Iterable[bytes]]
    """CPU -> its pages in order (whole, or truncated to header + commit)."""
    timestamp: Optional[Callable[[int, int], int]]
    """(raw ring-buffer timestamp, cpu) -> the value to sort and print (clock alignment, counter conversion);
    None when the raw value is used as it is."""
    raw_counts: bool = False
    """True when timestamps are counter values (x86-tsc, counter without TSC2NSEC): printed as plain integers."""
    size: int = 0
    """Bytes of trace data behind `pages` (stored size, maybe compressed); 0 when unknown. Lets `fleet report`
    decide whether rendering in worker processes pays off."""


class Source(Protocol):
    """Anything that yields streams (a trace.dat file, a recorded run); they are merged on one time line."""

    def streams(self) -> Iterator[Stream]: ...

    def close(self) -> None: ...


# One merged item: (timestamp, stream index, cpu, sequence number within the CPU, lost events just before it (None
# if none), the event or None). The first four are unique, so tuples compare without reaching the objects.
Item = Tuple[int, int, int, int, Optional[Lost], Optional[Event]]


def cpu_items(index: int, stream: Stream, cpu: int, decoder: Decoder) -> Iterator[Item]:
    """Decoded items of one CPU with time-line timestamps; a loss marker rides on the event that follows it."""
    conv = stream.timestamp
    pending: Optional[Lost] = None
    seq = 0
    for item in decoder.decode_pages(cpu, stream.pages[cpu]):
        if isinstance(item, Lost):
            pending = item
            continue
        seq += 1
        yield (item.ts if conv is None else conv(item.ts, cpu), index, cpu, seq, pending, item)
        pending = None
    if pending is not None:
        yield (pending.ts if conv is None else conv(pending.ts, cpu), index, cpu, seq + 1, pending, None)


def merged(streams: List[Stream], decoders: List[Decoder], cpus: Optional[Set[int]] = None) -> Iterator[Item]:
    """All items of all streams and CPUs in time-line order (ties: stream, then CPU)."""
    its = [
        cpu_items(i, s, cpu, decoders[i])
        for i, s in enumerate(streams)
        for cpu in sorted(s.pages)
        if cpus is None or cpu in cpus
    ]
    if len(its) == 1:
        return its[0]
    return heapq.merge(*its)


# (host, aligned_ts, item): item is whatever the streams yield (fleet.ftrace Event or Lost), with its raw `ts`.
Merged = Tuple[str, int, Any]


def merge_hosts(
    streams: Dict[str, Sequence[Iterable[Any]]],
    models: Optional[Dict[str, ClockModel]] = None,
) -> Iterator[Merged]:
    """Merge host -> per-CPU iterables of already decoded items (each in its own timestamp order) by aligned time.

    A host without a model keeps its raw timestamps (useful for a single host or an unaligned look).
    """
    models = models or {}

    def keyed(index: int, host: str, items: Iterable[Any]) -> Iterator[Tuple[int, int, int, str, Any]]:
        model = models.get(host) if models else None
        for seq, item in enumerate(items):
            yield (model.aligned(item.ts) if model else item.ts, index, seq, host, item)

    its = [keyed(i, host, items) for i, (host, items) in enumerate((h, s) for h, per in streams.items() for s in per)]
    for ts, _index, _seq, host, item in heapq.merge(*its):
        yield host, ts, item
