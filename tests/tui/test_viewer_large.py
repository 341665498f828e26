"""The viewer on a run of about 100k events (tests/tui/synth_run.py: real pages repeated with shifted times over 4
hosts): jump to a time, search and filter land on the rows `fleet report` puts there."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List

import pytest

from fleet.tui.run_index import RunIndex
from fleet.tui.viewer import ViewerApp
from tests.tui.synth_run import synthesize
from tests.tui.test_run_index import report_lines

SMALL = Path(__file__).parent / "data" / "run-small"


@pytest.fixture(scope="module")
def large_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("large") / "run"
    synthesize(SMALL, run, 100_000)
    return run


@pytest.fixture(scope="module")
def large_report(large_run: Path) -> List[str]:
    """`fleet report`'s lines: one per row (this run has no event-less lost rows)."""
    return report_lines(large_run)


async def open_viewer(run: Path, pilot_body: Any) -> None:
    app = ViewerApp(run, RunIndex(run))
    async with app.run_test(size=(160, 50)) as pilot:
        while not app.index.done:
            await pilot.pause(0.1)
        await pilot.pause(0.3)
        await pilot_body(app, pilot)


async def wait(pilot: Any, check: Any, what: str) -> None:
    for _ in range(600):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(what)


def cursor_line(app: ViewerApp) -> str:
    row = app.current_row()
    assert row is not None and row.event is not None
    from fleet.ftrace.render import render_line

    return render_line(row.event, row.ts, ns=True, host=row.host)


async def test_the_run_is_large_and_indexed_whole(large_run: Path, large_report: List[str]) -> None:
    async def body(app: ViewerApp, pilot: Any) -> None:
        assert len(app.index) == len(large_report) >= 100_000
        assert len(app.index.hosts) == 4 and app.index.error is None

    await open_viewer(large_run, body)


async def test_jump_to_a_time_lands_on_the_first_event_at_or_after_it(large_run: Path, large_report: List[str]) -> None:
    target = 77_777
    seconds = large_report[target].split("]", 1)[1].split(":", 1)[0].strip()

    async def body(app: ViewerApp, pilot: Any) -> None:
        await pilot.press("t", *seconds, "enter")
        await wait(pilot, lambda: app.table.cursor > 0, "the cursor never moved")
        first_at = next(n for n, line in enumerate(large_report) if f" {seconds}: " in line)
        assert app.table.cursor == first_at
        assert cursor_line(app) == large_report[first_at]

    await open_viewer(large_run, body)


async def test_search_finds_the_next_matching_event_after_the_cursor(large_run: Path, large_report: List[str]) -> None:
    start = 50_000
    expected = next(n for n in range(start + 1, len(large_report)) if "hello" in large_report[n])

    async def body(app: ViewerApp, pilot: Any) -> None:
        app.goto_row(start)
        await pilot.press("slash", *"hello", "enter")
        await wait(pilot, lambda: app.table.cursor != start, "search never moved the cursor")
        assert app.table.cursor == expected
        assert cursor_line(app) == large_report[expected]
        await pilot.press("n")
        after = next(n for n in range(expected + 1, len(large_report)) if "hello" in large_report[n])
        await wait(pilot, lambda: app.table.cursor != expected, "n never moved the cursor")
        assert app.table.cursor == after

    await open_viewer(large_run, body)


async def test_filter_keeps_exactly_one_hosts_events_of_one_kind(large_run: Path, large_report: List[str]) -> None:
    expected = [
        line for line in large_report if line.startswith("localhost3:") and ": sched_wakeup: " in line.split("]", 1)[1]
    ]

    async def body(app: ViewerApp, pilot: Any) -> None:
        await pilot.press("f", *"host:localhost3 event:sched_wakeup", "enter")
        await wait(pilot, lambda: app.kept is not None and app.filter_done, "the filter never finished")
        assert app.kept is not None and len(app.kept) == len(expected) > 0
        app.table.cursor = len(expected) - 1
        await pilot.pause()
        assert cursor_line(app) == expected[-1]
        app.table.cursor = len(expected) // 2
        await pilot.pause()
        assert cursor_line(app) == expected[len(expected) // 2]

    await open_viewer(large_run, body)
