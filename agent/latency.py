"""Max-latency snapshots of the latency tracers (wakeup*, irqsoff, preemptoff, preemptirqsoff): reset the maximum
at start, and on each new maximum read the snapshot as the kernel prints it. The kernel refuses raw access to the
max buffer (per_cpu/*/snapshot_raw answers EBUSY while such a tracer is current), so the `trace` file's text, whose
header alone holds the task, its policy and the critical start/end, is the snapshot.

An EV_MAX_LATENCY event frame then carries, besides kind/message/at/usecs: "tracer", "text" (the snapshot as the
kernel prints it, latency-format), "truncated" (bool) and "snapshot_usecs" (the latency its header states), or
"error" when the snapshot could not be read.

snapshot_usecs may differ from usecs (tracing_max_latency): reading `trace` stops recording until the file is
closed, and a maximum reached meanwhile updates tracing_max_latency but cannot be swapped into the max buffer
(ring_buffer_swap_cpu answers EAGAIN), so the text is still the previous maximum's."""

from __future__ import annotations

import re
import time
from typing import Any, Dict, Optional, Tuple

from agent import protocol
from agent.errors import AgentError
from agent.tracefs import Tracefs

LATENCY_TRACERS = ("wakeup", "wakeup_rt", "wakeup_dl", "irqsoff", "preemptoff", "preemptirqsoff")
HEADER_LATENCY = re.compile(r"^# latency: (\d+) us,", re.M)
HEADER_ENTRIES = re.compile(r"^# entries-in-buffer/entries-written: (\d+)/(\d+)", re.M)
MAX_SNAPSHOT_BYTES = 4 << 20  # a snapshot with function-trace on can be long under emulation; cut past this


def is_latency_tracer(config: Dict[str, Any]) -> bool:
    return str(config.get("tracer", "")) in LATENCY_TRACERS


def reset_max(buf: Tracefs) -> None:
    """tracing_max_latency = 0, so the first latency of this session is a new maximum."""
    if buf.exists("tracing_max_latency"):
        buf.write("tracing_max_latency", "0")


def read_text(buf: Tracefs, rel: str) -> Tuple[str, bool]:
    """A tracefs text file (`trace`, `snapshot`), cut at MAX_SNAPSHOT_BYTES; and whether it was cut."""
    path = buf.path(rel)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SNAPSHOT_BYTES + 1)
    except OSError as exc:
        raise AgentError(protocol.E_IO, f"reading {path}: {exc.strerror}") from None
    return data[:MAX_SNAPSHOT_BYTES].decode(errors="replace"), len(data) > MAX_SNAPSHOT_BYTES


def snapshot(buf: Tracefs, tracer: str) -> Dict[str, Any]:
    """Fields of an EV_MAX_LATENCY frame: the tracer, the snapshot text (reading `trace` shows the max buffer),
    and whether it was cut at MAX_SNAPSHOT_BYTES."""
    text, truncated = read_text(buf, "trace")
    out: Dict[str, Any] = {"tracer": tracer, "text": text, "truncated": truncated}
    m = HEADER_LATENCY.search(text, 0, 4096)
    if m is not None:
        out["snapshot_usecs"] = int(m.group(1))
    else:
        # Seen with tracing_thresh under load: the latency was counted, yet `trace` shows an empty max buffer.
        out["error"] = "the max buffer held no trace when read"
    return out


SNAPSHOT_SETTLE_S = 0.002
SNAPSHOT_RETRY_S = 0.005


def settled_snapshot(buf: Tracefs, tracer: str, usecs: int) -> Dict[str, Any]:
    """snapshot() of the latency `usecs`, taken 2 ms after it was noticed: the kernel stores tracing_max_latency just
    before it swaps the max buffer, and skips the swap while `trace` is open, so a read starting in between would show
    the previous maximum (or, for the first, an empty buffer) for good. Read once more if it still shows older."""
    time.sleep(SNAPSHOT_SETTLE_S)
    snap = snapshot(buf, tracer)
    if int(snap.get("snapshot_usecs", -1)) < usecs:
        time.sleep(SNAPSHOT_RETRY_S)
        snap = snapshot(buf, tracer)
    return snap


def trigger_snapshot(buf: Tracefs, fired: bool) -> Optional[Dict[str, Any]]:
    """Fields of an EV_SNAPSHOT frame: the buffer's `snapshot` text, or None when no snapshot trigger fired.
    `fired`: a counted trigger is spent. Otherwise only a snapshot that holds events shows that one fired: a swap
    takes only what readers had not consumed yet, so a streamed buffer's snapshot can be empty."""
    text, truncated = read_text(buf, "snapshot")
    m = HEADER_ENTRIES.search(text, 0, 4096)
    if not fired and (m is None or int(m.group(2)) == 0):
        return None
    return {"text": text, "truncated": truncated}
