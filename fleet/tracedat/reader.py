"""Reading trace.dat files, versions 6 and 7: header, metadata, options and per-CPU ring-buffer pages.

Every malformed input raises DecodeError; every loop is bounded by the file's size, so a corrupt file never hangs.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

from fleet.errors import DecodeError
from fleet.ftrace.meta import TraceMeta
from fleet.tracedat import constants as c
from fleet.tracedat.binary import Buffer, Cursor
from fleet.tracedat.compression import Codec
from fleet.tracedat.metadata import parse_event_formats, parse_ftrace_formats, parse_header_info
from fleet.tracedat.options import BufferOption, CpuDataRef, TimeShift, TraceOptions, Tsc2Nsec, parse_option

_USEC_CLOCKS = ("local", "global", "uptime", "perf", "tai", "x86-tsc-nsec")


@dataclass
class TraceBuffer:
    """One trace instance's flyrecord data (the top-level buffer has the name "")."""

    meta: TraceMeta
    options: TraceOptions
    cpu_data: Dict[int, CpuDataRef]
    compressed: bool
    _file: TraceDat = field(repr=False)

    @property
    def name(self) -> str:
        return self.meta.buffer_name

    @property
    def cpus(self) -> List[int]:
        """CPU ids that have a data entry in this buffer (possibly empty)."""
        return sorted(self.cpu_data)

    @property
    def time_shift(self) -> Optional[TimeShift]:
        return self.options.time_shift

    @property
    def tsc2nsec(self) -> Optional[Tsc2Nsec]:
        return self.options.tsc2nsec

    @property
    def in_usecs(self) -> bool:
        """Whether timestamps are nanoseconds (trace-cmd prints SECS.USECS) rather than raw counter values."""
        if self.options.tsc2nsec is not None and self.options.tsc2nsec.mult:
            return True
        clock = self.options.clock
        if clock is None:
            return True  # trace-cmd keeps its microsecond default when TRACECLOCK is absent
        return clock in _USEC_CLOCKS or clock.startswith("mono")

    @property
    def timestamp_is_identity(self) -> bool:
        """True when `timestamp` returns its input (no TIME_SHIFT, TSC2NSEC, DATE or OFFSET)."""
        o = self.options
        return o.time_shift is None and not (o.tsc2nsec and o.tsc2nsec.mult) and o.ts_offset == 0

    def timestamp(self, ts: int, cpu: int) -> int:
        """A raw ring-buffer timestamp as trace-cmd report shows it: TIME_SHIFT, TSC2NSEC, then DATE/OFFSET."""
        if self.options.time_shift is not None:
            ts = self.options.time_shift.correct(ts, cpu)
        conv = self.options.tsc2nsec
        if conv is not None and conv.mult:
            ts = (ts * conv.mult) >> min(conv.shift, 63)
        return ts + self.options.ts_offset

    def pages(self, cpu: int) -> Iterator[bytes]:
        """The CPU's ring-buffer pages in order, each exactly `meta.page_size` bytes."""
        ref = self.cpu_data.get(cpu)
        if ref is None or ref.size == 0:
            return iter(())
        if self.compressed:
            return self._file._compressed_pages(ref, self.meta.page_size)
        return self._file._plain_pages(ref, self.meta.page_size)


