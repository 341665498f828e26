"""Decoded events: the Event record, Lost markers, and the Decoder that turns ring-buffer pages into them."""

# ruff: noqa: UP031  (trace-cmd layouts are printf formats)
from __future__ import annotations

import heapq
import struct
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from fleet.errors import DecodeError
from fleet.ftrace.formats import EventFormat, FieldValue, parse_format
from fleet.ftrace.meta import TraceMeta
from fleet.ftrace.printfmt import BprintRenderer, Context, PrintFormat
from fleet.ftrace.ringbuf import PageHeader, page_records, parse_header_event, parse_header_page
from fleet.ftrace.symbols import Kallsyms, parse_cmdlines, parse_printk_formats


@dataclass
class Event:
    """One trace record. `ts` is the raw trace-clock value; fields() and text() decode on demand."""

    ts: int
    cpu: int
    id: int
    pid: int
    flags: int
    preempt_count: int
    data: bytes
    decoder: Decoder = field(repr=False, compare=False)

    @property
    def format(self) -> Optional[EventFormat]:
        return self.decoder.event_format(self.id)

    @property
    def name(self) -> str:
        f = self.format
        return f.name if f else f"ftrace-id-{self.id}"

    @property
    def system(self) -> str:
        f = self.format
        return f.system if f else ""

    @property
    def comm(self) -> str:
        return self.decoder.comm(self.pid)

    def fields(self) -> Dict[str, FieldValue]:
        """Every field (common ones included) by name, decoded by endianness and type."""
        f = self.format
        if f is None:
            return {}
        big = self.decoder.meta.big_endian
        return {x.name: x.value(self.data, big) for x in f.all_fields()}

    def text(self) -> str:
        """The event body as `trace-cmd report -N` prints it after `NAME: `."""
        return self.decoder.render_body(self.id, self.data)


@dataclass
class Lost:
    """Events were lost on `cpu` before the record at `ts`; `count` is None when the kernel did not say how many."""

    cpu: int
    ts: int
    count: Optional[int]


Item = Union[Event, Lost]


