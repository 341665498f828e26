"""Trace the namespace lab and measure alignment against the shared-kernel ground truth (test and bench share it)."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from fleet.cli import main
from fleet.clocksync.crosscheck import Fingerprints, PairStats, compare, fingerprints
from fleet.clocksync.model import ClockModel
from fleet.clocksync.recorded import run_models
from fleet.ftrace.events import Decoder, Event
from fleet.record.reader import HostRun, Run

# Renamed before every sleep (prctl PR_SET_NAME), so each of its sched_switch/sched_wakeup records is unique and
# can be matched across hosts even when the machine runs little else (a busy loop on the other CPU, say).
SLEEPER = (
    "import ctypes, itertools, sys, time\n"
    "prctl = ctypes.CDLL(None).prctl\n"
    "end = time.monotonic() + float(sys.argv[1])\n"
    "for n in itertools.count():\n"
    "    prctl(15, b'sleeper-%d' % n, 0, 0, 0)\n"
    "    time.sleep(0.0005)\n"
    "    if time.monotonic() > end:\n"
    "        break\n"
)

# Three different trace clocks, so offsets and rates are real: per-CPU sched_clock, wall-clock based, raw cycles.
MIXED_CLOCKS = {"h1": "local", "h2": "tai", "h3": "x86-tsc"}
# Interrupt events come along so that a copy stamped late by an interrupt shows up as reordered (see crosscheck).
EVENTS = ("sched:sched_switch", "sched:sched_wakeup", "irq", "irq_vectors")


def inventory_with_clocks(inventory: Path, clocks: Dict[str, str], out: Path) -> Path:
    """A copy of the lab's inventory with fleet_trace_clock set per host (the way a user gives boards their clock)."""
    data = yaml.safe_load(inventory.read_text())
    hosts = data["all"]["children"]["lab"]["hosts"]
    for name, clock in clocks.items():
        hosts[name]["fleet_trace_clock"] = clock
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def trace_lab(
    inventory: Path,
    out: Path,
    seconds: float,
    clocks: Optional[Dict[str, str]] = None,
    *extra: str,
    sync_interval: float = 0.5,
) -> Run:
    """Trace every lab host for `seconds` into `out`; `clocks` gives hosts their own trace clock (default local)."""
    if clocks:
        inventory = inventory_with_clocks(inventory, clocks, out.parent / f"{out.name}-inventory.yml")
    argv = ["trace", "-i", str(inventory), "--hosts", "lab/*", "-C", "local", "--no-tui"]
    for event in EVENTS:
        argv += ["-e", event]
    argv += ["--sync-interval", str(sync_interval), "--duration", str(seconds), "-o", str(out), *extra]
    # A quiet machine (CI running alone) schedules too little to match enough events: a sleeper waking every 0.5 ms
    # gives every host a steady stream of unique sched_switch/sched_wakeup records to compare, at little CPU cost.
    sleeper = subprocess.Popen([sys.executable, "-c", SLEEPER, str(seconds + 30)])
    try:
        assert main(argv) == 0
    finally:
        sleeper.kill()
        sleeper.wait()
    return Run.open(out)


def host_fingerprints(host: HostRun) -> Fingerprints:
    decoder = Decoder(host.meta)

    def items() -> Any:
        for cpu in host.cpus:
            for item in decoder.decode_pages(cpu, host.pages(cpu)):
                if isinstance(item, Event) and item.name != "print":
                    yield cpu, item.ts, item.data

    return fingerprints(items())


def models(run: Run, sync: str) -> Dict[str, ClockModel]:
    """Each host's model as `fleet info --sync SYNC` computes it (auto: shared-kernel shortcut; network: RTTs)."""
    return run_models(run, sync)


def pair_stats(run: Run, sync: str) -> List[PairStats]:
    prints = {h.name: host_fingerprints(h) for h in run.hosts}
    ms = models(run, sync)
    return [compare(a, b, prints[a], prints[b], ms[a], ms[b]) for a, b in itertools.combinations(ms, 2)]


def absolute_errors(run: Run) -> Dict[str, float]:
    """Per host, |network model - shared-kernel model| at the middle of its markers: the lab's hosts share the
    coordinator's CLOCK_MONOTONIC, so this is the round-trip estimate's own error, common-mode part included."""
    net, auto = run_models(run, "network"), run_models(run, "auto")
    out = {}
    for name, m in net.items():
        if m.span:
            mid = m.span[len(m.span) // 2]
            out[name] = abs(m.aligned(mid) - auto[name].aligned(mid))
    return out
