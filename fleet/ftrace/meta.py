"""The raw kernel texts that describe one ring buffer, exactly as tracefs (or a trace.dat) holds them.

Every source of trace data -- a trace.dat file, a fleet recording, a live agent -- fills one `TraceMeta`;
the decoder parses what it needs from it lazily, and the trace.dat writer stores the texts unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional


@dataclass
class TraceMeta:
    """What a decoder needs besides the pages: header layouts, event formats and symbol tables."""

    header_page: str
    """Text of `events/header_page` (the page header's fields: timestamp, commit, overwrite, data)."""
    header_event: str
    """Text of `events/header_event` (type_len, time_delta, array)."""
    ftrace_formats: List[str] = field(default_factory=list)
    """Texts of `events/ftrace/*/format` (function, funcgraph_entry, print, bprint, ...)."""
    event_formats: Dict[str, List[str]] = field(default_factory=dict)
    """System name -> texts of `events/SYSTEM/*/format` for every event that may appear."""
    kallsyms: str = ""
    """Text of `/proc/kallsyms` (may be empty: addresses then print in hex)."""
    printk_formats: str = ""
    """Text of `printk_formats` (address : "format" lines for trace_printk/bprint)."""
    saved_cmdlines: str = ""
    """Text of `saved_cmdlines` ("PID COMM" lines) for comm lookups."""
    saved_tgids: str = ""
    """Text of `saved_tgids` ("PID TGID" lines)."""
    big_endian: bool = False
    long_size: int = 8
    page_size: int = 4096
    cpus: int = 1
    trace_clock: str = "local"
    """The trace clock the buffer was recorded with (`local`, `x86-tsc`, `counter`, ...)."""
    uname: str = ""
    buffer_name: str = ""
    """Instance name; empty for the top-level buffer."""
    tsc2nsec: Optional[Dict[str, int]] = None
    """For counter clocks, the conversion {"mult", "shift", "offset"} when known (trace.dat TSC2NSEC)."""
