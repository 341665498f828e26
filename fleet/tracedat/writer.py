"""Writing trace.dat version 7 (zstd by default) that `trace-cmd report` and KernelShark open.

Layout, as trace-cmd writes it: header; metadata sections; an options section; then per buffer a flyrecord
section (page-aligned per-CPU data in compressed chunks of 10 pages) followed by an options section holding its
BUFFER option; finally the strings section. Every section follows the previous one without gaps, because
trace-cmd finds the strings by walking the sections from the start. Pages are streamed: memory stays bounded by
one chunk per CPU, whatever the trace's size.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from typing import BinaryIO, Dict, Iterable, List, Mapping, Optional

from fleet.errors import DecodeError, FleetError
from fleet.ftrace.meta import TraceMeta
from fleet.tracedat import constants as c
from fleet.tracedat.binary import Packer
from fleet.tracedat.compression import Codec
from fleet.tracedat.metadata import encode_event_formats, encode_ftrace_formats, encode_header_info, encode_sized
from fleet.tracedat.options import (
    BufferOption,
    CpuDataRef,
    Guest,
    TimeShift,
    Tsc2Nsec,
    encode_buffer,
    encode_option,
    encode_text,
    encode_time_shift,
    encode_tsc2nsec,
)


@dataclass
class WriteOptions:
    """File-wide options; None means "derive from the top-level TraceMeta" (or leave out)."""

    compression: str = "zstd"
    """"zstd", "zlib" or "none" (trace-cmd 3.1 builds often read only zstd)."""
    level: int = 3
    trace_clock_text: Optional[str] = None
    """The TRACECLOCK option, e.g. "[local] global x86-tsc"; default "[<meta.trace_clock>]"."""
    uname: Optional[str] = None
    trace_id: Optional[int] = None
    """TRACEID, the session id a peer's TIME_SHIFT refers to; default a random 64-bit number."""
    cpucount: Optional[int] = None
    cpustats: List[str] = field(default_factory=list)
    """One text per CPU, the content of per_cpu/cpuN/stats ("CPU: N" first, as trace-cmd writes it)."""
    time_shift: Optional[TimeShift] = None
    """Mapping of this file's clock onto a peer's; see `constant_time_shift` for the simple case."""
    tsc2nsec: Optional[Tsc2Nsec] = None
    date: Optional[str] = None
    offset: Optional[str] = None
    guests: List[Guest] = field(default_factory=list)


