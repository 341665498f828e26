"""What is known in advance about each ftrace trace_clock relative to the host's CLOCK_MONOTONIC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

# Largest rate error assumed for an unfitted nanosecond clock: NTP never slews faster than 500 ppm.
MAX_DRIFT = 500e-6


@dataclass(frozen=True)
class ClockKind:
    """How a trace clock relates to CLOCK_MONOTONIC, which decides how it is fitted."""

    name: str
    nominal_rate: Optional[float]
    """ns per trace-clock unit when known in advance (1.0 for nanosecond clocks); None for raw counters."""
    exact_rate: bool = False
    """True when the rate equals nominal_rate exactly (same timekeeper), so only an offset is fitted."""
    monotone_only: bool = False
    """True for `counter`: it counts events, not time, so only ordering between sync markers is known."""
    quantum: float = 0.0
    """ns after a coarse clock's nominal tick start within which the event lies (`uptime` counts USER_HZ ticks)."""


KINDS: Dict[str, ClockKind] = {
    k.name: k
    for k in (
        ClockKind("local", 1.0),  # per-CPU sched_clock: not NTP-disciplined, drifts against monotonic
        ClockKind("global", 1.0),
        ClockKind("perf", 1.0),
        ClockKind("mono_raw", 1.0),  # CLOCK_MONOTONIC_RAW: no NTP slewing, so it drifts by the NTP correction
        ClockKind("mono", 1.0, exact_rate=True),  # ktime_get_mono_fast_ns: CLOCK_MONOTONIC itself
        ClockKind("boot", 1.0, exact_rate=True),  # monotonic + time spent suspended
        ClockKind("tai", 1.0, exact_rate=True),  # realtime + TAI offset: steps when the wall clock is set
        ClockKind("x86-tsc", None),  # raw TSC cycles
        ClockKind("counter", None, monotone_only=True),  # a global atomic incremented per event
        # jiffies converted to USER_HZ (100 Hz) ticks: exactly 10 ms each on average, but with HZ=250 a tick starts
        # up to one 4 ms jiffy late (floor(j * 100 / 250)): an event lies within 12 ms after its tick's nominal start.
        ClockKind("uptime", 1e7, exact_rate=True, quantum=1.2e7),
    )
}


def clock_kind(name: str, tsc_rate: Optional[float] = None) -> ClockKind:
    """The kind of `name`; an unknown clock (another architecture's counter) is treated as a raw counter.

    `tsc_rate` (ns per cycle from trace.dat's TSC2NSEC mult/shift) gives x86-tsc a nominal rate when known.
    """
    kind = KINDS.get(name)
    if kind is None:
        return ClockKind(name, tsc_rate)
    if kind.name == "x86-tsc" and tsc_rate:
        return ClockKind(kind.name, tsc_rate)
    return kind
