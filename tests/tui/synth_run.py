"""A large run directory made from a small real one: each host's recorded data frames are written again and again
through fleet.record's writer, every page's base timestamp shifted past the previous copy, under several host
names. The events, formats, markers and sync samples are real; only their number and times are made up."""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Tuple

import zstandard

from agent import protocol
from fleet.ftrace.ringbuf import split_pages
from fleet.record import layout
from fleet.record.frames import ScanEnd, scan_frames
from fleet.record.manifest import HostEntry
from fleet.record.payload import frame_pages_blob
from fleet.record.reader import Run
from fleet.record.writer import RunWriter

GAP_NS = 1_000_000
"""Between one copy's last event and the next copy's first."""


def _shift_page(page: bytes, by: int, fmt: str) -> bytes:
    # A ring-buffer page starts with its base timestamp (u64); events inside carry deltas from it.
    (ts,) = struct.unpack_from(fmt, page)
    return struct.pack(fmt, ts + by) + page[8:]


def synthesize(src: Path, dst: Path, min_events: int, hosts: int = 4) -> int:
    """Writes a run at `dst` with at least `min_events` events over `hosts` host names; returns the event count."""
    run = Run.open(src)
    name = run.host_names[0]
    host = run.host(name)
    raw_meta = host.raw_metadata
    fmt = ">Q" if host.meta.big_endian else "<Q"
    frames = [f for _, f in scan_frames(host.frames_path, ScanEnd())]
    caps = next(f for f in frames if f.get("t") == protocol.CAPABILITIES)
    data: List[Tuple[Dict[str, Any], List[bytes]]] = []
    for f in frames:
        if f.get("t") == protocol.DATA:
            data.append((f, list(split_pages(frame_pages_blob(f), host.page_header))))
    from fleet.tui.run_index import RunIndex

    index = RunIndex(src)
    index.build()
    per_copy = sum(1 for e in index.evid if e != 0xFFFF)
    span = index.ts[len(index) - 1] - index.ts[0] + GAP_NS
    copies = -(-min_events // (per_copy * hosts))
    samples = host.sync_samples
    writer = RunWriter.create(dst, dict(run.manifest.config), list(run.manifest.markers), ["synth"], "synth", 1)
    writer.manifest.coordinator = dict(run.manifest.coordinator)
    zc = zstandard.ZstdCompressor(level=1)
    for h in range(hosts):
        entry = HostEntry(f"{name}{h + 1}" if hosts > 1 else name, "", boot_id=run.manifest.hosts[name].boot_id)
        hw = writer.add_host(entry)
        hw.frame(dict(caps))
        hw.metadata(dict(raw_meta))
        hw.state("tracing")
        for s in samples:
            # The coordinator saw this host's clock a few microseconds later: the hosts interleave on the time line.
            hw.sync(replace(s, coord_send=s.coord_send + h * 3_000, coord_recv=s.coord_recv + h * 3_000))
        seq: Dict[int, int] = {}
        for c in range(copies):
            by = c * span
            for f, pages in data:
                cpu = int(f["cpu"])
                blob = b"".join(_shift_page(p, by, fmt) for p in pages)
                n = seq.get(cpu, 0)
                seq[cpu] = n + 1
                out = {**f, "seq": n, "codec": "zstd", "payload": zc.compress(blob)}
                hw.data(out, int(f[layout.RX]) + by)
        hw.frame(protocol.frame(protocol.METADATA_END, stats={}))
        hw.state("done")
    writer.close()
    return per_copy * copies * hosts


__all__ = ["synthesize"]
