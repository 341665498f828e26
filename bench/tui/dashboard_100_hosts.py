"""bench/tui: the dashboard with 100 simulated busy hosts publishing into its StatusFeed from a thread.

Prints key-press-to-redraw latency (the `s` action, then every on-screen line rendered again), the tick cost,
and Python heap growth over the run, against a peer measured in the same run: the same dashboard with 1 host.
Run: python3 bench/tui/dashboard_100_hosts.py [seconds]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import threading
import time
import tracemalloc
from typing import Dict, List

from fleet.tui.dashboard import DashboardApp
from fleet.tui.status import HostStatus, StatusFeed, TailEvent


def producer(feed: StatusFeed, hosts: int, stop: threading.Event, rate: int = 50_000) -> None:
    """Each host: `rate` events/s, status every 50 ms, 8 tail events per update (as the live tap sends)."""
    status = [HostStatus(f"board{i:03d}", "tracing", kernel="6.18.0", trace_clock="local") for i in range(hosts)]
    n = 0
    while not stop.is_set():
        for s in status:
            s.events += rate // 20
            s.bytes += rate // 20 * 40
            s.per_cpu_events = {0: s.events // 2, 1: s.events - s.events // 2}
            feed.host(s)
            feed.tail(
                [TailEvent(s.host, n + k, 0, "sched_switch", f"task-{k} [000] {n}: sched_switch: x") for k in range(8)]
            )
        n += 1
        time.sleep(0.05)


async def measure(hosts: int, seconds: float) -> Dict[str, float]:
    feed = StatusFeed()
    stop = threading.Event()
    thread = threading.Thread(target=producer, args=(feed, hosts, stop), daemon=True)
    app = DashboardApp(feed)
    latencies: List[float] = []
    ticks: List[float] = []
    tracemalloc.start()
    thread.start()
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause(1.0)
            base, _ = tracemalloc.get_traced_memory()
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                # What the `s` key costs: resort the hosts, then produce every line on screen again.
                t = time.perf_counter()
                app.action_sort()
                for lines in (app.hosts_list, app.tail_list):
                    for y in range(lines.size.height):
                        lines.render_line(y)
                app.summary.render()
                latencies.append(time.perf_counter() - t)
                t = time.perf_counter()
                app.tick()  # one batch: everything 100 hosts published since the last tick
                ticks.append(time.perf_counter() - t)
                await pilot.pause(0.05)
            current, peak = tracemalloc.get_traced_memory()
    finally:
        stop.set()
        thread.join()
        tracemalloc.stop()
    return {
        "p50_ms": statistics.median(latencies) * 1e3,
        "p95_ms": sorted(latencies)[int(0.95 * (len(latencies) - 1))] * 1e3,
        "tick_ms": statistics.median(ticks) * 1e3,
        "heap_growth_mb": (current - base) / 1e6,
        "peak_mb": peak / 1e6,
        "presses": len(latencies),
    }


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    one = asyncio.run(measure(1, seconds))
    hundred = asyncio.run(measure(100, seconds))
    print(f"{'':24}{'1 host':>12}{'100 hosts':>12}{'ratio':>8}")
    for key in ("p50_ms", "p95_ms", "tick_ms", "heap_growth_mb", "peak_mb"):
        a, b = one[key], hundred[key]
        ratio = f"{b / a:8.1f}" if a > 0 else "       -"
        print(f"{key:24}{a:12.2f}{b:12.2f}{ratio}")
    print(f"key presses measured: {hundred['presses']:.0f} per run; 100 hosts publish 5M events/s in total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
