"""Snapshots recorded in a run: the max-latency snapshots of wakeup*, irqsoff, preemptoff, ... (EV_MAX_LATENCY
frames: each new maximum, or with a tracing_thresh each latency over it), largest latency first, then what `snapshot`
event triggers took (EV_SNAPSHOT); each printed as the kernel printed it after a line naming host and cause."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any, Dict, List, Optional, Sequence

from agent.protocol import EV_MAX_LATENCY, EV_SNAPSHOT
from fleet.record.reader import Run


@dataclass
class Snapshot:
    """One snapshot a host's kernel took: of a new maximum (or a latency over tracing_thresh) in latency-format,
    or of the buffer when a `snapshot` trigger fired."""

    host: str
    tracer: str
    usecs: int
    """The latency the snapshot's header states (its own maximum)."""
    at: int
    """The host's CLOCK_MONOTONIC (ns) when the agent noticed the new maximum."""
    rank: int
    """1 for the host's first maximum of the run, 2 for the next, ..."""
    of: int
    """How many maxima the host recorded."""
    text: str
    truncated: bool = False
    error: str = ""
    thresh: int = 0
    """The tracing_thresh (us) the latency was over; 0 when it is a new maximum."""
    triggers: Sequence[str] = ()
    """The snapshot triggers that took it; empty for a latency tracer's snapshot."""


def _snapshot(host: str, frame: Dict[str, Any], rank: int, of: int) -> Snapshot:
    return Snapshot(
        host=host,
        tracer=str(frame.get("tracer", "")),
        usecs=int(frame.get("snapshot_usecs", frame.get("usecs", 0))),
        at=int(frame.get("at", 0)),
        rank=rank,
        of=of,
        text=str(frame.get("text", "")),
        truncated=bool(frame.get("truncated", False)),
        error=str(frame.get("error", "")),
        thresh=int(frame.get("thresh", 0)),
        triggers=[str(t) for t in frame.get("triggers", [])],
    )


def distinct_frames(frames: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The host's max-latency frames without repeats of the previous snapshot text: a maximum reached while the
    agent read a snapshot is not swapped into the max buffer by the kernel, so the next read shows the same text."""
    out: List[Dict[str, Any]] = []
    for f in frames:
        if out and "text" in f and f.get("text") == out[-1].get("text"):
            continue
        out.append(f)
    return out


def run_snapshots(run: Run, hosts: Optional[Sequence[str]] = None) -> List[Snapshot]:
    """Every distinct snapshot of the run's hosts (all, or those named): latency tracers' largest latency first,
    ties in host order, then the trigger snapshots in host order."""
    out: List[Snapshot] = []
    for host in run.hosts:
        if hosts is not None and host.name not in hosts:
            continue
        for kind in (EV_MAX_LATENCY, EV_SNAPSHOT):
            frames = distinct_frames([e for e in host.events if e.get("kind") == kind])
            out.extend(_snapshot(host.name, f, i + 1, len(frames)) for i, f in enumerate(frames))
    order = {h.name: i for i, h in enumerate(run.hosts)}
    out.sort(key=lambda s: (bool(s.triggers), -s.usecs, order[s.host], s.rank))
    return out


def banner(snap: Snapshot) -> str:
    """The line before each snapshot's text: `#### HOST: TRACER max latency N us (maximum R of M on HOST)`,
    `#### HOST: TRACER latency N us over tracing_thresh T us (R of M on HOST)` or
    `#### HOST: snapshot taken by trigger SPEC`."""
    where = f"{snap.rank} of {snap.of} on {snap.host}"
    if snap.triggers:
        return f"#### {snap.host}: snapshot taken by trigger {', '.join(snap.triggers)}"
    if snap.thresh:
        return f"#### {snap.host}: {snap.tracer} latency {snap.usecs} us over tracing_thresh {snap.thresh} us ({where})"
    return f"#### {snap.host}: {snap.tracer} max latency {snap.usecs} us (maximum {where})"


def print_snapshots(snaps: Sequence[Snapshot], out: IO[str]) -> None:
    """Each snapshot: its banner, the kernel's text as recorded, a blank line."""
    for snap in snaps:
        out.write(banner(snap) + "\n")
        if snap.error:
            out.write(f"# (snapshot not read: {snap.error})\n")
        else:
            text = snap.text
            out.write(text if text.endswith("\n") or not text else text + "\n")
            if snap.truncated:
                out.write("# (snapshot cut at the agent's size limit)\n")
        out.write("\n")