class TraceDat:
    """An open trace.dat file. Use `TraceDat.open(path)`; close it (or use `with`) to release the mapping."""

    def __init__(self, path: str, data: Buffer, fd: Optional[int]) -> None:
        self.path = path
        self._data = data
        self._fd = fd
        self.version = 0
        self.big_endian = False
        self.long_size = 8
        self.page_size = 4096
        self.codec: Optional[Codec] = None
        self.compression = "none"
        self.header_page = ""
        self.header_event = ""
        self.ftrace_formats: List[str] = []
        self.event_formats: Dict[str, List[str]] = {}
        self.kallsyms = ""
        self.printk_formats = ""
        self.saved_cmdlines = ""
        self.cpus = 0
        self.options = TraceOptions()
        self.buffers: List[TraceBuffer] = []
        self.latency_text: Dict[str, str] = {}
        self.options_offsets: List[int] = []
        """v7: file offsets of the options sections, in chain order."""

    @classmethod
    def open(cls, path: str) -> TraceDat:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise DecodeError(f"cannot open {path}: {exc.strerror}") from None
        try:
            size = os.fstat(fd).st_size
            data: Buffer = mmap.mmap(fd, 0, access=mmap.ACCESS_READ) if size else b""
        except (OSError, ValueError) as exc:
            os.close(fd)
            raise DecodeError(f"cannot map {path}: {exc}") from None
        return cls._parse(path, data, fd)

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "<bytes>") -> TraceDat:
        """Parse an in-memory file (tests, fuzzing)."""
        return cls._parse(name, data, None)

    @classmethod
    def _parse(cls, path: str, data: Buffer, fd: Optional[int]) -> TraceDat:
        self = cls(path, data, fd)
        try:
            self._read()
        except DecodeError as exc:
            self.close()
            raise DecodeError(f"{path}: {exc}") from None
        except (ValueError, OverflowError, MemoryError) as exc:
            self.close()
            raise DecodeError(f"{path}: malformed trace.dat ({exc})") from None
        return self

    def close(self) -> None:
        if isinstance(self._data, mmap.mmap):
            self._data.close()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> TraceDat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Header and metadata

    def _read(self) -> None:
        cur = Cursor(self._data, False, "trace.dat header")
        if cur.take(10) != c.MAGIC:
            raise DecodeError("not a trace.dat file (bad magic)")
        version_text = cur.cstring()
        if not version_text.isdigit():
            raise DecodeError(f"bad file version {version_text!r}")
        self.version = int(version_text)
        if self.version not in (6, 7):
            raise DecodeError(f"trace.dat version {self.version} is not supported (6 and 7 are)")
        endian = cur.take(1)[0]
        if endian > 1:
            raise DecodeError(f"bad endianness flag {endian}")
        self.big_endian = endian == 1
        self.long_size = cur.take(1)[0]
        if self.long_size not in (4, 8):
            raise DecodeError(f"bad long size {self.long_size}")
        cur = Cursor(self._data, self.big_endian, "trace.dat header", cur.pos)
        self.page_size = cur.u32()
        if self.page_size < 64 or self.page_size & (self.page_size - 1) or self.page_size > 1 << 24:
            raise DecodeError(f"implausible page size {self.page_size}")
        if self.version >= c.FILE_VERSION_SECTIONS:
            self._read_v7(cur)
        else:
            self._read_v6(cur)
        self._build_buffers()

    def _read_v6(self, cur: Cursor) -> None:
        cur.what = "trace.dat metadata"
        self.header_page, self.header_event = parse_header_info(cur)
        self.ftrace_formats = parse_ftrace_formats(cur)
        self.event_formats = parse_event_formats(cur)
        self.kallsyms = cur.sized_text(4)
        self.printk_formats = cur.sized_text(4)
        self.saved_cmdlines = cur.sized_text(8)
        self.cpus = cur.u32()
        kind = cur.take(10)
        if kind.startswith(b"options"):
            self._read_options_v6(cur)
            kind = cur.take(10)
        cpus = self.options.cpucount if self.options.cpucount is not None else self.cpus
        top = BufferOption(name="", offset=0, page_size=self.page_size)
        if kind.startswith(b"flyrecord"):
            top.cpus = self._read_cpu_refs_v6(cur, cpus)
        elif kind.startswith(b"latency"):
            top.latency = True
            self.latency_text[""] = bytes(self._data[cur.pos :]).decode("utf-8", "replace")
        else:
            raise DecodeError(f"expected 'flyrecord' or 'latency' at offset {cur.pos - 10}")
        instances = [b for b in self.options.buffers if b.name]
        for inst in instances:
            sub = Cursor(self._data, self.big_endian, f"buffer {inst.name!r}", inst.offset)
            kind = sub.take(10)
            if kind.startswith(b"options"):
                self._read_options_v6(sub)
                kind = sub.take(10)
            if not kind.startswith(b"flyrecord"):
                raise DecodeError(f"buffer {inst.name!r}: expected 'flyrecord' at offset {inst.offset}")
            inst.cpus = self._read_cpu_refs_v6(sub, cpus)
            inst.page_size = self.page_size
        self.options.buffers = [top] + instances

    def _read_options_v6(self, cur: Cursor) -> None:
        while True:
            oid = cur.u16()
            if oid == c.OPT_DONE:  # version 6 ends options with a bare zero id, no size
                return
            size = cur.u32()
            parse_option(self.options, oid, cur.take(size), self.big_endian, sectioned=False)

    def _read_cpu_refs_v6(self, cur: Cursor, cpus: int) -> List[CpuDataRef]:
        if cpus * 16 > cur.remaining():
            raise DecodeError(f"{cpus} CPUs of flyrecord offsets do not fit in the file")
        return [CpuDataRef(cpu, cur.u64(), cur.u64()) for cpu in range(cpus)]

    def _read_v7(self, cur: Cursor) -> None:
        self.compression = cur.cstring()
        zversion = cur.cstring()
        if self.compression != "none":
            self.codec = Codec(self.compression, zversion)
        start = cur.u64()
        visited = set()
        offset = start
        while offset:
            if offset in visited:
                raise DecodeError(f"options sections form a loop at offset {offset}")
            visited.add(offset)
            self.options_offsets.append(offset)
            offset = self._read_options_section(offset)
        sec = self.options.sections
        if c.OPT_HEADER_INFO not in sec:
            raise DecodeError("no HEADER_INFO section (header_page/header_event)")
        self.header_page, self.header_event = parse_header_info(self._section(sec[c.OPT_HEADER_INFO], 16))
        if c.OPT_FTRACE_EVENTS in sec:
            self.ftrace_formats = parse_ftrace_formats(self._section(sec[c.OPT_FTRACE_EVENTS], 17))
        if c.OPT_EVENT_FORMATS in sec:
            self.event_formats = parse_event_formats(self._section(sec[c.OPT_EVENT_FORMATS], 18))
        if c.OPT_KALLSYMS in sec:
            self.kallsyms = self._section(sec[c.OPT_KALLSYMS], 19).sized_text(4)
        if c.OPT_PRINTK in sec:
            self.printk_formats = self._section(sec[c.OPT_PRINTK], 20).sized_text(4)
        if c.OPT_CMDLINES in sec:
            self.saved_cmdlines = self._section(sec[c.OPT_CMDLINES], 21).sized_text(8)
        for buf in self.options.buffers:
            if buf.latency:
                self.latency_text[buf.name] = self._latency_text(buf.offset)

    def _latency_text(self, offset: int) -> str:
        """A BUFFER_TEXT section: the `trace` file's text, in compressed chunks when flagged."""
        cur, flags = self._section_header(offset, c.SEC_LATENCY)
        if not flags & c.SEC_FL_COMPRESS:
            return cur.take(cur.remaining()).decode("utf-8", "replace")
        if self.codec is None:
            raise DecodeError(f"latency section at offset {offset} is compressed but the file names no codec")
        count = cur.u32()
        if count * 8 > cur.remaining():
            raise DecodeError(f"latency section at offset {offset}: {count} chunks cannot fit")
        parts = []
        for _ in range(count):
            zsize, usize = cur.u32(), cur.u32()
            parts.append(self.codec.decompress(cur.take(zsize), usize, cur.what))
        return b"".join(parts).decode("utf-8", "replace")

    def _section_header(self, offset: int, want: int) -> Tuple[Cursor, int]:
        """Cursor after a section header of id `want` at `offset` (ending where the section ends), and its flags."""
        cur = Cursor(self._data, self.big_endian, f"section {want} at offset {offset}", offset)
        sid, flags, _desc, size = cur.u16(), cur.u16(), cur.s32(), cur.u64()
        if sid != want:
            raise DecodeError(f"expected section {want} at offset {offset}, found id {sid}")
        if size > cur.remaining():
            raise DecodeError(f"section {want} at offset {offset} runs past the end of the file")
        cur.end = cur.pos + size
        return cur, flags

    def _section(self, offset: int, want: int) -> Cursor:
        """The payload of a section, decompressed when its flag says so."""
        cur, flags = self._section_header(offset, want)
        if flags & c.SEC_FL_COMPRESS:
            if self.codec is None:
                raise DecodeError(f"section {want} at offset {offset} is compressed but the file names no codec")
            csize, usize = cur.u32(), cur.u32()
            payload = self.codec.decompress(cur.take(csize), usize, cur.what)
        else:
            payload = cur.take(cur.remaining())
        return Cursor(payload, self.big_endian, cur.what)

    def _read_options_section(self, offset: int) -> int:
        """Parse one options section; return the offset of the next one (0 at the end of the chain)."""
        cur = self._section(offset, c.SEC_OPTIONS)
        cur.what = f"options section at offset {offset}"
        while True:
            oid = cur.u16()
            size = cur.u32()
            raw = cur.take(size)
            if oid == c.OPT_DONE:
                return Cursor(raw, self.big_endian, cur.what).u64()
            parse_option(self.options, oid, raw, self.big_endian, sectioned=True)

    # Buffers and pages

    def _build_buffers(self) -> None:
        clock = self.options.clock or "local"
        flyrecords = [b for b in self.options.buffers if not b.latency]
        flyrecords.sort(key=lambda b: b.name != "")  # top level first, instances in file order
        for opt in flyrecords:
            compressed = False
            if self.version >= c.FILE_VERSION_SECTIONS:
                _head, flags = self._section_header(opt.offset, c.SEC_FLYRECORD)
                compressed = bool(flags & c.SEC_FL_COMPRESS)
                if compressed and self.codec is None:
                    raise DecodeError(f"buffer {opt.name!r} is compressed but the file names no codec")
            page_size = opt.page_size or self.page_size
            if page_size < 64 or page_size & (page_size - 1) or page_size > 1 << 24:
                raise DecodeError(f"buffer {opt.name!r}: implausible page size {page_size}")
            refs = {}
            for ref in opt.cpus:
                if ref.size and ref.offset + ref.size > len(self._data):
                    raise DecodeError(
                        f"buffer {opt.name!r} CPU {ref.cpu}: data at {ref.offset}+{ref.size} runs past the end "
                        f"of the file ({len(self._data)} bytes): truncated file?"
                    )
                refs[ref.cpu] = ref
            ncpus = max([self.options.cpucount or 0, self.cpus] + [r.cpu + 1 for r in opt.cpus])
            tsc = self.options.tsc2nsec
            meta = TraceMeta(
                header_page=self.header_page,
                header_event=self.header_event,
                ftrace_formats=self.ftrace_formats,
                event_formats=self.event_formats,
                kallsyms=self.kallsyms,
                printk_formats=self.printk_formats,
                saved_cmdlines=self.saved_cmdlines,
                big_endian=self.big_endian,
                long_size=self.long_size,
                page_size=page_size,
                cpus=ncpus,
                trace_clock=opt.clock or clock,
                uname=self.options.uname,
                buffer_name=opt.name,
                tsc2nsec={"mult": tsc.mult, "shift": tsc.shift, "offset": tsc.offset} if tsc else None,
            )
            self.buffers.append(TraceBuffer(meta, self.options, refs, compressed, self))

    def buffer(self, name: str = "") -> TraceBuffer:
        for buf in self.buffers:
            if buf.name == name:
                return buf
        raise DecodeError(f"{self.path}: no buffer named {name!r}")

    def _plain_pages(self, ref: CpuDataRef, page_size: int) -> Iterator[bytes]:
        end = ref.offset + ref.size
        for pos in range(ref.offset, end, page_size):
            page = bytes(self._data[pos : min(pos + page_size, end)])
            if len(page) < page_size:
                page += b"\0" * (page_size - len(page))
            yield page

    def _compressed_pages(self, ref: CpuDataRef, page_size: int) -> Iterator[bytes]:
        assert self.codec is not None
        what = f"CPU {ref.cpu} data at offset {ref.offset}"
        # trace-cmd 3.1 stores a size 4 bytes short of the chunks it wrote, so only the file's end bounds them.
        cur = Cursor(self._data, self.big_endian, what, ref.offset)
        count = cur.u32()
        if count * 8 > cur.remaining():
            raise DecodeError(f"{what}: {count} chunks cannot fit in {ref.size} bytes")
        for _ in range(count):
            zsize, usize = cur.u32(), cur.u32()
            if usize % page_size:
                raise DecodeError(f"{what}: chunk of {usize} bytes is not whole pages of {page_size}")
            chunk = self.codec.decompress(cur.take(zsize), usize, what)
            for pos in range(0, usize, page_size):
                yield chunk[pos : pos + page_size]
