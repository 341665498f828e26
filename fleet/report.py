"""`fleet report`'s printer: the merged events of a source (fleet.sources) as ftrace text lines or JSON lines."""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import IO, Any, Dict, List, Optional, Set, Tuple

from fleet.errors import UsageError
from fleet.ftrace.events import Decoder, Lost
from fleet.ftrace.render import render_line
from fleet.merge import Source, merged


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
