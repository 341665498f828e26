"""The hardware- and OS-noise tracers' samples: hwlat (`#SEQ inner/outer(us): ...`) and osnoise (one line per
period: runtime, noise, % CPU available, max single noise, interference counts), printed as the kernel's trace file
prints them (trace_hwlat_print, trace_osnoise_print), and summarized per host as rtla does."""

# ruff: noqa: UP031  (the kernel's layouts are printf formats)
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, Mapping

from fleet.ftrace.events import Event
from fleet.ftrace.latency import LatencyStats, num

INTERFERENCE = ("hw_count", "nmi_count", "irq_count", "softirq_count", "thread_count")


def hwlat_body(fields: Mapping[str, object]) -> str:
    text = "#%-5d inner/outer(us): %4d/%-5d ts:%d.%09d count:%d" % (
        num(fields, "seqnum"),
        num(fields, "duration"),
        num(fields, "outer_duration"),
        num(fields, "tv_sec"),
        num(fields, "tv_nsec"),
        num(fields, "count"),
    )
    if num(fields, "nmi_count"):
        # x86 has no GENERIC_SCHED_CLOCK: the kernel prints the NMI total time too
        text += " nmi-total:%d nmi-count:%d" % (num(fields, "nmi_total_ts"), num(fields, "nmi_count"))
    return text + "\n"


def osnoise_body(fields: Mapping[str, object]) -> str:
    runtime, noise = num(fields, "runtime"), num(fields, "noise")
    # the available share of the CPU in units of 1e-7, printed as a percentage with 5 decimals
    ratio = (runtime - noise) * 10_000_000 // runtime if runtime else 0
    text = "%d %10d %3d.%05d %7d" % (runtime, noise, ratio // 100_000, ratio % 100_000, num(fields, "max_sample"))
    return text + "".join(" %6d" % num(fields, k) for k in INTERFERENCE) + "\n"


def hwlat_summary(events: Iterable[Event]) -> Dict[str, LatencyStats]:
    """Statistics (us) of the hwlat samples' inner and outer latencies."""
    out: Dict[str, LatencyStats] = {}
    for ev in events:
        if ev.system == "ftrace" and ev.name == "hwlat":
            f = ev.fields()
            out.setdefault("inner", LatencyStats()).add(num(f, "duration"))
            out.setdefault("outer", LatencyStats()).add(num(f, "outer_duration"))
    return out


@dataclass
class NoiseStats:
    """One CPU's osnoise periods summed (rtla osnoise top's columns): runtime and noise in us."""

    periods: int = 0
    runtime: int = 0
    noise: int = 0
    max_noise: int = 0
    max_single: int = 0
    interference: Dict[str, int] = field(default_factory=lambda: {k: 0 for k in INTERFERENCE})

    @property
    def available(self) -> float:
        """% of the CPU left to the workload."""
        return 100.0 * (self.runtime - self.noise) / self.runtime if self.runtime else 0.0


def osnoise_summary(events: Iterable[Event]) -> Dict[int, NoiseStats]:
    """Per CPU statistics of the osnoise tracer's samples."""
    out: Dict[int, NoiseStats] = {}
    for ev in events:
        if ev.system == "ftrace" and ev.name == "osnoise":
            f = ev.fields()
            st = out.setdefault(ev.cpu, NoiseStats())
            st.periods += 1
            st.runtime += num(f, "runtime")
            st.noise += num(f, "noise")
            st.max_noise = max(st.max_noise, num(f, "noise"))
            st.max_single = max(st.max_single, num(f, "max_sample"))
            for k in INTERFERENCE:
                st.interference[k] += num(f, k)
    return out
