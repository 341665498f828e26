"""Benchmark: `fleet latency` pairing throughput on a lab run of >= 1M events, against a decode-only pass.

Run as root: `python3 bench/latency_study.py [--pairs 300000]`. A program on lab host h1 writes `req N sent` and
`req N recv` markers to the top-level trace_marker as fast as it can while h1 and h2 are traced; the shared kernel
copies every marker into both hosts' instances, so the run holds 4 x PAIRS marker events. The study pairs h1's
`sent` with h2's `recv` (cross-host, aligned, uncertainty per pair). Prints events, pairs, the time of the clock
models, of the study and of the peer -- a pass that decodes the same hosts' events and does nothing else -- and
pairs/s, events/s, study/peer.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fleet.cli import main as fleet_main  # noqa: E402
from fleet.ftrace.events import Decoder, Event  # noqa: E402
from fleet.lab import Lab  # noqa: E402
from fleet.latency.sides import Side  # noqa: E402
from fleet.latency.study import StudySpec, run_study  # noqa: E402
from fleet.latency.timeline import clock_models  # noqa: E402
from fleet.record.reader import Run  # noqa: E402
from tests.latency.labstudy import wait_started  # noqa: E402

WRITER = """
import os, subprocess, sys
if not os.path.exists("/sys/kernel/tracing/trace_marker"):
    subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], check=True)
fd = os.open("/sys/kernel/tracing/trace_marker", os.O_WRONLY)
w = os.write
for n in range(int(sys.argv[1])):
    w(fd, b"req %d sent" % n)
    w(fd, b"req %d recv" % n)
"""


def record(lab: Lab, run_dir: Path, pairs: int) -> None:
    def writer() -> None:
        try:
            wait_started(run_dir)
            time.sleep(0.3)
            cmd = ["ip", "netns", "exec", lab.host("h1").netns, sys.executable, "-c", WRITER, str(pairs)]
            subprocess.run(cmd, check=True)
            time.sleep(0.5)  # let the agents ship the last pages
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # fleet trace stops every host, as at Ctrl-C

    thread = threading.Thread(target=writer)
    thread.start()
    argv = ["trace", "-i", str(lab.inventory_path), "--hosts", "lab/h1,lab/h2", "-e", "sched:sched_process_exit"]
    fleet_main(argv + ["-b", "8192", "--no-tui", "-o", str(run_dir)])
    thread.join()


def decode_only(run: Run, hosts: list) -> int:
    """The peer: decode every event of the hosts (name lookup included), nothing else."""
    n = 0
    for name in hosts:
        host = run.host(name)
        decoder = Decoder(host.meta)
        for cpu in host.cpus:
            for item in decoder.decode_pages(cpu, host.pages(cpu)):
                if isinstance(item, Event) and item.name:
                    n += 1
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300_000, help="request pairs to write (4 events each)")
    parser.add_argument("--run", type=Path, help="study this existing run instead of recording one")
    parser.add_argument("-o", dest="out", type=Path, help="record into this run directory (kept afterwards)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fleet-bench-lat-") as tmp:
        run_dir = args.run
        if run_dir is None:
            run_dir = args.out or Path(tmp) / "run"
            with Lab.up(f"bl{os.getpid() % 100000}", 2, Path(tmp) / "lab") as lab:
                record(lab, run_dir, args.pairs)
        run = Run.open(run_dir)
        hosts = ["h1", "h2"]
        t0 = time.perf_counter()
        events = decode_only(run, hosts)
        t_peer = time.perf_counter() - t0
        t0 = time.perf_counter()
        models = clock_models(run)
        t_models = time.perf_counter() - t0
        spec = StudySpec(
            Side("print", ["h1"], match=r"req (\d+) sent"),
            Side("print", ["h2"], match=r"req (\d+) recv"),
        )
        t0 = time.perf_counter()
        result = run_study(run, spec, models)
        t_study = time.perf_counter() - t0
        lost = sum(h.lost_events for h in run.hosts)
        print(f"events in h1+h2: {events}   lost by the kernel: {lost}")
        print(f"pairs: {len(result.pairs)}   unmatched: {result.unmatched}")
        print(f"clock models: {t_models:.2f} s (decodes every host once to find its sync markers)")
        print(f"peer (decode only): {t_peer:.2f} s   {events / t_peer:,.0f} events/s")
        print(
            f"study (pairing):    {t_study:.2f} s   {events / t_study:,.0f} events/s   "
            f"{len(result.pairs) / t_study:,.0f} pairs/s"
        )
        print(f"study / peer: {t_study / t_peer:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