class TraceDatWriter:
    """Writes one trace.dat: construct with the top-level metadata, `add_buffer` per instance, then `close`."""

    def __init__(self, path: str, meta: TraceMeta, options: Optional[WriteOptions] = None) -> None:
        self.options = options or WriteOptions()
        self.meta = meta
        self._pack = Packer(meta.big_endian)
        if self.options.compression == "none":
            self._codec: Optional[Codec] = None
        elif self.options.compression == "zstd":
            self._codec = Codec.zstd(self.options.level)
        elif self.options.compression == "zlib":
            self._codec = Codec("zlib", "1", self.options.level)
        else:
            raise FleetError(f"unknown trace.dat compression {self.options.compression!r} (zstd, zlib or none)")
        self._strings = bytearray()
        self._string_ids: Dict[str, int] = {}
        self._done_patch = 0  # file offset of the last options section's DONE value, patched to chain the next
        self._buffers = 0
        try:
            self._f: BinaryIO = open(path, "w+b")  # noqa: SIM115 -- closed in close()
        except OSError as exc:
            raise FleetError(f"cannot write {path}: {exc.strerror}") from None
        self._write_header()

    def __enter__(self) -> TraceDatWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Sections

    def _string(self, text: str) -> int:
        if text not in self._string_ids:
            self._string_ids[text] = len(self._strings)
            self._strings += text.encode() + b"\0"
        return self._string_ids[text]

    def _begin_section(self, sid: int, desc: str, compressed: bool) -> int:
        """Write a section header with a size placeholder; return where the size goes."""
        p = self._pack
        flags = c.SEC_FL_COMPRESS if compressed and self._codec else 0
        self._f.write(p.u16(sid) + p.u16(flags) + p.s32(self._string(desc)))
        size_at = self._f.tell()
        self._f.write(p.u64(0))
        return size_at

    def _end_section(self, size_at: int) -> None:
        end = self._f.tell()
        self._f.seek(size_at)
        self._f.write(self._pack.u64(end - size_at - 8))
        self._f.seek(end)

    def _section(self, sid: int, desc: str, payload: bytes, compressed: bool = True) -> int:
        offset = self._f.tell()
        size_at = self._begin_section(sid, desc, compressed)
        if compressed and self._codec:
            block = self._codec.compress(payload)
            self._f.write(self._pack.u32(len(block)) + self._pack.u32(len(payload)) + block)
        else:
            self._f.write(payload)
        self._end_section(size_at)
        return offset

    def _options_section(self, options: List[bytes]) -> None:
        """An uncompressed options section; its DONE says 0 until a later section is chained to it."""
        p = self._pack
        here = self._f.tell()
        if self._done_patch:
            cur = self._f.tell()
            self._f.seek(self._done_patch)
            self._f.write(p.u64(here))
            self._f.seek(cur)
        size_at = self._begin_section(c.SEC_OPTIONS, "options", compressed=False)
        self._f.write(b"".join(options) + p.u16(c.OPT_DONE) + p.u32(8))
        self._done_patch = self._f.tell()
        self._f.write(p.u64(0))
        self._end_section(size_at)

    def _write_header(self) -> None:
        m, p = self.meta, self._pack
        head = c.MAGIC + b"7\0" + bytes([1 if m.big_endian else 0, m.long_size]) + p.u32(m.page_size)
        if self._codec:
            head += Packer.cstring(self._codec.name) + Packer.cstring(self._codec.version)
        else:
            head += b"none\0\0"
        self._f.write(head)
        options_start_at = self._f.tell()
        self._f.write(p.u64(0))
        refs = [
            (c.OPT_HEADER_INFO, "headers", encode_header_info(p, m.header_page, m.header_event)),
            (c.OPT_FTRACE_EVENTS, "ftrace events", encode_ftrace_formats(p, m.ftrace_formats)),
            (c.OPT_EVENT_FORMATS, "events format", encode_event_formats(p, m.event_formats)),
            (c.OPT_KALLSYMS, "kallsyms", encode_sized(p, m.kallsyms, 4)),
            (c.OPT_PRINTK, "printk", encode_sized(p, m.printk_formats, 4)),
            (c.OPT_CMDLINES, "command lines", encode_sized(p, m.saved_cmdlines, 8)),
        ]
        options = [encode_option(p, sid, p.u64(self._section(sid, desc, payload))) for sid, desc, payload in refs]
        start = self._f.tell()
        self._f.seek(options_start_at)
        self._f.write(p.u64(start))
        self._f.seek(start)
        options += self._global_options()
        self._options_section(options)

    def _global_options(self) -> List[bytes]:
        m, p, o = self.meta, self._pack, self.options
        out = []
        tsc = o.tsc2nsec
        if tsc is None and m.tsc2nsec:
            tsc = Tsc2Nsec(m.tsc2nsec.get("mult", 0), m.tsc2nsec.get("shift", 0), m.tsc2nsec.get("offset", 0))
        if tsc is not None:
            out.append(encode_option(p, c.OPT_TSC2NSEC, encode_tsc2nsec(p, tsc)))
        clock_text = o.trace_clock_text if o.trace_clock_text is not None else f"[{m.trace_clock}]\n"
        out.append(encode_option(p, c.OPT_TRACECLOCK, encode_text(clock_text)))
        uname = o.uname if o.uname is not None else m.uname
        if uname:
            out.append(encode_option(p, c.OPT_UNAME, encode_text(uname)))
        trace_id = o.trace_id if o.trace_id is not None else random.getrandbits(64)
        out.append(encode_option(p, c.OPT_TRACEID, p.u64(trace_id)))
        if o.date is not None:
            out.append(encode_option(p, c.OPT_DATE, encode_text(o.date)))
        if o.offset is not None:
            out.append(encode_option(p, c.OPT_OFFSET, encode_text(o.offset)))
        if o.time_shift is not None:
            out.append(encode_option(p, c.OPT_TIME_SHIFT, encode_time_shift(p, o.time_shift)))
        for guest in o.guests:
            payload = Packer.cstring(guest.name) + p.u64(guest.trace_id) + p.u32(len(guest.vcpu_pids))
            payload += b"".join(p.u32(cpu) + p.u32(pid) for cpu, pid in sorted(guest.vcpu_pids.items()))
            out.append(encode_option(p, c.OPT_GUEST, payload))
        for stat in o.cpustats:
            out.append(encode_option(p, c.OPT_CPUSTAT, encode_text(stat)))
        out.append(encode_option(p, c.OPT_CPUCOUNT, p.u32(o.cpucount if o.cpucount is not None else m.cpus)))
        return out

    # Buffers

    def add_buffer(self, meta: TraceMeta, pages: Mapping[int, Iterable[bytes]]) -> None:
        """Write one buffer's data: `pages` maps each CPU to its pages in order, whole or truncated to their used
        part (they are zero-padded to `meta.page_size`). Iterables are consumed one CPU after another."""
        p = self._pack
        page_size = meta.page_size
        if page_size <= 0 or page_size & (page_size - 1):
            raise FleetError(f"buffer {meta.buffer_name!r}: page size {page_size} is not a power of two")
        section_at = self._f.tell()
        size_at = self._begin_section(c.SEC_FLYRECORD, f"buffer flyrecord {meta.buffer_name}", compressed=True)
        refs: List[CpuDataRef] = []
        for cpu in sorted(pages):
            pos = self._f.tell()
            aligned = (pos + page_size - 1) & ~(page_size - 1)
            self._f.write(b"\0" * (aligned - pos))
            size = self._write_cpu(pages[cpu], page_size, f"buffer {meta.buffer_name!r} CPU {cpu}")
            refs.append(CpuDataRef(cpu, aligned, size))
        self._end_section(size_at)
        buf = BufferOption(meta.buffer_name, section_at, meta.trace_clock, page_size, refs)
        self._options_section([encode_option(p, c.OPT_BUFFER, encode_buffer(p, buf))])
        self._buffers += 1

    def _write_cpu(self, pages: Iterable[bytes], page_size: int, what: str) -> int:
        start = self._f.tell()
        if self._codec is None:
            for page in pages:
                self._f.write(_pad(page, page_size, what))
            return self._f.tell() - start
        p = self._pack
        self._f.write(p.u32(0))
        chunks = 0
        batch: List[bytes] = []
        for page in pages:
            batch.append(_pad(page, page_size, what))
            if len(batch) == c.PAGES_IN_CHUNK:
                self._write_chunk(batch)
                chunks += 1
                batch = []
        if batch:
            self._write_chunk(batch)
            chunks += 1
        if not chunks:
            self._f.seek(start)
            self._f.truncate()
            return 0
        end = self._f.tell()
        self._f.seek(start)
        self._f.write(p.u32(chunks))
        self._f.seek(end)
        return end - start

    def _write_chunk(self, pages: List[bytes]) -> None:
        assert self._codec is not None
        raw = b"".join(pages)
        block = self._codec.compress(raw)
        self._f.write(self._pack.u32(len(block)) + self._pack.u32(len(raw)) + block)

    def close(self) -> None:
        """Write the strings section and close the file (idempotent)."""
        if self._f.closed:
            return
        try:
            self._string("strings")
            self._section(c.OPT_STRINGS, "strings", bytes(self._strings))
        finally:
            self._f.close()

    def abort(self, path: str) -> None:
        """Close and remove a partly written file."""
        self._f.close()
        try:
            os.unlink(path)
        except OSError:
            pass


def _pad(page: bytes, page_size: int, what: str) -> bytes:
    if len(page) > page_size:
        raise DecodeError(f"{what}: a page of {len(page)} bytes exceeds the page size {page_size}")
    if len(page) < page_size:
        return bytes(page) + b"\0" * (page_size - len(page))
    return bytes(page)


def constant_time_shift(peer_trace_id: int, cpus: int, offset: int) -> TimeShift:
    """A TIME_SHIFT that adds `offset` ns to every timestamp of every CPU (one sample per CPU)."""
    from fleet.tracedat.options import TimeShiftSample

    return TimeShift(peer_trace_id, 0, [[TimeShiftSample(0, offset, 1, 0)] for _ in range(cpus)])
