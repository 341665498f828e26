"""Ground truth from this kernel: trace_marker writes bracketed by CLOCK_MONOTONIC, in an instance of our own."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Dict, List, Tuple

from fleet.clocksync.recorded import find_sync_markers
from fleet.clocksync.samples import SyncSample
from fleet.ftrace.events import Decoder
from fleet.ftrace.meta import TraceMeta


@dataclass
class Written:
    """One marker: its text and CLOCK_MONOTONIC just before and just after the write."""

    text: str
    before: int
    after: int


def _read_pages(path: str) -> List[bytes]:
    """Every page trace_pipe_raw holds now (tracing need not stop: a non-blocking read returns partial pages)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    pages: List[bytes] = []
    try:
        while True:
            try:
                chunk = os.read(fd, 4096)
            except BlockingIOError:
                break
            if not chunk:
                break
            pages.append(chunk)
    finally:
        os.close(fd)
    return pages


def marker_timestamps(tracefs: str, instance: str) -> Dict[str, int]:
    """Sync-marker text -> ring-buffer timestamp over every CPU of the instance, decoded by fleet.ftrace."""

    def text(name: str) -> str:
        with open(os.path.join(tracefs, name)) as f:
            return f.read()

    meta = TraceMeta(
        header_page=text("events/header_page"),
        header_event=text("events/header_event"),
        ftrace_formats=[text("events/ftrace/print/format")],
        cpus=os.cpu_count() or 1,
    )
    decoder = Decoder(meta)
    found: Dict[str, int] = {}
    for cpu_dir in sorted(os.listdir(os.path.join(instance, "per_cpu"))):
        cpu = int(cpu_dir[3:])
        pages = _read_pages(os.path.join(instance, "per_cpu", cpu_dir, "trace_pipe_raw"))
        found.update(find_sync_markers(decoder.decode_pages(cpu, pages)))
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
            text = f"fleet-sync test-{clock} {i}"
            before = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            os.write(fd, text.encode())
            after = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            written.append(Written(text, before, after))
            if gap_s:
                time.sleep(gap_s)
    finally:
        os.close(fd)
    return written, marker_timestamps(os.path.dirname(os.path.dirname(instance)), instance)


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