class Decoder:
    """Decodes one buffer's pages using the texts of a TraceMeta; formats are parsed and compiled lazily."""

    def __init__(self, meta: TraceMeta, kernel_symbols: bool = False) -> None:
        """`kernel_symbols`: print %pS as the kernel's `trace` file does (`name+0xOFF/0xSIZE`); trace-cmd's
        `name+0xOFF` otherwise."""
        self.meta = meta
        self.kernel_symbols = kernel_symbols
        self.header: PageHeader = parse_header_page(meta.header_page, meta.big_endian, meta.long_size, meta.page_size)
        parse_header_event(meta.header_event)
        self._texts: Optional[Dict[int, Tuple[str, str]]] = None
        self._formats: Dict[int, Optional[EventFormat]] = {}
        self._renderers: Dict[int, Union[PrintFormat, BprintRenderer, None]] = {}
        self._ctx: Optional[Context] = None
        self._cmdlines: Optional[Dict[int, str]] = None
        self._lines: Dict[int, Tuple[str, Callable[[bytes], str]]] = {}
        self._tasks: Dict[int, str] = {}
        self.failed_events: Dict[str, str] = {}
        """Event names whose print fmt could not be compiled -> reason (they print raw fields)."""
        e = ">" if meta.big_endian else "<"
        self._common = struct.Struct(e + "HBBi")

    # ---- lazy tables
    def _index(self) -> Dict[int, Tuple[str, str]]:
        if self._texts is None:
            texts: Dict[int, Tuple[str, str]] = {}
            for system, items in [("ftrace", self.meta.ftrace_formats)] + list(self.meta.event_formats.items()):
                for text in items:
                    for line in text.splitlines():
                        if line.startswith("ID:"):
                            try:
                                texts.setdefault(int(line[3:].strip(), 0), (system, text))
                            except ValueError:
                                pass
                            break
            self._texts = texts
        return self._texts

    def event_format(self, event_id: int) -> Optional[EventFormat]:
        if event_id not in self._formats:
            entry = self._index().get(event_id)
            fmt = None
            if entry is not None:
                fmt = parse_format(entry[1], entry[0], self.meta.long_size)
            self._formats[event_id] = fmt
        return self._formats[event_id]

    def formats(self) -> List[EventFormat]:
        """Every event format the metadata holds (parses all of them)."""
        out = []
        for i in sorted(self._index()):
            f = self.event_format(i)
            if f is not None:
                out.append(f)
        return out

    @property
    def context(self) -> Context:
        if self._ctx is None:
            self._ctx = Context(
                big_endian=self.meta.big_endian,
                long_size=self.meta.long_size,
                kallsyms=Kallsyms.parse(self.meta.kallsyms),
                printk=parse_printk_formats(self.meta.printk_formats),
                kernel_symbols=self.kernel_symbols,
            )
        return self._ctx

    def comm(self, pid: int) -> str:
        """The task name saved_cmdlines gives `pid`: `<idle>` for 0, `<...>` when unknown (as trace-cmd)."""
        if self._cmdlines is None:
            self._cmdlines = parse_cmdlines(self.meta.saved_cmdlines)
            self._cmdlines[0] = "<idle>"
        return self._cmdlines.get(pid, "<...>")

    def renderer(self, event_id: int) -> Union[PrintFormat, BprintRenderer, None]:
        if event_id not in self._renderers:
            fmt = self.event_format(event_id)
            r: Union[PrintFormat, BprintRenderer, None] = None
            if fmt is not None:
                if fmt.system == "ftrace" and fmt.name == "bprint":
                    r = BprintRenderer(fmt, self.context)
                else:
                    r = PrintFormat(fmt, self.context)
                    if r.failed:
                        self.failed_events[fmt.name] = r.reason
            self._renderers[event_id] = r
        return self._renderers[event_id]

    def task_column(self, pid: int) -> str:
        """`COMM-PID` as trace-cmd's report column prints it (comm right-aligned in 16, pid left-aligned in 5)."""
        text = self._tasks.get(pid)
        if text is None:
            text = "%16s-%-5d" % (self.comm(pid), pid)
            if len(self._tasks) < 1 << 16:
                self._tasks[pid] = text
        return text

    def line_info(self, event_id: int) -> Tuple[str, Callable[[bytes], str]]:
        """(`NAME:` padded to trace-cmd's 21 columns, body renderer) of an event id, built once per id."""
        hit = self._lines.get(event_id)
        if hit is None:
            fmt = self.event_format(event_id)
            r = self.renderer(event_id)
            name = (fmt.name if fmt else "ftrace-id-%d" % event_id) + ":"
            unknown = "[UNKNOWN TYPE %d]" % event_id
            hit = self._lines[event_id] = ("%-21s" % name, r.render if r is not None else (lambda d: unknown))
        return hit

    def render_body(self, event_id: int, data: bytes) -> str:
        r = self.renderer(event_id)
        if r is None:
            return "[UNKNOWN TYPE %d]" % event_id
        return r.render(data)

    # ---- pages
    def decode_pages(self, cpu: int, pages: Iterable[bytes]) -> Iterator[Item]:
        """Events (and Lost markers where a page reports missed events) of one CPU's pages, in page order."""
        header = self.header
        unpack = self._common.unpack_from
        for page in pages:
            info, recs = page_records(page, header)
            if info.missed:
                yield Lost(cpu, recs[0][0] if recs else info.timestamp, info.missed_count)
            for ts, off, length in recs:
                if length < 8:
                    raise DecodeError(f"cpu {cpu}: record of {length} bytes has no common header")
                data = page[off : off + length]
                etype, flags, pc, pid = unpack(data, 0)
                yield Event(ts, cpu, etype, pid, flags, pc, data, self)


def merge_cpus(streams: Iterable[Iterable[Item]]) -> Iterator[Item]:
    """Merge per-CPU streams by timestamp; equal timestamps keep CPU order (heapq.merge is stable)."""
    return heapq.merge(*streams, key=lambda it: it.ts)
