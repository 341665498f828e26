#!/usr/bin/env python3
"""Fan-out of `fleet trace` over N namespace hosts: time to first event and coordinator CPU, for N = 3, 10, 30.

Peers measured in the same run: OpenSSH running `true` on all N hosts at once (how long any SSH fan-out takes to
reach every host), and the bytes recorded (CPU per MiB). Run as root: `python3 bench/fanout.py [N ...]`.
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Tuple

from agent import protocol
from fleet.inventory import load_inventory
from fleet.lab import Lab
from fleet.record.writer import RunWriter
from fleet.transport import deploy
from fleet.transport.fanout import Fanout, FanoutOptions
from fleet.transport.session import SessionSettings
from fleet.transport.ssh import SshOptions
from fleet.transport.target import Target

DURATION = 2.0


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def openssh_fanout(lab: Lab) -> float:
    """Wall seconds for OpenSSH to run `true` on every host at once (the peer for time to first event)."""
    t0 = time.monotonic()
    procs = [
        subprocess.Popen(["ssh", "-F", str(lab.ssh_config), h.name, "true"], stdin=subprocess.DEVNULL)
        for h in lab.hosts
    ]
    for p in procs:
        p.wait()
    return time.monotonic() - t0


def trace_once(
    targets: List[Target], out: Path, build: deploy.AgentBuild
) -> Tuple[float, float, float, float, int, List[str]]:
    """(first event any host, first event every host, tracing seconds, coordinator CPU s, bytes, failures)."""
    session = f"bench-{out.name}"
    config = {"events": ["sched:sched_switch"]}
    writer = RunWriter.create(out, config, [], sys.argv, session, protocol.PROTOCOL_VERSION)
    settings = SessionSettings(session, config, [], sync_interval=1.0)
    fanout = Fanout(targets, writer, settings, FanoutOptions(SshOptions(), max_connects=16), lambda *a: None, build)
    t0 = time.monotonic_ns()
    cpu0 = cpu_seconds()
    asyncio.run(fanout.run_all(DURATION))
    cpu = cpu_seconds() - cpu0
    writer.close()
    firsts = [s.first_data_ns for s in fanout.sessions if s.first_data_ns is not None]
    failed = [f"{s.name}: {s.error}" for s in fanout.sessions if s.error]
    first_any = (min(firsts) - t0) / 1e9 if firsts else float("nan")
    first_all = (max(firsts) - t0) / 1e9 if len(firsts) == len(targets) else float("nan")
    total = sum(h.data_bytes for h in writer.hosts.values())
    wall = (time.monotonic_ns() - t0) / 1e9
    return first_any, first_all, wall, cpu, total, failed


def bench(n: int, build: deploy.AgentBuild, work: Path) -> Optional[str]:
    lab = Lab.up("bfan", n, work / f"lab{n}")
    try:
        targets = [Target.from_host(h) for h in load_inventory([lab.inventory_path]).select("lab/*")]
        peer = openssh_fanout(lab)
        trace_once(targets, work / f"warm{n}", build)  # pushes the agent, warms caches
        first_any, first_all, wall, cpu, total, failed = trace_once(targets, work / f"run{n}", build)
    finally:
        lab.down()
    mib = total / (1 << 20)
    return (
        f"{n:>5}  {first_any:9.3f}  {first_all:9.3f}  {peer:8.3f}  {first_all / peer:7.2f}x  "
        f"{cpu:7.2f}  {100 * cpu / wall:6.1f}%  {mib:8.2f}  {cpu / mib if mib else float('nan'):8.3f}"
        + (f"  FAILED: {'; '.join(failed)}" if failed else "")
    )


def main(argv: List[str]) -> int:
    sizes = [int(a) for a in argv] or [3, 10, 30]
    print(f"fleet trace fan-out, {DURATION:g} s of sched:sched_switch per run; peer: OpenSSH `ssh HOST true` on all")
    print(" (first event: seconds from the start of the fan-out until the first data frame arrives)")
    print(
        f"{'hosts':>5}  {'1st any':>9}  {'1st all':>9}  {'openssh':>8}  {'ratio':>8}  "
        f"{'cpu s':>7}  {'cpu %':>7}  {'MiB':>8}  {'cpu s/MiB':>8}"
    )
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        work = Path(tmp)
        build = deploy.build_agent(work)
        for n in sizes:
            print(bench(n, build, work), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
