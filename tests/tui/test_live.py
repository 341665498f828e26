"""The dashboard on a real trace of this machine: states, kernel, events arrive; w writes a marker that the
recording holds; X stops and the run is complete."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fleet.commands.trace import TraceRequest, targets_for
from fleet.record.reader import Run
from fleet.tui.dashboard import DashboardApp
from fleet.tui.live import LiveTrace
from fleet.tui.run_index import RunIndex
from fleet.tui.status import Controls, StatusFeed
from tests.tui.conftest import screen_text


async def until(pilot: Any, check: Any, what: str, limit: float = 30.0) -> None:
    """Readiness wait (the coordinator runs in its own thread); fails with `what` if it never happens."""
    waited = 0.0
    while not check():
        assert waited < limit, what
        await pilot.pause(0.1)
        waited += 0.1


async def test_live_trace_of_localhost_marker_and_stop(tracefs: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    req = TraceRequest(targets_for("localhost", None), {"events": ["sched:sched_switch"]}, out)
    feed = StatusFeed()
    live = LiveTrace(req, feed)
    live.start()
    app = DashboardApp(feed, Controls(stop=live.stop, marker=live.marker, quit=live.stop))
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            host = lambda: app.model.hosts.get("localhost")  # noqa: E731
            await until(pilot, lambda: host() is not None and host().status.events > 0, "no events arrived")
            assert host().status.state == "tracing"
            assert host().status.kernel and host().status.trace_clock == "local"
            assert "localhost" in screen_text(app) and "sched_switch" in screen_text(app)
            await pilot.press("w", *"from the keys", "enter")
            await pilot.pause(0.5)
            await pilot.press("X")
            await until(pilot, lambda: host().status.state == "done", "the host never finished")
            await until(pilot, lambda: app.model.finished, "the run never finished")
            await pilot.press("q")
    finally:
        live.stop()
        live.join()
    assert Run.open(out).complete
    index = RunIndex(out)
    index.build()
    # Other programs' top-level markers are copied into the instance too (shared kernel): look for ours.
    assert "from the keys" in [index.row(r).body.split(": ", 1)[1] for r in index.marker_rows]
    shutil.rmtree(out)
