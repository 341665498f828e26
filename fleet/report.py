"""`fleet report`'s engine: sources of ring-buffer streams, their merge on one time line, text and JSON lines output.

A source (a trace.dat file today, a fleet run directory later) yields `Stream`s: one per host and buffer, with its
TraceMeta, its pages per CPU and its timestamp mapping. Events of all streams and CPUs are decoded lazily and merged
by timestamp (ties: stream order, then CPU), as `trace-cmd report` merges CPUs.
"""

from __future__ import annotations

import fnmatch
import heapq
import json
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Dict, Iterable, Iterator, List, Optional, Protocol, Set, Tuple

from fleet.errors import UsageError
from fleet.ftrace.events import Decoder, Event, Lost
from fleet.ftrace.meta import TraceMeta
from fleet.ftrace.render import render_line
from fleet.tracedat.reader import TraceDat


@dataclass
class Stream:
    """One ring buffer of one host: its metadata, its pages per CPU and how its timestamps reach the time line."""

    host: Optional[str]
    """Fleet host name; None for a plain trace.dat file."""
    meta: TraceMeta
    pages: Dict[int, Iterable[bytes]]
    """CPU -> its pages in order (whole, or truncated to header + commit)."""
    timestamp: Optional[Callable[[int, int], int]]
    """(raw ring-buffer timestamp, cpu) -> the value to sort and print (clock corrections, counter conversion);
    None when the raw value is used as it is."""
    raw_counts: bool = False
    """True when timestamps are counter values (x86-tsc, counter without TSC2NSEC): printed as plain integers."""


class Source(Protocol):
    """Anything that yields streams; the report merges all of them on one time line."""

    def streams(self) -> Iterator[Stream]: ...

    def close(self) -> None: ...


class TraceDatSource:
    """A trace.dat file: one stream per buffer (top level first), host None."""

    def __init__(self, path: str) -> None:
        self.dat = TraceDat.open(path)

    def streams(self) -> Iterator[Stream]:
        for buf in self.dat.buffers:
            pages: Dict[int, Iterable[bytes]] = {cpu: buf.pages(cpu) for cpu in buf.cpus}
            conv = None if buf.timestamp_is_identity else buf.timestamp
            yield Stream(None, buf.meta, pages, conv, raw_counts=not buf.in_usecs)

    def close(self) -> None:
        self.dat.close()


@dataclass
class ReportOptions:
    """What to print and how (the `fleet report` command line, parsed)."""

    ns: bool = False
    cpus: Optional[Set[int]] = None
    events: List[str] = field(default_factory=list)
    """Globs matched against `name` and `system:name`; empty means every event."""
    format: str = "text"


def parse_cpu_list(text: str) -> Set[int]:
    """ "0,2-3" -> {0, 2, 3}."""
    cpus: Set[int] = set()
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if hi < lo:
                    raise ValueError(part)
                cpus.update(range(lo, hi + 1))
            elif part:
                cpus.add(int(part))
        except ValueError:
            raise UsageError(f"bad CPU list {text!r}: use numbers and ranges like 0,2-3") from None
    return cpus


class _EventFilter:
    """Caches, per (system, name), whether any -e glob selects the event."""

    def __init__(self, globs: List[str]) -> None:
        self.globs = globs
        self._cache: Dict[Tuple[str, str], bool] = {}

    def __call__(self, system: str, name: str) -> bool:
        key = (system, name)
        hit = self._cache.get(key)
        if hit is None:
            full = f"{system}:{name}"
            hit = any(fnmatch.fnmatchcase(name, g) or fnmatch.fnmatchcase(full, g) for g in self.globs)
            self._cache[key] = hit
        return hit


# One merged item: (timestamp, stream index, cpu, sequence number within the CPU, lost events just before it (None
# if none), the event or None). The first four are unique, so tuples compare without reaching the objects.
_Item = Tuple[int, int, int, int, Optional[Lost], Optional[Event]]


def _cpu_items(index: int, stream: Stream, cpu: int, decoder: Decoder) -> Iterator[_Item]:
    """Decoded items of one CPU with display timestamps; a loss marker rides on the event that follows it."""
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


def merged(streams: List[Stream], decoders: List[Decoder], cpus: Optional[Set[int]]) -> Iterator[_Item]:
    """All items of all streams and CPUs in timestamp order (ties: stream, then CPU)."""
    its = [
        _cpu_items(i, s, cpu, decoders[i])
        for i, s in enumerate(streams)
        for cpu in sorted(s.pages)
        if cpus is None or cpu in cpus
    ]
    if len(its) == 1:
        return its[0]
    return heapq.merge(*its)


def _lost_line(cpu: int, lost: Lost) -> str:
    """ftrace's own wording (the `trace` file's); trace-cmd says `CPU:N [N EVENTS DROPPED]` instead."""
    return f"CPU:{cpu} [LOST {lost.count} EVENTS]" if lost.count else f"CPU:{cpu} [LOST EVENTS]"


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return str(value)


def report(source: Source, options: ReportOptions, out: IO[str]) -> int:
    """Print every selected event of `source` to `out`; return the number of events printed."""
    streams = list(source.streams())
    decoders = [Decoder(s.meta) for s in streams]
    want = _EventFilter(options.events) if options.events else None
    jsonl = options.format == "jsonl"
    write = out.write
    ns = options.ns
    labels = [s.host or s.meta.buffer_name or None for s in streams]
    counters = [s.raw_counts for s in streams]
    printed = 0
    for ts, index, cpu, _seq, lost, event in merged(streams, decoders, options.cpus):
        if event is not None and want is not None and not want(event.system, event.name):
            event = None
        label = labels[index]
        if lost is not None:
            stream = streams[index]
            if jsonl:
                write(json.dumps({"host": stream.host, "cpu": cpu, "ts": ts, "lost": lost.count}) + "\n")
            else:
                write((f"{label}: " if label else "") + _lost_line(cpu, lost) + "\n")
        if event is None:
            continue
        printed += 1
        if jsonl:
            record = {
                "host": streams[index].host,
                "cpu": cpu,
                "ts": ts,
                "event": event.name,
                "system": event.system,
                "comm": event.comm,
                "pid": event.pid,
                "fields": event.fields(),
            }
            write(json.dumps(record, default=_json_default) + "\n")
        else:
            write(render_line(event, ts, ns, counters[index], label) + "\n")
    return printed
