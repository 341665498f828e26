"""A few lines of struct to read the agent's page stream in tests: page headers, missed counts and `print` records.
(Stand-in until fleet.ftrace's decoder lands; only little-endian 64-bit layouts, as on this machine.)"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

MISSED_EVENTS = 1 << 31
MISSED_STORED = 1 << 30
COMMIT_MASK = (1 << 30) - 1
DATA_OFFSET = 16


@dataclass
class Page:
    ts: int
    data: bytes
    missed: bool
    missed_count: Optional[int]


def split(blob: bytes) -> Iterator[Page]:
    pos = 0
    while pos < len(blob):
        ts, commit = struct.unpack_from("<QQ", blob, pos)
        size = commit & COMMIT_MASK
        end = pos + DATA_OFFSET + size
        count = None
        if commit & MISSED_EVENTS and commit & MISSED_STORED:
            (count,) = struct.unpack_from("<Q", blob, end)
            nxt = end + 8
        else:
            nxt = end
        yield Page(ts, blob[pos + DATA_OFFSET : end], bool(commit & MISSED_EVENTS), count)
        pos = nxt


def records(page: Page) -> Iterator[Tuple[int, bytes]]:
    """(timestamp, payload) of every data record in a page."""
    ts, data, pos = page.ts, page.data, 0
    while pos + 4 <= len(data):
        (w,) = struct.unpack_from("<I", data, pos)
        type_len, delta = w & 0x1F, w >> 5
        if 1 <= type_len <= 28:
            ts += delta
            yield ts, data[pos + 4 : pos + 4 + type_len * 4]
            pos += 4 + type_len * 4
        elif type_len == 0:
            (n,) = struct.unpack_from("<I", data, pos + 4)
            ts += delta
            yield ts, data[pos + 8 : pos + 4 + n]
            pos += 4 + ((n + 3) & ~3)
        elif type_len == 30:  # time extend
            (hi,) = struct.unpack_from("<I", data, pos + 4)
            ts += (hi << 27) + delta
            pos += 8
        elif type_len == 31:  # absolute time stamp
            (hi,) = struct.unpack_from("<I", data, pos + 4)
            ts = (hi << 27) + delta | (ts & (0xF8 << 56))
            pos += 8
        else:  # padding
            if delta == 0:
                return
            (n,) = struct.unpack_from("<I", data, pos + 4)
            ts += delta
            pos += 4 + n


def prints(pages: List[Page], print_id: int) -> List[Tuple[int, str]]:
    """(timestamp, text) of every ftrace `print` record (trace_marker writes): common 8 bytes, ip 8, buf."""
    out = []
    for page in pages:
        for ts, payload in records(page):
            if struct.unpack_from("<H", payload, 0)[0] == print_id:
                out.append((ts, payload[16:].split(b"\0", 1)[0].decode(errors="replace").rstrip("\n")))
    return out
