"""One sync sample: what a coordinator<->agent sync exchange observed. Recorded raw so alignment can be redone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional


@dataclass
class SyncSample:
    """A round trip to the agent around a trace_marker write on the host.

    Coordinator CLOCK_MONOTONIC brackets the request (coord_send, coord_recv); the agent's CLOCK_MONOTONIC brackets
    its marker write (host_before, host_after); the marker's ring-buffer timestamp (trace_ts, in the host's trace
    clock) is found later in the trace data by its text. All values are integer nanoseconds except trace_ts, which is
    in trace-clock units (raw counts for x86-tsc/counter).
    """

    seq: int
    coord_send: int
    coord_recv: int
    host_before: int
    host_after: int
    host_realtime: int = 0
    marker: str = ""
    trace_ts: Optional[int] = None

    @property
    def rtt(self) -> int:
        """Round-trip time seen by the coordinator, in ns."""
        return self.coord_recv - self.coord_send

    def to_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> SyncSample:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})
