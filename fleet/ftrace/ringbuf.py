"""Ring-buffer pages: the page header (`events/header_page`) and the compressed event headers inside a page.

Mirrors what libtraceevent's kbuffer does, so timestamps and lost-event counts match `trace-cmd report`.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple, Union

from fleet.errors import DecodeError

TYPE_PADDING = 29
TYPE_TIME_EXTEND = 30
TYPE_TIME_STAMP = 31
TS_SHIFT = 27
TS_MSB = 0xF8 << 56
# Flags in the high bits of a page's `commit` word (kernel ring_buffer.c).
RB_MISSED_EVENTS = 1 << 31
RB_MISSED_STORED = 1 << 30
COMMIT_MASK = (1 << 27) - 1

_FIELD = re.compile(r"field:\s*(?P<decl>[^;]*?)\s*;\s*offset:\s*(\d+)\s*;\s*size:\s*(\d+)\s*;")


@dataclass(frozen=True)
class PageHeader:
    """Layout of a ring-buffer page header: where the timestamp and commit words sit and where data starts."""

    big_endian: bool = False
    long_size: int = 8
    ts_offset: int = 0
    commit_offset: int = 8
    commit_size: int = 8
    data_offset: int = 16
    page_size: int = 4096

    @property
    def endian(self) -> str:
        return ">" if self.big_endian else "<"


def parse_header_page(text: str, big_endian: bool = False, long_size: int = 8, page_size: int = 4096) -> PageHeader:
    """Parse the text of `events/header_page` (fields timestamp, commit, data) into a PageHeader."""
    found = {}
    for m in _FIELD.finditer(text):
        name = m.group("decl").split()[-1] if m.group("decl").split() else ""
        found[name] = (int(m.group(2)), int(m.group(3)))
    if "timestamp" not in found or "commit" not in found or "data" not in found:
        if not text.strip():
            # No header text at all (e.g. a stripped fixture): assume the layout of this kernel generation.
            return PageHeader(big_endian, long_size, 0, 8, long_size, 8 + long_size, page_size)
        raise DecodeError("header_page: missing one of the fields timestamp, commit, data")
    ts_off, ts_size = found["timestamp"]
    c_off, c_size = found["commit"]
    d_off, d_size = found["data"]
    if ts_size != 8 or c_size not in (4, 8) or d_off < c_off + c_size or d_off > 64:
        raise DecodeError(f"header_page: unsupported layout (timestamp size {ts_size}, commit size {c_size})")
    if d_size > 0 and page_size < d_off + d_size:
        page_size = d_off + d_size
    return PageHeader(big_endian, long_size, ts_off, c_off, c_size, d_off, page_size)


@dataclass(frozen=True)
class EventHeader:
    """The compressed event header layout from `events/header_event` (type_len/time_delta bits, special types)."""

    type_len_bits: int = 5
    time_delta_bits: int = 27
    padding: int = TYPE_PADDING
    time_extend: int = TYPE_TIME_EXTEND
    time_stamp: int = TYPE_TIME_STAMP
    data_max: int = 28


def parse_header_event(text: str) -> EventHeader:
    """Parse `events/header_event`; only the layout this ring buffer generation uses (5 + 27 bits) is accepted."""
    if not text.strip():
        return EventHeader()
    m1 = re.search(r"type_len\s*:\s*(\d+)\s*bits", text)
    m2 = re.search(r"time_delta\s*:\s*(\d+)\s*bits", text)
    if not m1 or not m2:
        raise DecodeError("header_event: no type_len/time_delta bit widths (ring buffer too old?)")
    if (int(m1.group(1)), int(m2.group(1))) != (5, 27):
        raise DecodeError(f"header_event: unsupported layout type_len:{m1.group(1)} time_delta:{m2.group(1)}")
    vals = {}
    for key in ("padding", "time_extend", "time_stamp"):
        m = re.search(key + r"\s*:\s*type\s*==\s*(\d+)", text)
        if m:
            vals[key] = int(m.group(1))
    m = re.search(r"data max type_len\s*==\s*(\d+)", text)
    data_max = int(m.group(1)) if m else 28
    return EventHeader(
        padding=vals.get("padding", TYPE_PADDING),
        time_extend=vals.get("time_extend", TYPE_TIME_EXTEND),
        time_stamp=vals.get("time_stamp", TYPE_TIME_STAMP),
        data_max=data_max,
    )


@dataclass
class Missed:
    """A page said events were lost before its first record: `count` is None when the kernel did not store it."""

    ts: int
    count: Optional[int]


@dataclass
class PageInfo:
    """The decoded header of one page."""

    timestamp: int
    size: int
    missed: bool
    missed_count: Optional[int]


def read_page_header(page: bytes, header: PageHeader) -> PageInfo:
    """Read timestamp, commit size and the missed-events flags of one page (whole or truncated)."""
    e = header.endian
    need = header.data_offset
    if len(page) < need:
        raise DecodeError(f"ring-buffer page of {len(page)} bytes is shorter than its header ({need})")
    (ts,) = struct.unpack_from(e + "Q", page, header.ts_offset)
    commit_fmt = e + ("Q" if header.commit_size == 8 else "I")
    (commit,) = struct.unpack_from(commit_fmt, page, header.commit_offset)
    size = commit & COMMIT_MASK
    missed = bool(commit & RB_MISSED_EVENTS)
    count: Optional[int] = None
    if missed and commit & RB_MISSED_STORED:
        off = header.data_offset + size
        lfmt = e + ("Q" if header.long_size == 8 else "I")
        if off + header.long_size <= len(page):
            (count,) = struct.unpack_from(lfmt, page, off)
    return PageInfo(ts, size, missed, count)


def split_pages(blob: bytes, header: PageHeader) -> Iterator[bytes]:
    """Split a concatenation of truncated pages (header + commit bytes [+ one long if MISSED_STORED]) into pages."""
    pos = 0
    n = len(blob)
    e = header.endian
    commit_fmt = e + ("Q" if header.commit_size == 8 else "I")
    while pos < n:
        if n - pos < header.data_offset:
            raise DecodeError(f"truncated page header at byte {pos} of a {n}-byte page stream")
        (commit,) = struct.unpack_from(commit_fmt, blob, pos + header.commit_offset)
        length = header.data_offset + (commit & COMMIT_MASK)
        if commit & RB_MISSED_EVENTS and commit & RB_MISSED_STORED:
            length += header.long_size
        if pos + length > n:
            raise DecodeError(f"page at byte {pos} claims {length} bytes but the stream ends at {n}")
        yield blob[pos : pos + length]
        pos += length


Record = Tuple[int, int, int]
"""(timestamp, start offset of the payload in the page, payload length)."""


def page_records(page: bytes, header: PageHeader) -> Tuple[PageInfo, List[Record]]:
    """Decode one page into its header info and its data records (padding and time records are consumed)."""
    info = read_page_header(page, header)
    start = header.data_offset
    end = start + info.size
    if end > len(page):
        if info.size > header.page_size:
            raise DecodeError(f"page commit {info.size} exceeds the page size {header.page_size}")
        end = len(page)  # a truncated copy: decode what is there
    ts = info.timestamp
    out: List[Record] = []
    append = out.append
    big = header.big_endian
    words = struct.Struct(">I" if big else "<I").unpack_from
    pos = start
    while pos + 4 <= end:
        (w,) = words(page, pos)
        if big:
            type_len = w >> 27
            delta = w & 0x7FFFFFF
        else:
            type_len = w & 0x1F
            delta = w >> 5
        if 0 < type_len <= 28:
            ts += delta
            length = type_len << 2
            data = pos + 4
            nxt = data + length
            if nxt > end:
                raise DecodeError(f"record at page offset {pos} runs past the page's data ({end})")
            append((ts, data, length))
            pos = nxt
        elif type_len == 0:
            if pos + 8 > end:
                raise DecodeError(f"record at page offset {pos} has no length word")
            (alen,) = words(page, pos + 4)
            if alen < 4:
                raise DecodeError(f"record at page offset {pos} has an impossible length {alen}")
            length = (alen - 4 + 3) & ~3
            data = pos + 8
            nxt = data + length
            if nxt > end:
                raise DecodeError(f"record at page offset {pos} runs past the page's data ({end})")
            ts += delta
            append((ts, data, length))
            pos = nxt
        elif type_len == TYPE_TIME_EXTEND:
            if pos + 8 > end:
                raise DecodeError(f"time extend at page offset {pos} is cut short")
            (hi,) = words(page, pos + 4)
            ts += (hi << TS_SHIFT) + delta
            pos += 8
        elif type_len == TYPE_TIME_STAMP:
            if pos + 8 > end:
                raise DecodeError(f"absolute timestamp at page offset {pos} is cut short")
            (hi,) = words(page, pos + 4)
            abs_ts = (hi << TS_SHIFT) + delta
            # Newer kernels store only the lower 59 bits; the top 5 come from the running timestamp (as kbuffer).
            ts = abs_ts | (ts & TS_MSB)
            pos += 8
        else:  # padding
            if delta == 0:
                break  # a null event: the rest of the page is empty
            if pos + 8 > end:
                break
            (plen,) = words(page, pos + 4)
            ts += delta  # kbuffer adds a discarded event's delta (later deltas are relative to it)
            nxt = pos + 4 + plen
            if plen < 4 or nxt > end:
                break
            pos = nxt
    return info, out


def decode_page(page: bytes, header: PageHeader) -> Iterator[Union[Missed, Tuple[int, bytes]]]:
    """Yield a Missed marker (if the page reports loss) then (timestamp, payload) for every data record."""
    info, recs = page_records(page, header)
    if info.missed:
        yield Missed(recs[0][0] if recs else info.timestamp, info.missed_count)
    for ts, off, length in recs:
        yield ts, page[off : off + length]
