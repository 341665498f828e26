"""One sync sample: what a coordinator<->agent sync exchange observed. Recorded raw so alignment can be redone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional


@dataclass
class SyncSample:
    """A round trip to the agent around a trace_marker write on the host.

    Coordinator CLOCK_MONOTONIC brackets the request (coord_send, coord_recv); the agent's CLOCK_MONOTONIC brackets
    its marker write (host_before, host_after) and, from newer agents, its handling of the request (host_rx,
    host_tx: NTP's four timestamps are coord_send, host_rx, host_tx, coord_recv); the marker's ring-buffer
    timestamp (trace_ts, in the host's trace clock) is found later in the trace data by its text. All values are
    integer nanoseconds except trace_ts, which is in trace-clock units (raw counts for x86-tsc/counter).
    """

    seq: int
    coord_send: int
    coord_recv: int
    host_before: int
    host_after: int
    host_realtime: int = 0
    marker: str = ""
    trace_ts: Optional[int] = None
    host_rx: Optional[int] = None
    """Host CLOCK_MONOTONIC when the agent read the request (NTP's receive timestamp); None from older agents."""
    host_tx: Optional[int] = None
    """Host CLOCK_MONOTONIC right before the agent wrote its reply (NTP's transmit timestamp)."""

    @property
    def rtt(self) -> int:
        """Round-trip time seen by the coordinator, in ns."""
        return self.coord_recv - self.coord_send

    @property
    def host_in(self) -> int:
        """The earliest host time known to follow coord_send: the request's arrival, else the marker bracket."""
        return self.host_rx if self.host_rx is not None else self.host_before

    @property
    def host_out(self) -> int:
        """The latest host time known to precede coord_recv: the reply's departure, else the marker bracket."""
        return self.host_tx if self.host_tx is not None else self.host_after

    @property
    def delay(self) -> int:
        """NTP's round-trip delay: the round trip less the time the agent held the request, in ns."""
        return self.rtt - (self.host_out - self.host_in)

    def to_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> SyncSample:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})
