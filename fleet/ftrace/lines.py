"""One CPU's pages straight to report lines, without an Event object per record: the hot path of `fleet report`.

Yields, per page, the time-line timestamps and the finished lines (`COMM-PID [CPU] SECS.USECS: EVENT: BODY\\n`, a
`CPU:N [LOST N EVENTS]` line riding before the event that follows the loss). Text equals fleet.ftrace.render's.
"""

# ruff: noqa: UP031  (trace-cmd layouts are printf formats)
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional, Tuple

from fleet.errors import DecodeError
from fleet.ftrace.codegen import LineRender, line_function
from fleet.ftrace.events import Decoder
from fleet.ftrace.printfmt import PrintFormat
from fleet.ftrace.ringbuf import page_records

Chunk = Tuple[List[int], List[str], int]
"""(timestamps, lines, events printed) of consecutive items of one CPU; a line is "" for an event the filter drops
(it keeps its place so the merge order is the same with and without filters)."""


@dataclass
class LineStyle:
    """How lines look: full nanoseconds, raw counter values, a `LABEL: ` column, which events to keep."""

    ns: bool = False
    counter: bool = False
    label: Optional[str] = None
    want: Optional[Callable[[str, str], bool]] = None
    """(system, name) -> keep the event; None keeps all."""


def lost_text(cpu: int, count: Optional[int]) -> str:
    """ftrace's own wording (the `trace` file's); trace-cmd says `CPU:N [N EVENTS DROPPED]` instead."""
    return "CPU:%d [LOST %d EVENTS]" % (cpu, count) if count else "CPU:%d [LOST EVENTS]" % cpu


def cpu_lines(
    decoder: Decoder,
    cpu: int,
    pages: Iterable[bytes],
    style: LineStyle,
    timestamp: Optional[Callable[[int, int], int]] = None,
) -> Iterator[Chunk]:
    """Per page, (timestamps, lines, events) of every record of `cpu`; `timestamp` maps (raw ts, cpu) onto the
    time line."""
    header = decoder.header
    unpack = decoder._common.unpack_from
    prefix = style.label + ": " if style.label else ""
    cpu_col = " [%03d]" % cpu
    heads: Dict[int, str] = {}
    kinds: Dict[int, Optional[_Kind]] = {}
    want = style.want
    ns, counter = style.ns, style.counter
    # Every line is `lead % (task column, a, b)` + name column + body: a, b are the timestamp's two parts.
    lead = "%s%12d%s: " if counter else "%s %5d.%09d: " if ns else "%s %5d.%06d: "
    generic = lead + "%s%s\n"
    pending = ""
    pending_ts = 0
    a: object
    b: object
    for page in pages:
        info, recs = page_records(page, header)
        if info.missed:
            pending = prefix + lost_text(cpu, info.missed_count) + "\n"
            pending_ts = recs[0][0] if recs else info.timestamp
        stamps: List[int] = []
        lines: List[str] = []
        dropped = 0
        add_ts = stamps.append
        add = lines.append
        for ts, off, length in recs:
            if length < 8:
                raise DecodeError(f"cpu {cpu}: record of {length} bytes has no common header")
            etype, _flags, _pc, pid = unpack(page, off)
            if timestamp is not None:
                ts = timestamp(ts, cpu)
            add_ts(ts)
            try:
                kind = kinds[etype]
            except KeyError:
                kind = kinds[etype] = _kind(decoder, etype, want, lead)
            if kind is None:
                add(pending)
                pending = ""
                dropped += 1
                continue
            head = heads.get(pid)
            if head is None:
                head = heads[pid] = prefix + decoder.task_column(pid) + cpu_col
            if counter:  # libtraceevent prints raw counts as %12llu straight after the CPU column
                a, b = ts, ""
            elif ns:
                a, b = ts // 1000000000, ts % 1000000000
            else:
                a, b = ts // 1000000000, ts % 1000000000 // 1000
            data = page[off : off + length]
            text = None
            if kind.line is not None:
                try:
                    text = kind.line(data, head, a, b)
                except _RENDER_ERRORS:
                    pass
            if text is None:
                body = kind.body(data)
                if body[-1:] == "\n":
                    body = body[:-1]
                text = generic % (head, a, b, kind.name, body)
            if pending:
                text = pending + text
                pending = ""
            add(text)
        if stamps:
            yield stamps, lines, len(stamps) - dropped
    if pending:
        # A loss with no event after it: a line of its own at the loss's time (as fleet.merge.cpu_items).
        yield [pending_ts if timestamp is None else timestamp(pending_ts, cpu)], [pending], 0


class _Kind(NamedTuple):
    """How one event id prints: its name column, its body renderer, and the whole line in one go when possible."""

    name: str
    body: Callable[[bytes], str]
    line: Optional[LineRender]


_RENDER_ERRORS = (struct.error, ValueError, OverflowError, IndexError, TypeError, KeyError, RecursionError)
"""What a body renderer may raise on a malformed record (PrintFormat.render then prints the raw fields)."""


def _kind(decoder: Decoder, etype: int, want: Optional[Callable[[str, str], bool]], lead: str) -> Optional[_Kind]:
    """How event id `etype` prints, or None when the filter drops it."""
    if want is not None:
        fmt = decoder.event_format(etype)
        if not want(fmt.system if fmt else "", fmt.name if fmt else "ftrace-id-%d" % etype):
            return None
    name_col, render = decoder.line_info(etype)
    name_col += " "
    r = decoder.renderer(etype)
    parts = r.line_parts if isinstance(r, PrintFormat) else None
    line = line_function(parts, lead + name_col.replace("%", "%%")) if parts is not None else None
    return _Kind(name_col, render, line)
