"""Per-host totals of a recorded run, for the table `fleet trace` prints at the end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, TextIO

from fleet.errors import FleetError
from fleet.ftrace.ringbuf import page_records, read_page_header
from fleet.record.reader import HostRun, Run


@dataclass
class HostSummary:
    host: str
    state: str
    events: int
    bytes: int
    """Compressed payload bytes recorded (what crossed the link)."""
    raw_bytes: int
    """Page bytes before compression."""
    lost: int
    error: Optional[str]


def count_events(host: HostRun) -> int:
    """Events the kernel reports read (per-CPU `read events`), or counted from the pages when the run was cut off."""
    stats = host.stats
    if stats and all("read_events" in s for s in stats.values()):
        return sum(int(s["read_events"]) for s in stats.values())
    if not host.has_metadata:
        return 0
    return sum(len(page_records(p, host.page_header)[1]) for cpu in host.cpus for p in host.pages(cpu))


def count_lost(host: HostRun) -> int:
    """Lost events: the stats' account when the host stopped cleanly, else the counts stored in page headers."""
    if host.stats:
        return host.lost_events
    if not host.has_metadata:
        return 0
    lost = 0
    for cpu in host.cpus:
        for page in host.pages(cpu):
            info = read_page_header(page, host.page_header)
            if info.missed and info.missed_count:
                lost += info.missed_count
    return lost


def summarize(run: Run) -> List[HostSummary]:
    out = []
    for host in run.hosts:
        try:
            events, lost = count_events(host), count_lost(host)
        except FleetError as exc:
            events, lost = 0, 0
            host.index.errors.append(f"summary: {exc}")
        errors = host.errors
        out.append(
            HostSummary(
                host=host.name,
                state=host.entry.state,
                events=events,
                bytes=host.index.data_bytes,
                raw_bytes=host.index.raw_bytes,
                lost=lost,
                error="; ".join(errors) if errors else None,
            )
        )
    return out


def human_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


def print_summary(rows: List[HostSummary], stream: TextIO) -> None:
    """A table: HOST STATE EVENTS BYTES (compressed/raw) LOST ERROR."""
    header = ("HOST", "STATE", "EVENTS", "BYTES", "RAW", "LOST", "ERROR")
    table = [
        (r.host, r.state, str(r.events), human_bytes(r.bytes), human_bytes(r.raw_bytes), str(r.lost), r.error or "-")
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header) - 1)]
    right = {2, 3, 4, 5}
    for row in [header, *table]:
        cells = [row[i].rjust(w) if i in right else row[i].ljust(w) for i, w in enumerate(widths)]
        print("  ".join(cells + [row[-1]]).rstrip(), file=stream)
