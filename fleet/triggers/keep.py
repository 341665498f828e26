"""--keep S: rewrite a host's frames file without the data frames that end before the kept window.

Whole data frames are dropped (never part of one), so the window may start a little earlier than asked; the
remaining data frames are renumbered per CPU so the file reads as a gap-free stream again.
"""

from __future__ import annotations

import os
from typing import Callable, Dict, Tuple

import msgpack

from fleet.ftrace.ringbuf import page_records, split_pages
from fleet.record.frames import ScanEnd, scan_frames
from fleet.record.payload import frame_pages_blob
from fleet.record.reader import HostRun


def _last_ts(frame: Dict, host: HostRun) -> int:
    """Raw timestamp of the last record in a data frame (its pages' header stamp when they hold none)."""
    last = 0
    header = host.page_header
    for page in split_pages(frame_pages_blob(frame), header):
        info, recs = page_records(page, header)
        last = max(last, recs[-1][0] if recs else info.timestamp)
    return last


def trim_host(host: HostRun, aligned: Callable[[int], int], cutoff: int) -> Tuple[int, int]:
    """Drop the data frames whose last event is (aligned) before `cutoff`; returns (frames, pages) dropped."""
    path = host.frames_path
    if not path.exists():
        return 0, 0
    tmp = path.with_name(path.name + ".keep")
    dropped = pages = 0
    seq: Dict[int, int] = {}
    with open(tmp, "wb") as out:
        for _, frame in scan_frames(path, ScanEnd()):
            if frame.get("t") == "data":
                if aligned(_last_ts(frame, host)) < cutoff:
                    dropped += 1
                    pages += int(frame.get("pages", 0))
                    continue
                cpu = int(frame["cpu"])
                frame["seq"] = seq.get(cpu, 0)
                seq[cpu] = frame["seq"] + 1
            out.write(msgpack.packb(frame, use_bin_type=True))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return dropped, pages
