"""The dashboard's state, apart from any widget: hosts with rate histories, sort order, filters and the tail.

Memory is bounded: RATE_HISTORY samples per host and TAIL_LIMIT tail events, however long the run.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from fleet.tui.filters import Filter
from fleet.tui.status import HostStatus, StatusBatch, TailEvent

RATE_HISTORY = 60
TAIL_LIMIT = 5000
SORT_KEYS = ("host", "state", "rate", "bytes", "lost", "latency", "offset")


@dataclass
class HostRow:
    status: HostStatus
    order: int
    """Arrival order: the colour and the default sort."""
    rates: Deque[float] = field(default_factory=lambda: deque(maxlen=RATE_HISTORY))
    last_events: int = 0
    last_at: Optional[float] = None

    @property
    def rate(self) -> float:
        return self.rates[-1] if self.rates else 0.0


def _sort_key(name: str) -> Callable[[HostRow], Any]:
    def inf_last(v: Optional[float]) -> Tuple[int, float]:
        return (1, 0.0) if v is None else (0, v)

    keys: Dict[str, Callable[[HostRow], Any]] = {
        "host": lambda r: r.status.host,
        "state": lambda r: (r.status.state, r.status.host),
        "rate": lambda r: r.rate,
        "bytes": lambda r: r.status.bytes,
        "lost": lambda r: r.status.lost,
        "latency": lambda r: inf_last(r.status.max_latency_us),
        "offset": lambda r: inf_last(r.status.uncertainty_ns),
    }
    return keys[name]


class DashboardModel:
    """Apply StatusBatches; ask for the host rows in display order and the tail lines the filter keeps."""

    def __init__(self, tail_limit: int = TAIL_LIMIT, rate_window: float = 1.0) -> None:
        self.rate_window = rate_window
        """Seconds each events/s sample spans (one sparkline bar each)."""
        self.hosts: Dict[str, HostRow] = {}
        self.tail: Deque[TailEvent] = deque(maxlen=tail_limit)
        self.messages: Deque[str] = deque(maxlen=50)
        self.sort = "host"
        self.descending = False
        self.filter = Filter()
        self.paused = False
        self.frozen: Optional[List[TailEvent]] = None
        """The tail as it was when paused (scroll back in it while new events keep arriving)."""
        self.tail_seen = 0
        self.finished = False

    def apply(self, batch: StatusBatch) -> None:
        for status in batch.hosts:
            row = self.hosts.get(status.host)
            if row is None:
                row = self.hosts[status.host] = HostRow(status, len(self.hosts))
            row.status = status
        for row in self.hosts.values():
            if row.last_at is None:
                row.last_events, row.last_at = row.status.events, batch.at
            elif batch.at - row.last_at >= self.rate_window:
                row.rates.append(max(0.0, (row.status.events - row.last_events) / (batch.at - row.last_at)))
                row.last_events, row.last_at = row.status.events, batch.at
        self.tail.extend(batch.tail)
        self.tail_seen += len(batch.tail)
        self.messages.extend(batch.messages)

    def colour_index(self, host: str) -> int:
        row = self.hosts.get(host)
        return row.order if row else 0

    def rows(self) -> List[HostRow]:
        rows = [r for r in self.hosts.values() if self.filter.host_ok(r.status.host)]
        rows.sort(key=_sort_key(self.sort), reverse=self.descending)
        return rows

    def cycle_sort(self) -> str:
        self.sort = SORT_KEYS[(SORT_KEYS.index(self.sort) + 1) % len(SORT_KEYS)]
        self.descending = self.sort not in ("host", "state")
        return self.sort

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.frozen = list(self.tail) if paused else None

    def tail_lines(self) -> List[TailEvent]:
        source = self.frozen if self.frozen is not None else list(self.tail)
        f = self.filter
        if f.empty:
            return source
        return [
            e
            for e in source
            if f.host_ok(e.host)
            and f.event_ok(e.name.partition(":")[0] if ":" in e.name else "", e.name)
            and f.text_ok(e.line)
        ]

    def totals(self) -> Dict[str, float]:
        rows = list(self.hosts.values())
        return {
            "hosts": len(rows),
            "tracing": sum(1 for r in rows if r.status.state == "tracing"),
            "failed": sum(1 for r in rows if r.status.state in ("error", "lost link")),
            "rate": sum(r.rate for r in rows),
            "events": sum(r.status.events for r in rows),
            "lost": sum(r.status.lost for r in rows),
        }
