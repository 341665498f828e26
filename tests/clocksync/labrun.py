"""Trace the namespace lab and measure alignment against the shared-kernel ground truth (test and bench share it)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Dict, List

from fleet.cli import main
from fleet.clocksync.align import align_host, attach_markers
from fleet.clocksync.crosscheck import Fingerprints, PairStats, compare, fingerprints
from fleet.clocksync.model import ClockModel
from fleet.clocksync.recorded import host_sync_markers
from fleet.ftrace.events import Decoder, Event
from fleet.record.reader import HostRun, Run


def trace_lab(inventory: Path, out: Path, seconds: float, clock: str = "local", *extra: str) -> Run:
    argv = ["trace", "-i", str(inventory), "--hosts", "lab/*", "-e", "sched:sched_switch", "-e", "sched:sched_wakeup"]
    argv += ["-C", clock, "--no-tui", "--sync-interval", "0.5", "--duration", str(seconds), "-o", str(out), *extra]
    assert main(argv) == 0
    return Run.open(out)


def host_fingerprints(host: HostRun) -> Fingerprints:
    decoder = Decoder(host.meta)

    def items() -> Any:
        for cpu in host.cpus:
            for item in decoder.decode_pages(cpu, host.pages(cpu)):
                if isinstance(item, Event) and item.name != "print":
                    yield cpu, item.ts, item.data

    return fingerprints(items())


def models(run: Run, shared_kernel: bool) -> Dict[str, ClockModel]:
    """Each host's model with the shared-kernel shortcut (default sync) or round trips only (`--sync network`)."""
    out = {}
    for host in run.hosts:
        samples = attach_markers(host.sync_samples, host_sync_markers(host))
        out[host.name] = align_host(samples, host.meta.trace_clock, shared_kernel=shared_kernel)
    return out


def pair_stats(run: Run, shared_kernel: bool) -> List[PairStats]:
    prints = {h.name: host_fingerprints(h) for h in run.hosts}
    ms = models(run, shared_kernel)
    return [compare(a, b, prints[a], prints[b], ms[a], ms[b]) for a, b in itertools.combinations(ms, 2)]
