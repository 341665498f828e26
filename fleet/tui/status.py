"""The live dashboard's input: per-host status records and merged tail events, published by the coordinator side
into a thread-safe StatusFeed; and the controls (start, stop, marker) the dashboard sends back."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Deque, Dict, List, Optional


@dataclass
class HostStatus:
    """One host as the dashboard shows it; counters are totals since the session began (rates come from deltas)."""

    host: str
    state: str = "connecting"
    detail: str = ""
    """The state's cause or notes (an error's message, `stopped before tracing started`, ...)."""
    kernel: str = ""
    trace_clock: str = ""
    offset_ns: Optional[float] = None
    """Alignment offset of the host's trace clock onto the coordinator's time line."""
    uncertainty_ns: Optional[float] = None
    events: int = 0
    bytes: int = 0
    """Payload bytes received (compressed, what crossed the link)."""
    lost: int = 0
    max_latency_us: Optional[float] = None
    """tracing_max_latency when a latency tracer runs; None otherwise."""
    errors: List[str] = field(default_factory=list)
    per_cpu_events: Dict[int, int] = field(default_factory=dict)
    config: Dict[str, Any] = field(default_factory=dict)
    """The agent configuration this host runs (events, clock, buffer size, ...)."""

    def copy(self) -> HostStatus:
        return replace(self, errors=list(self.errors), per_cpu_events=dict(self.per_cpu_events))


@dataclass
class TailEvent:
    """One event of the merged live tail, already rendered (`COMM-PID [CPU] TIME: EVENT: BODY`)."""

    host: str
    ts: int
    """Time on the run's time line (ns), aligned when the host's clock model is known."""
    cpu: int
    name: str
    line: str


@dataclass
class StatusBatch:
    """What changed since the previous batch: whole records of the hosts that changed, new tail events in time
    order, run-wide messages."""

    at: float
    """time.monotonic() when the batch was cut."""
    hosts: List[HostStatus] = field(default_factory=list)
    tail: List[TailEvent] = field(default_factory=list)
    messages: List[str] = field(default_factory=list)


@dataclass
class Controls:
    """What the dashboard's keys ask of the coordinator; each callable must be safe to call from the UI thread."""

    start: Optional[Callable[[], None]] = None
    stop: Optional[Callable[[], None]] = None
    marker: Optional[Callable[[str], None]] = None
    quit: Optional[Callable[[], None]] = None
    """Called once when the dashboard closes (stop tracing and finish the run)."""


class StatusFeed:
    """Thread-safe: producers publish host updates and tail events at any rate; the dashboard takes one batch per
    refresh. Host updates coalesce (latest record wins) and the tail is a bounded ring, so memory stays bounded
    however fast the producers are and however long the run."""

    def __init__(self, tail_limit: int = 2000) -> None:
        self._lock = threading.Lock()
        self._hosts: Dict[str, HostStatus] = {}
        self._tail: Deque[TailEvent] = deque(maxlen=tail_limit)
        self._messages: Deque[str] = deque(maxlen=200)
        self.dropped_tail = 0
        """Tail events dropped because the dashboard did not take them in time (counted, never hidden)."""
        self.finished = False

    def host(self, status: HostStatus) -> None:
        """Publish the latest record of one host (the feed keeps a copy)."""
        with self._lock:
            self._hosts[status.host] = status.copy()

    def tail(self, events: List[TailEvent]) -> None:
        with self._lock:
            over = len(self._tail) + len(events) - (self._tail.maxlen or 0)
            if over > 0:
                self.dropped_tail += over
            self._tail.extend(events)

    def message(self, text: str) -> None:
        with self._lock:
            self._messages.append(text)

    def finish(self) -> None:
        """The producer is done (the run ended); the dashboard says so and stays open until closed."""
        with self._lock:
            self.finished = True

    def take(self, now: float) -> StatusBatch:
        """Everything published since the last take, as one batch."""
        with self._lock:
            batch = StatusBatch(now, list(self._hosts.values()), list(self._tail), list(self._messages))
            self._hosts.clear()
            self._tail.clear()
            self._messages.clear()
        return batch
