"""Per-host summaries of the sampling tracers recorded in a run: timerlat (irq/thread latency), hwlat (inner/outer)
and osnoise (per CPU noise), the numbers rtla prints, for each host that has such samples."""

from __future__ import annotations

from typing import IO, Iterator, List, Optional, Sequence

from fleet.ftrace.events import Decoder, Event
from fleet.ftrace.latency import LatencyStats, timerlat_summary
from fleet.ftrace.noise import INTERFERENCE, hwlat_summary, osnoise_summary
from fleet.record.reader import HostRun, Run


def host_events(host: HostRun) -> Iterator[Event]:
    decoder = Decoder(host.meta)
    for cpu in host.cpus:
        for item in decoder.decode_pages(cpu, host.pages(cpu)):
            if isinstance(item, Event) and item.system == "ftrace" and item.name in ("timerlat", "hwlat", "osnoise"):
                yield item


def _stats_row(label: str, st: LatencyStats, unit: str) -> str:
    return f"  {label:<8} {st.count:>8} {st.minimum:>10} {st.average:>12.1f} {st.maximum:>10}  {unit}\n"


def host_summary(host: HostRun) -> str:
    """The host's summary text, or "" when it recorded no samples of these tracers."""
    events: List[Event] = list(host_events(host))
    out: List[str] = []
    head = f"  {'':<8} {'samples':>8} {'min':>10} {'avg':>12} {'max':>10}\n"
    timer = timerlat_summary(events)
    if timer:
        out.append(f"# {host.name}: timerlat\n" + head)
        out.extend(_stats_row(k, timer[k], "ns") for k in sorted(timer))
    hw = hwlat_summary(events)
    if hw:
        out.append(f"# {host.name}: hwlat\n" + head)
        out.extend(_stats_row(k, hw[k], "us") for k in ("inner", "outer"))
    noise = osnoise_summary(events)
    if noise:
        out.append(f"# {host.name}: osnoise\n")
        cols = "".join(f" {k[: -len('_count')]:>8}" for k in INTERFERENCE)
        out.append(
            f"  {'CPU':>4} {'periods':>8} {'runtime us':>12} {'noise us':>10} {'% avail':>10} "
            f"{'max noise':>10} {'max single':>10}{cols}\n"
        )
        for cpu in sorted(noise):
            st = noise[cpu]
            counts = "".join(f" {st.interference[k]:>8}" for k in INTERFERENCE)
            out.append(
                f"  {cpu:>4} {st.periods:>8} {st.runtime:>12} {st.noise:>10} {st.available:>10.5f} "
                f"{st.max_noise:>10} {st.max_single:>10}{counts}\n"
            )
    return "".join(out)


def print_summaries(run: Run, out: IO[str], hosts: Optional[Sequence[str]] = None) -> int:
    """Each selected host's summary, a blank line after each; returns how many hosts had samples."""
    n = 0
    for host in run.hosts:
        if hosts is not None and host.name not in hosts or not host.has_metadata:
            continue
        text = host_summary(host)
        if text:
            out.write(text + "\n")
            n += 1
    return n
