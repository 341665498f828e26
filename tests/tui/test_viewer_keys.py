"""Every key of `fleet view`, driven through Textual's pilot on a real recorded run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fleet.tui.screens.help import HelpScreen
from fleet.tui.screens.prompt import PromptScreen
from fleet.tui.viewer import ViewerApp, parse_time
from fleet.tui.widgets.fields import FieldsPanel
from tests.tui.conftest import screen_text

SIZE = (160, 40)


async def ready(pilot: Any) -> ViewerApp:
    app: ViewerApp = pilot.app
    while not app.index.done:
        await pilot.pause(0.05)
    await pilot.pause(0.3)  # the 0.2 s poll shows the rows
    return app


def status(app: ViewerApp) -> str:
    return str(app.query_one("#status").render())


async def test_opens_on_the_first_event_with_its_fields(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        text = screen_text(app)
        assert "run-small  hosts 1  events 471  line 1  markers 1  lost gaps 0  filter none" in text
        first = app.index.row(0)
        assert first.time in text and "sched_switch" in text
        assert "prev_comm" in str(app.query_one(FieldsPanel).render())


async def test_down_end_home_page_move_the_cursor(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("down", "down", "j")
        assert app.table.cursor == 3
        await pilot.press("up", "k")
        assert app.table.cursor == 1
        await pilot.press("end")
        assert app.table.cursor == 470
        await pilot.press("home")
        assert app.table.cursor == 0
        await pilot.press("pagedown")
        assert app.table.cursor > 10
        await pilot.press("pageup")
        assert app.table.cursor == 0
        await pilot.press("G")
        assert app.table.cursor == 470
        await pilot.press("g")
        assert app.table.cursor == 0


async def test_m_and_M_step_to_the_marker(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("m")
        assert app.table.cursor == app.index.marker_rows[0]
        assert "marker 1/1" in status(app)
        assert "MARKER" in screen_text(app) and "hello" in screen_text(app)
        await pilot.press("m")
        assert "no next marker" in status(app)
        await pilot.press("end", "M")
        assert app.table.cursor == app.index.marker_rows[0]


async def test_l_and_L_say_when_no_events_were_lost(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l")
        assert "no next lost-events gap" in status(app)
        await pilot.press("L")
        assert "no previous lost-events gap" in status(app)


async def test_t_jumps_to_a_time_relative_to_the_first_event(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("t")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"+0.5", "enter")
        await pilot.pause()
        target = app.index.ts[0] + 500_000_000
        assert app.table.cursor == app.index.row_at_time(target)
        assert app.index.ts[app.table.cursor] >= target > app.index.ts[app.table.cursor - 1]


async def test_t_with_bad_time_says_how_to_write_one(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("t", *"abc", "enter")
        await pilot.pause()
        assert "give seconds like 1234.567890 or +1.5" in status(app)


async def test_slash_searches_and_n_N_repeat(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        wakeups = [r.row for r in app.index.rows(0, len(app.index)) if r.name == "sched_wakeup"]
        await pilot.press("slash", *"sched_wakeup", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.table.cursor == wakeups[0]
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.table.cursor == wakeups[1]
        await pilot.press("N")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.table.cursor == wakeups[0]


async def test_search_for_missing_text_says_not_found(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("slash", *"no-such-thing", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "'no-such-thing' not found" in status(app)
        assert app.table.cursor == 0


async def test_f_filters_by_event_and_text_F_clears(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        rows = app.index.rows(0, len(app.index))
        wakeups = [r.row for r in rows if r.name == "sched_wakeup"]
        await pilot.press("f", *"event:sched_wakeup", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.kept is not None and list(app.kept) == wakeups
        assert f"shown {len(wakeups)}" in status(app)
        await pilot.press("F")
        await pilot.pause()
        assert app.kept is None and app.table.count == 471
        await pilot.press("f", *"hello", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert list(app.kept or []) == list(app.index.marker_rows)
        await pilot.press("f", *"host:nosuch", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.table.count == 0


async def test_d_hides_and_shows_the_fields_panel(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("d")
        assert not app.query_one(FieldsPanel).display
        await pilot.press("d")
        assert app.query_one(FieldsPanel).display


async def test_question_mark_lists_every_key_and_escape_closes(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key, what in [("t", "jump to time"), ("/", "search"), ("m", "next marker"), ("l", "next lost-events")]:
            assert what in text, key
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_escape_cancels_a_prompt(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f", "escape")
        assert not isinstance(app.screen, PromptScreen) and app.kept is None


async def test_q_quits(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


def test_parse_time_absolute_and_relative() -> None:
    assert parse_time("12.5", 7) == 12_500_000_000
    assert parse_time("+0.000001", 7) == 1007


async def test_the_index_poll_runs_under_the_help_screen(small_run: Path) -> None:
    app = ViewerApp(small_run)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        app._poll_index()
        await pilot.press("escape")
        assert "events 471" in status(app)
