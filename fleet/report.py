"""`fleet report`'s printer: the merged events of a source (fleet.sources) as ftrace text lines or JSON lines."""

from __future__ import annotations

import fnmatch
import json
import os
import threading
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import IO, Any, Deque, Dict, List, Optional, Set, Tuple

from fleet.errors import UsageError
from fleet.ftrace.events import Decoder, Lost
from fleet.ftrace.funcgraph import GraphRenderer, GraphSlot, GraphStream
from fleet.ftrace.latency import KernelText
from fleet.ftrace.lines import LineStyle, cpu_lines
from fleet.ftrace.render import render_line
from fleet.linemerge import LaneFactory, merged_lines
from fleet.merge import Source, Stream, merged


@dataclass
class ReportOptions:
    """What to print and how (the `fleet report` command line, parsed)."""

    ns: bool = False
    cpus: Optional[Set[int]] = None
    events: List[str] = field(default_factory=list)
    """Globs matched against `name` and `system:name`; empty means every event."""
    format: str = "text"
    graph_hosts: Set[str] = field(default_factory=set)
    """Hosts whose run used the function_graph tracer: their events print as the kernel's function_graph text."""
    workers: Optional[int] = None
    """Text output: 0 renders in this process; N > 0 renders each CPU in its own worker process (when there are 2
    to MAX_LANES CPUs); None decides by the input's size and the machine's CPUs."""


PARALLEL_BYTES = 256_000
"""Trace data (stored bytes) from which rendering in worker processes beats starting them (~10 ms here; a
worker renders ~30k events in that time)."""
MAX_LANES = 32
"""More CPUs x streams than this render in this process (one worker per CPU would crowd the machine)."""


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


def _lost_line(cpu: int, lost: Lost) -> str:
    """ftrace's own wording (the `trace` file's); trace-cmd says `CPU:N [N EVENTS DROPPED]` instead."""
    return f"CPU:{cpu} [LOST {lost.count} EVENTS]" if lost.count else f"CPU:{cpu} [LOST EVENTS]"


def _use_workers(streams: List[Stream], lanes: int, workers: Optional[int]) -> bool:
    if workers is not None:
        return workers > 0 and 2 <= lanes <= MAX_LANES
    cpus = os.cpu_count() or 1
    if threading.active_count() > 1:  # forking a process that runs other threads risks locks they hold
        return False
    return cpus > 1 and 2 <= lanes <= MAX_LANES and sum(s.size for s in streams) >= PARALLEL_BYTES


def _report_text(
    streams: List[Stream],
    decoders: List[Decoder],
    options: ReportOptions,
    want: Optional[_EventFilter],
    out: IO[str],
) -> int:
    """The text report: each CPU rendered straight to lines (maybe in worker processes), merged, written."""
    factories: List[LaneFactory] = []
    for index, stream in enumerate(streams):
        style = LineStyle(options.ns, stream.raw_counts, stream.host or stream.meta.buffer_name or None, want)
        for cpu in sorted(stream.pages):
            if options.cpus is None or cpu in options.cpus:
                factories.append(partial(cpu_lines, decoders[index], cpu, stream.pages[cpu], style, stream.timestamp))
    workers = _use_workers(streams, len(factories), options.workers)
    if workers:
        for decoder in decoders:  # symbols parsed once here rather than in every worker
            _ = decoder.context
    write = out.write
    tally = [0]
    for batch in merged_lines(factories, workers, tally):
        write("".join(batch))
    return tally[0]


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
    graphs: Dict[int, GraphStream] = {}
    if not jsonl:
        for i, s in enumerate(streams):
            if s.host is not None and s.host in options.graph_hosts:
                graphs[i] = GraphStream(GraphRenderer(KernelText.of(decoders[i]), s.meta.cpus))
    if graphs:
        return _report_graph(streams, decoders, graphs, want, options, labels, counters, out)
    if not jsonl:
        return _report_text(streams, decoders, options, want, out)
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


def _labelled(label: Optional[str], text: str) -> str:
    if not label:
        return text
    return "".join(f"{label}: {line}\n" for line in text.splitlines())


def _report_graph(
    streams: List[Any],
    decoders: List[Decoder],
    graphs: Dict[int, GraphStream],
    want: Optional[_EventFilter],
    options: ReportOptions,
    labels: List[Optional[str]],
    counters: List[bool],
    out: IO[str],
) -> int:
    """report() when some hosts used function_graph: their lines wait in one queue until each entry knows whether
    it was a leaf (the next event of its CPU), so every host keeps its place on the merged time line."""
    queue: Deque[Tuple[Optional[str], GraphSlot]] = deque()  # (label for graph text, slot)
    write = out.write
    printed = 0
    if len(graphs) == len(streams):
        write(next(iter(graphs.values())).renderer.header())

    def drain() -> None:
        while queue and queue[0][1].text is not None:
            label, slot = queue.popleft()
            write(_labelled(label, slot.text or ""))

    for ts, index, cpu, _seq, lost, event in merged(streams, decoders, options.cpus):
        if event is not None and want is not None and not want(event.system, event.name):
            event = None
        label = labels[index]
        if lost is not None:
            queue.append((None, GraphSlot((f"{label}: " if label else "") + _lost_line(cpu, lost) + "\n")))
        if event is not None:
            printed += 1
            graph = graphs.get(index)
            if graph is None:
                queue.append((None, GraphSlot(render_line(event, ts, options.ns, counters[index], label) + "\n")))
            else:
                slot = graph.feed(event)
                if slot is not None:
                    queue.append((label, slot))
        drain()
    for graph in graphs.values():
        graph.flush()
    drain()
    return printed
