"""Every key and screen of the live dashboard, fed through its StatusFeed (the coordinator's side is tested live
in test_live.py)."""

from __future__ import annotations

from typing import Any, List

from fleet.tui.dashboard import DashboardApp
from fleet.tui.screens.help import HelpScreen
from fleet.tui.screens.host_detail import HostDetailScreen
from fleet.tui.status import Controls, HostStatus, StatusFeed, TailEvent
from fleet.tui.widgets.lines import LineList
from tests.tui.conftest import screen_text

SIZE = (160, 40)


def fleet_feed() -> StatusFeed:
    feed = StatusFeed()
    feed.host(HostStatus("b2", "tracing", kernel="6.1.0-rt", trace_clock="mono", events=500, bytes=4096, lost=7))
    feed.host(HostStatus("a1", "tracing", kernel="6.18.0", trace_clock="local", events=900, bytes=1024))
    feed.host(
        HostStatus(
            "c3",
            "error",
            detail="configure: tracer 'wakeup' not available",
            errors=["configure: tracer 'wakeup' not available"],
            config={"events": ["sched:sched_switch"], "tracer": "wakeup"},
        )
    )
    feed.tail(
        [
            TailEvent("a1", 10, 0, "sched_switch", "bash-1 [000] 0.000010: sched_switch: a1 one"),
            TailEvent("b2", 11, 1, "sched_wakeup", "cc-2 [001] 0.000011: sched_wakeup: b2 two"),
            TailEvent("a1", 12, 1, "irq_handler_entry", "<idle>-0 [001] 0.000012: irq_handler_entry: irq=5"),
        ]
    )
    return feed


def host_order(app: DashboardApp) -> List[str]:
    return [r.status.host for r in app._host_rows]


def summary(app: DashboardApp) -> str:
    return str(app.query_one("#summary").render())


async def test_shows_every_host_with_state_cause_and_the_tail() -> None:
    app = DashboardApp(fleet_feed())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "hosts 3 tracing 2 failed 1" in text
        assert host_order(app) == ["a1", "b2", "c3"]
        assert "configure: tracer 'wakeup' not available" in text
        assert "6.1.0-rt" in text and "mono" in text
        assert "sched_wakeup: b2 two" in text


async def test_s_cycles_the_sort_column_and_r_reverses() -> None:
    app = DashboardApp(fleet_feed())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("s")
        assert app.model.sort == "state" and host_order(app) == ["c3", "a1", "b2"]
        await pilot.press("s", "s", "s")
        assert app.model.sort == "lost" and host_order(app)[0] == "b2"
        await pilot.press("r")
        assert host_order(app)[-1] == "b2"


async def test_f_filters_hosts_and_tail_F_clears() -> None:
    app = DashboardApp(fleet_feed())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f", *"host:a*", "enter")
        await pilot.pause()
        assert host_order(app) == ["a1"]
        assert [e.host for e in app._tail_rows] == ["a1", "a1"]
        await pilot.press("f", *"event:irq_*", "enter")
        await pilot.pause()
        assert [e.name for e in app._tail_rows] == ["irq_handler_entry"]
        await pilot.press("F")
        await pilot.pause()
        assert len(app._tail_rows) == 3 and len(host_order(app)) == 3


async def test_p_pauses_the_tail_new_events_wait_until_resumed() -> None:
    feed = fleet_feed()
    app = DashboardApp(feed)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("p")
        assert "PAUSED" in summary(app)
        feed.tail([TailEvent("b2", 20, 0, "sched_switch", "late event")])
        app.tick()
        assert len(app._tail_rows) == 3
        assert app.query_one("#tail", LineList).has_focus
        await pilot.press("up")
        assert app.query_one("#tail", LineList).cursor == 1
        await pilot.press("p")
        assert len(app._tail_rows) == 4 and "late event" in screen_text(app)


async def test_enter_opens_host_detail_escape_returns() -> None:
    app = DashboardApp(fleet_feed())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "enter")
        assert isinstance(app.screen, HostDetailScreen)
        text = screen_text(app)
        assert "c3" in text and "tracer 'wakeup' not available" in text and "wakeup" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HostDetailScreen)


async def test_tab_moves_focus_between_hosts_and_tail() -> None:
    app = DashboardApp(fleet_feed())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("tab")
        assert app.query_one("#tail", LineList).has_focus
        await pilot.press("tab")
        assert app.query_one("#hosts", LineList).has_focus


async def test_T_X_w_reach_the_controls_and_q_stops_then_quits() -> None:
    calls: List[Any] = []
    controls = Controls(
        start=lambda: calls.append("start"),
        stop=lambda: calls.append("stop"),
        marker=lambda text: calls.append(("marker", text)),
        quit=lambda: calls.append("quit"),
    )
    app = DashboardApp(fleet_feed(), controls)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("T", "X", "w", *"step 1", "enter")
        await pilot.pause()
        assert calls == ["start", "stop", ("marker", "step 1")]
        assert "marker 'step 1' sent to every host" in summary(app)
        await pilot.press("q")
        await pilot.pause()
    assert calls[-1] == "quit"


async def test_keys_without_controls_say_so() -> None:
    app = DashboardApp(fleet_feed())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("T")
        assert "start is not available here" in summary(app)
        await pilot.press("w")
        assert "markers are not available here" in summary(app)


async def test_question_mark_lists_every_key() -> None:
    app = DashboardApp(fleet_feed())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for what in ("sort by next column", "pause/resume tail", "start tracing", "write marker on all hosts"):
            assert what in text
        await pilot.press("question_mark")
        assert not isinstance(app.screen, HelpScreen)


def test_feed_keeps_the_latest_record_per_host_and_a_bounded_tail() -> None:
    feed = StatusFeed(tail_limit=3)
    feed.host(HostStatus("h", "connecting"))
    feed.host(HostStatus("h", "tracing", events=5))
    feed.tail([TailEvent("h", t, 0, "e", str(t)) for t in range(5)])
    batch = feed.take(1.0)
    assert [(h.host, h.state, h.events) for h in batch.hosts] == [("h", "tracing", 5)]
    assert [e.line for e in batch.tail] == ["2", "3", "4"]
    assert feed.dropped_tail == 2
    assert feed.take(2.0).hosts == []


async def test_updates_keep_arriving_under_the_help_and_detail_screens() -> None:
    feed = fleet_feed()
    app = DashboardApp(feed)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        feed.host(HostStatus("d4", "connecting"))
        app.tick()
        await pilot.press("escape", "enter")
        feed.host(HostStatus("e5", "connecting"))
        app.tick()
        assert sorted(app.model.hosts) == ["a1", "b2", "c3", "d4", "e5"]
