"""A host's clock model: its trace-clock timestamps on the coordinator's CLOCK_MONOTONIC time line, with a bound."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from fleet.clocksync.mapping import Mapping


@dataclass(frozen=True)
class ClockModel:
    """coord = to_coord(to_host(trace_ts)): trace clock -> host CLOCK_MONOTONIC -> coordinator CLOCK_MONOTONIC.

    `bound(ts)` is a hard bound (ns) on |aligned(ts) - truth| when the samples are consistent; infinite when
    nothing is known (no sync samples), which `notes` then says in words.
    """

    trace_clock: str
    to_host: Mapping
    to_coord: Mapping
    nominal_rate: Optional[float] = None
    """ns per trace-clock unit expected in advance (1.0 for nanosecond clocks), for the drift in ppm."""
    samples: int = 0
    markers: int = 0
    """Samples whose sync marker was found in the trace (the trace clock <-> host monotonic pins)."""
    min_rtt: Optional[int] = None
    """Best NTP round-trip delay (ns): coordinator round trip less the agent's time holding the request."""
    method: str = ""
    """How the two stages were obtained, e.g. `marker+roundtrip` or `marker+shared-kernel`."""
    span: Tuple[int, ...] = ()
    """Trace timestamps of the markers, where the summary uncertainty is evaluated."""
    notes: Tuple[str, ...] = field(default_factory=tuple)

    def aligned(self, trace_ts: int) -> int:
        """The coordinator-monotonic time (ns) of a trace timestamp."""
        return round(self.to_coord.at(self.to_host.at(trace_ts)))

    def bound(self, trace_ts: int) -> float:
        """Uncertainty (ns) of aligned(trace_ts)."""
        host = self.to_host.at(trace_ts)
        return abs(self.to_coord.rate) * self.to_host.bound_at(trace_ts) + self.to_coord.bound_at(host)

    @property
    def rate(self) -> float:
        """Coordinator ns per trace-clock unit."""
        return self.to_host.rate * self.to_coord.rate

    @property
    def offset_ns(self) -> float:
        """coord = offset + rate * trace_ts, evaluated on the data so large timestamps keep their precision."""
        x = self.span[0] if self.span else 0
        return self.to_coord.at(self.to_host.at(x)) - self.rate * x

    @property
    def drift_ppm(self) -> Optional[float]:
        """Rate error against the nominal rate, in parts per million; None for clocks with no nominal rate."""
        if not self.nominal_rate:
            return None
        return (self.rate / self.nominal_rate - 1) * 1e6

    @property
    def uncertainty_ns(self) -> float:
        """The largest bound over the sampled part of the run (what `fleet info` shows)."""
        if not self.span:
            return self.bound(0)
        # Just after each marker too: between markers is where an interpolated (`counter`) bound is widest.
        probes = list(self.span) + [x + 1 for x in self.span[:-1]]
        return max(self.bound(x) for x in probes)

    def time_shift(self) -> List[Tuple[int, int, float]]:
        """(trace_ts, offset_ns, multiplier) knots, one per sync marker, with aligned(ts) == multiplier * ts + offset
        at each knot (to the ns) and offsets meant to be interpolated linearly between knots, as trace.dat's
        TIME_SHIFT option (trace-cmd's tsync) uses them. One knot (x=0) when the run had no marker."""
        rate = self.rate
        return [(x, round(self.aligned(x) - rate * x), rate) for x in (sorted(set(self.span)) or [0])]

    @property
    def aligned_ok(self) -> bool:
        return not math.isinf(self.uncertainty_ns)

    def summary(self) -> Dict[str, Any]:
        """The figures `fleet info --json` prints for one host."""
        unc = self.uncertainty_ns
        drift = self.drift_ppm
        return {
            "trace_clock": self.trace_clock,
            "offset_ns": round(self.offset_ns),
            "rate": self.rate,
            "drift_ppm": None if drift is None else round(drift, 4),
            "uncertainty_ns": None if math.isinf(unc) else round(unc),
            "samples": self.samples,
            "markers": self.markers,
            "min_rtt_ns": self.min_rtt,
            "method": self.method,
            "notes": list(self.notes),
        }


def notes_text(notes: List[str]) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(notes))
