"""The texts a decoder needs for one buffer (sent once after configure) and the per-CPU stats (sent at stop)."""

from __future__ import annotations

import os
import struct
import sys
from typing import Any, Dict, List

from agent.codec import Codec
from agent.errors import AgentError
from agent.tracefs import Tracefs


def enabled_events(buf: Tracefs) -> List[str]:
    """'sys:event' for every event enabled in the buffer (set_event lists them)."""
    return [ln.strip() for ln in buf.lines("set_event")]


def event_formats(buf: Tracefs, events: List[str]) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for spec in events:
        system, _, name = spec.partition(":")
        try:
            text = buf.read(os.path.join("events", system, name, "format"))
        except AgentError:
            continue
        out.setdefault(system, []).append(text)
    return out


def ftrace_formats(buf: Tracefs) -> List[str]:
    base = buf.path("events/ftrace")
    out = []
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name, "format")
        if os.path.exists(path):
            out.append(buf.read(os.path.join("events/ftrace", name, "format")))
    return out


def build_metadata(top: Tracefs, buf: Tracefs, name: str, codec: Codec, kallsyms: bool) -> Dict[str, Any]:
    """The metadata frame's fields (protocol.METADATA_KEYS plus `events`, the enabled 'sys:event' list)."""
    events = enabled_events(buf)
    syms = b""
    if kallsyms:
        try:
            syms = top.read_bytes("/proc/kallsyms")
        except AgentError:
            syms = b""
    return {
        "header_page": buf.read("events/header_page"),
        "header_event": buf.read("events/header_event"),
        "ftrace_formats": ftrace_formats(buf),
        "event_formats": event_formats(buf, events),
        "kallsyms": codec.compress(syms),
        "kallsyms_codec": codec.name,
        "printk_formats": top.read("printk_formats"),
        "big_endian": sys.byteorder == "big",
        "long_size": struct.calcsize("l"),
        "page_size": subbuf_size(buf),
        "cpus": len(buf.cpus()),
        "trace_clock": buf.selected("trace_clock"),
        "uname": " ".join(os.uname()),
        "buffer_name": name,
        "events": events,
    }


def subbuf_size(buf: Tracefs) -> int:
    """Bytes per ring-buffer page as read from trace_pipe_raw (buffer_subbuf_size_kb on 6.8+, else page size)."""
    if buf.exists("buffer_subbuf_size_kb"):
        return int(buf.read("buffer_subbuf_size_kb").strip()) * 1024
    return os.sysconf("SC_PAGE_SIZE")


def cpu_stats(buf: Tracefs, cpu: int) -> Dict[str, Any]:
    """per_cpu/cpuN/stats as a map: 'commit overrun: 3' -> {'commit_overrun': 3}; timestamps stay floats."""
    out: Dict[str, Any] = {}
    for line in buf.read(f"per_cpu/cpu{cpu}/stats").splitlines():
        key, _, value = line.partition(":")
        value = value.strip()
        if not value:
            continue
        key = key.strip().replace(" ", "_")
        try:
            out[key] = int(value)
        except ValueError:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
    return out
