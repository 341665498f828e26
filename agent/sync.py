"""Sync points: a unique marker written to the instance's trace_marker between two reads of the host clocks."""

from __future__ import annotations

import errno
import os
import time
from typing import Any, Dict, Optional

from agent import protocol
from agent.tracefs import os_error

SYNC_PREFIX = protocol.SYNC_PREFIX


def sync_text(session: str, n: int) -> str:
    """The marker text of sync point `n`: `fleet-sync <session> <n>` (parse with str.split())."""
    return f"{SYNC_PREFIX} {session} {n}"


def write_marker(fd: int, path: str, text: str) -> None:
    try:
        os.write(fd, text.encode())
    except OSError as exc:
        raise os_error("write", path, exc, text) from None


def sync_sample(fd: Optional[int], path: str, text: Optional[str]) -> Dict[str, Any]:
    """Clocks read just before and just after writing `text` (or nothing when `text`/`fd` is None), in ns.
    A write the kernel answers EBADF (the ring buffer is disabled for a moment: a latency tracer swapping its max
    buffer, a resize) is tried again a few times, then the sample carries the clocks only (marker None)."""
    for attempt in range(SYNC_ATTEMPTS):
        try:
            return _sample(fd, path, text)
        except OSError as exc:
            if exc.errno != errno.EBADF:
                raise os_error("write", path, exc, text) from None
            time.sleep(0.001 * (attempt + 1))
    return _sample(None, path, None)


SYNC_ATTEMPTS = 4


def _sample(fd: Optional[int], path: str, text: Optional[str]) -> Dict[str, Any]:
    mono, real = time.CLOCK_MONOTONIC, time.CLOCK_REALTIME
    real_before = time.clock_gettime_ns(real)
    mono_before = time.clock_gettime_ns(mono)
    if fd is not None and text is not None:
        os.write(fd, text.encode())
    mono_after = time.clock_gettime_ns(mono)
    real_after = time.clock_gettime_ns(real)
    return {
        "mono_before": mono_before,
        "mono_after": mono_after,
        "realtime": real_before + (real_after - real_before) // 2,
        "realtime_before": real_before,
        "realtime_after": real_after,
        "marker": text if fd is not None and text is not None else None,
    }
