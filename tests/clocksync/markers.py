"""Ground truth from this kernel: trace_marker writes bracketed by CLOCK_MONOTONIC, in an instance of our own.

A tiny reader of `print` records from trace_pipe_raw pages (u64 timestamp, u64 commit, then 5+27-bit event
headers), enough to find each marker's ring-buffer timestamp without depending on the decoder.
"""

from __future__ import annotations

import os
import struct
import time
from dataclasses import dataclass
from typing import Dict, Iterator, List, Tuple

from fleet.clocksync.samples import SyncSample

COMMIT_MASK = (1 << 27) - 1


@dataclass
class Written:
    """One marker: its text and CLOCK_MONOTONIC just before and just after the write."""

    text: str
    before: int
    after: int


def _records(page: bytes) -> Iterator[Tuple[int, bytes]]:
    """(timestamp, payload) of each data record in one ring-buffer page."""
    ts, commit = struct.unpack_from("<QQ", page, 0)
    end = 16 + (commit & COMMIT_MASK)
    pos = 16
    while pos + 4 <= end:
        (head,) = struct.unpack_from("<I", page, pos)
        type_len, delta = head & 0x1F, head >> 5
        if type_len == 29:  # padding (time_delta 0 means the rest of the page is empty)
            if delta == 0:
                return
            (size,) = struct.unpack_from("<I", page, pos + 4)
            pos += 4 + size
        elif type_len == 30:  # time extend
            (hi,) = struct.unpack_from("<I", page, pos + 4)
            ts += (hi << 27) | delta
            pos += 8
        elif type_len == 31:  # absolute time stamp; the top 5 bits come from the current time
            (hi,) = struct.unpack_from("<I", page, pos + 4)
            ts = ((hi << 27) | delta) | (ts & (0xF8 << 56))
            pos += 8
        elif type_len == 0:
            (size,) = struct.unpack_from("<I", page, pos + 4)
            ts += delta
            yield ts, page[pos + 8 : pos + 4 + size]
            pos += 4 + size
        else:
            ts += delta
            yield ts, page[pos + 4 : pos + 4 + type_len * 4]
            pos += 4 + type_len * 4


def _read_cpu(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    out = b""
    try:
        while True:
            try:
                chunk = os.read(fd, 4096)
            except BlockingIOError:
                break
            if not chunk:
                break
            out += chunk.ljust(4096, b"\0")
    finally:
        os.close(fd)
    return out


def marker_timestamps(instance: str, print_id: int) -> Dict[str, int]:
    """Marker text -> ring-buffer timestamp, over every CPU of the instance."""
    found: Dict[str, int] = {}
    cpus = sorted(os.listdir(os.path.join(instance, "per_cpu")))
    for cpu in cpus:
        data = _read_cpu(os.path.join(instance, "per_cpu", cpu, "trace_pipe_raw"))
        for off in range(0, len(data), 4096):
            for ts, payload in _records(data[off : off + 4096]):
                if struct.unpack_from("<H", payload, 0)[0] != print_id:
                    continue
                text = payload[16:].split(b"\0", 1)[0].decode(errors="replace").rstrip("\n")
                found[text] = ts
    return found


def write_markers(instance: str, clock: str, count: int, gap_s: float) -> Tuple[List[Written], Dict[str, int]]:
    """Write `count` markers `gap_s` apart in `instance` with trace_clock `clock`; return them and their stamps."""
    with open(os.path.join(instance, "trace_clock"), "w") as f:
        f.write(clock)
    with open(os.path.join(instance, "trace"), "w") as f:
        f.write("")
    written: List[Written] = []
    fd = os.open(os.path.join(instance, "trace_marker"), os.O_WRONLY)
    try:
        for i in range(count):
            text = f"fleet-test {clock} {i}"
            before = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            os.write(fd, text.encode())
            after = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            written.append(Written(text, before, after))
            if gap_s:
                time.sleep(gap_s)
    finally:
        os.close(fd)
    with open(os.path.join("/sys/kernel/tracing/events/ftrace/print/id")) as f:
        print_id = int(f.read())
    return written, marker_timestamps(instance, print_id)


def as_samples(written: List[Written], stamps: Dict[str, int]) -> List[SyncSample]:
    """Sync samples as the coordinator would record them on the host itself (no round trip)."""
    return [
        SyncSample(
            seq=i,
            coord_send=w.before,
            coord_recv=w.after,
            host_before=w.before,
            host_after=w.after,
            marker=w.text,
            trace_ts=stamps.get(w.text),
        )
        for i, w in enumerate(written)
    ]
