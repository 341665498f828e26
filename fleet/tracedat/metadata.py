"""The metadata blocks of a trace.dat (header info, formats, kallsyms, printk formats, cmdlines): parse and encode.

The same layouts appear inline in version 6 and as section payloads in version 7.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

from fleet.errors import DecodeError
from fleet.tracedat.binary import Cursor, Packer


def parse_header_info(cur: Cursor) -> Tuple[str, str]:
    """ "header_page\\0", u64 size, text, "header_event\\0", u64 size, text."""
    if cur.take(12) != b"header_page\0":
        raise DecodeError(f"{cur.what}: expected 'header_page' at offset {cur.pos - 12}")
    page = cur.sized_text(8)
    if cur.take(13) != b"header_event\0":
        raise DecodeError(f"{cur.what}: expected 'header_event' at offset {cur.pos - 13}")
    return page, cur.sized_text(8)


def parse_ftrace_formats(cur: Cursor) -> List[str]:
    count = cur.u32()
    _check_count(cur, count, 8)
    return [cur.sized_text(8) for _ in range(count)]


def parse_event_formats(cur: Cursor) -> Dict[str, List[str]]:
    systems = cur.u32()
    _check_count(cur, systems, 5)
    out: Dict[str, List[str]] = {}
    for _ in range(systems):
        name = cur.cstring()
        count = cur.u32()
        _check_count(cur, count, 8)
        out.setdefault(name, []).extend(cur.sized_text(8) for _ in range(count))
    return out


def _check_count(cur: Cursor, count: int, min_each: int) -> None:
    if count * min_each > cur.remaining():
        raise DecodeError(f"{cur.what}: {count} entries cannot fit in {cur.remaining()} bytes")


def encode_header_info(pack: Packer, header_page: str, header_event: str) -> bytes:
    page, event = header_page.encode(), header_event.encode()
    return b"header_page\0" + pack.u64(len(page)) + page + b"header_event\0" + pack.u64(len(event)) + event


def encode_ftrace_formats(pack: Packer, formats: List[str]) -> bytes:
    parts = [pack.u32(len(formats))]
    for text in formats:
        raw = text.encode()
        parts += [pack.u64(len(raw)), raw]
    return b"".join(parts)


def encode_event_formats(pack: Packer, systems: Dict[str, List[str]]) -> bytes:
    parts = [pack.u32(len(systems))]
    for name, formats in systems.items():
        parts += [Packer.cstring(name), pack.u32(len(formats))]
        for text in formats:
            raw = text.encode()
            parts += [pack.u64(len(raw)), raw]
    return b"".join(parts)


def encode_sized(pack: Packer, text: str, size_bytes: int) -> bytes:
    raw = text.encode()
    return (pack.u32(len(raw)) if size_bytes == 4 else pack.u64(len(raw))) + raw
