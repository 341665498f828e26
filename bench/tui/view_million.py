"""`fleet view` on a run of a million events or more (synthesized from tests/tui/data/run-small by
tests/tui/synth_run.py: real pages, repeated with shifted timestamps, over 4 host names).

Prints the index build time against `fleet report`'s pass over the same merged stream (the peer in this run), the
index's memory (its arrays) and the process's peak RSS, and key-press-to-redraw latency in the viewer: each action,
then every line on screen produced again (events, lanes, fields).

    python3 bench/tui/view_million.py [--events N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fleet.report import ReportOptions, report  # noqa: E402
from fleet.sources import RunSource  # noqa: E402
from fleet.tui.filters import Filter  # noqa: E402
from fleet.tui.run_index import RunIndex  # noqa: E402
from fleet.tui.viewer import ViewerApp  # noqa: E402
from tests.tui.synth_run import synthesize  # noqa: E402

SMALL = ROOT / "tests" / "tui" / "data" / "run-small"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def index_bytes(ix: RunIndex) -> int:
    arrays = [ix.ts, ix.key, ix.evid, ix.lost_rows, ix.lost_counts, ix.marker_rows, *ix.host_ts, *ix.checkpoints]
    arrays += [*ix.page_frame, *ix.page_no, *ix.page_seq]
    return sum(a.itemsize * len(a) for a in arrays)


def redraw(app: ViewerApp) -> None:
    """Everything on screen produced again, as a refresh after a key does."""
    for y in range(app.events.size.height):
        app.events.render_line(y)
    app.lanes.render()
    app.fields_panel.render()
    app.status_bar.render()


async def latencies(run: Path, ix: RunIndex) -> Dict[str, List[float]]:
    app = ViewerApp(run, ix)
    out: Dict[str, List[float]] = {}
    rng = random.Random(1)

    def timed(name: str, action: Callable[[], None]) -> None:
        t = time.perf_counter()
        action()
        redraw(app)
        out.setdefault(name, []).append(time.perf_counter() - t)

    async with app.run_test(size=(160, 50)) as pilot:
        while not ix.done:
            await pilot.pause(0.1)
        await pilot.pause(0.3)
        first, last = ix.ts[0], ix.ts[len(ix) - 1]
        height = app.events.size.height
        for _ in range(30):
            timed("page down", lambda: setattr(app.events, "cursor", app.events.cursor + height))
            timed("jump to time", lambda: app.goto_row(ix.row_at_time(rng.randint(first, last))))
            timed("next marker", lambda: app.action_step("marker", 1))
            timed("random row (cold)", lambda: app.goto_row(rng.randrange(len(ix))))
            await pilot.pause(0.01)
        # End to end through Textual: the key event, its binding, the refresh.
        # `z` is bound to nothing: the pilot's own cost, the peer of the others.
        for key in ["z", "m", "pagedown", "end", "home", "down"] * 6:
            t = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            out.setdefault(f"pilot key {key}", []).append(time.perf_counter() - t)
        t = time.perf_counter()
        app.apply_filter(Filter.parse("host:localhost2"))
        while not app.filter_done:
            await pilot.pause(0.05)
        out["filter host (whole run)"] = [time.perf_counter() - t]
        app.apply_filter(Filter())
        await pilot.press("q")
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build the run here once and reuse it")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fleet-bench-view-"))
    run = args.keep or tmp / "run"
    try:
        if not run.exists():
            t = time.perf_counter()
            n = synthesize(SMALL, run, args.events)
            print(f"synthesized {n} events in {time.perf_counter() - t:.1f} s at {run}")
            # Measure in a fresh process so peak RSS is the viewer's, not the synthesizer's.
            return subprocess.call([sys.executable, __file__, "--keep", str(run), "--events", str(args.events)])
        size = sum(p.stat().st_size for p in run.rglob("*") if p.is_file())
        base = rss_mb()
        t = time.perf_counter()
        ix = RunIndex(run)
        ix.build()
        build = time.perf_counter() - t
        assert ix.error is None, ix.error
        after_build = rss_mb()
        t = time.perf_counter()
        report(RunSource(run), ReportOptions(ns=True), io.StringIO())
        peer = time.perf_counter() - t
        after_report = rss_mb()
        print(f"run: {len(ix)} rows, {len(ix.hosts)} hosts, {size / 1e6:.1f} MB on disk")
        print(
            f"index build: {build:.2f} s ({len(ix) / build / 1e3:.0f} k rows/s); fleet report pass: {peer:.2f} s; "
            f"ratio index/report {build / peer:.2f}"
        )
        print(
            f"index arrays: {index_bytes(ix) / 1e6:.1f} MB ({index_bytes(ix) / len(ix):.1f} bytes/row); "
            f"peak RSS {base:.0f} MB before, {after_build:.0f} MB after the build, "
            f"{after_report:.0f} MB after the report pass"
        )
        lat = asyncio.run(latencies(run, ix))
        print("key press to redraw (ms): action   p50   p95   max")
        for name, xs in lat.items():
            xs = sorted(xs)
            print(
                f"  {name:<26} {statistics.median(xs) * 1e3:7.1f} {xs[int(0.95 * (len(xs) - 1))] * 1e3:7.1f} "
                f"{xs[-1] * 1e3:7.1f}"
            )
        print(f"peak RSS at the end (viewer app included): {rss_mb():.0f} MB")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
