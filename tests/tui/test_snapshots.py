"""Screenshots of the viewer and the dashboard against accepted ones (pytest-textual-snapshot; accept changes
after looking at them with `pytest tests/tui/test_snapshots.py --snapshot-update`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fleet.tui.dashboard import DashboardApp
from fleet.tui.viewer import ViewerApp
from tests.tui.test_dashboard_keys import fleet_feed

pytest.importorskip("pytest_textual_snapshot")


async def wait_indexed(pilot: Any) -> None:
    while not pilot.app.index.done:
        await pilot.pause(0.05)
    await pilot.pause(0.3)


def test_viewer_on_the_marker(snap_compare: Any, small_run: Path) -> None:
    async def before(pilot: Any) -> None:
        await wait_indexed(pilot)
        await pilot.press("m")
        await pilot.pause()

    assert snap_compare(ViewerApp(small_run), terminal_size=(160, 40), run_before=before)


def test_viewer_filtered_to_wakeups(snap_compare: Any, small_run: Path) -> None:
    async def before(pilot: Any) -> None:
        await wait_indexed(pilot)
        await pilot.press("f", *"event:sched_wakeup", "enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert snap_compare(ViewerApp(small_run), terminal_size=(160, 40), run_before=before)


def test_dashboard_three_hosts(snap_compare: Any) -> None:
    assert snap_compare(DashboardApp(fleet_feed()), terminal_size=(160, 30))


def test_dashboard_host_detail(snap_compare: Any) -> None:
    assert snap_compare(DashboardApp(fleet_feed()), terminal_size=(160, 30), press=["down", "down", "enter"])
