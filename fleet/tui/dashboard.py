"""The live dashboard: a sortable host table with rate sparklines, a merged live tail coloured by host, filters,
pause and scroll back, a host detail screen, a live latency-study panel, and keys that start/stop tracing and write
markers on every host."""

from __future__ import annotations

import time
from typing import Callable, List, Optional

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from fleet.errors import UsageError
from fleet.tui.dashboard_model import DashboardModel, HostRow
from fleet.tui.filters import Filter
from fleet.tui.screens.help import HelpScreen, keys_of
from fleet.tui.screens.host_detail import HostDetailScreen
from fleet.tui.screens.prompt import PromptScreen
from fleet.tui.status import Controls, StatusFeed, TailEvent
from fleet.tui.study import StudyTap
from fleet.tui.widgets.lines import LineList
from fleet.tui.widgets.study import study_text
from fleet.tui.widgets.style import duration_ns, host_colour, human_bytes, si, sparkline

REFRESH = 0.25
"""Seconds between batches taken from the feed (all updates in between are coalesced)."""
SPARK = 12
COLUMNS = (
    f"{'HOST':<16} {'STATE':<11} {'KERNEL':<14} {'CLOCK':<6} {'OFFSET ± UNC':>17} {'EVENTS/S':>8} "
    f"{'RATE':<{SPARK}} {'BYTES':>9} {'LOST':>6} {'MAXLAT':>7}  ERROR"
)
FAILED = ("error", "lost link")


def host_line(row: HostRow, colour: str) -> Text:
    s = row.status
    out = Text(no_wrap=True, overflow="crop")
    out.append(f"{s.host[:16]:<16} ", style=f"bold {colour}")
    out.append(f"{s.state[:11]:<11} ", style="bold red" if s.state in FAILED else "")
    out.append(f"{s.kernel[:14]:<14} {s.trace_clock[:6]:<6} ")
    off = "-" if s.offset_ns is None else f"{duration_ns(s.offset_ns)} ± {duration_ns(s.uncertainty_ns)}"
    out.append(f"{off:>17} {si(row.rate):>8} ")
    out.append(sparkline(row.rates, SPARK), style=colour)
    out.append(f" {human_bytes(s.bytes):>9} ")
    out.append(f"{s.lost:>6}", style="bold red" if s.lost else "")
    lat = "-" if s.max_latency_us is None else f"{s.max_latency_us:.0f}us"
    out.append(f" {lat:>7}  ")
    if s.max_latency_us is not None:  # which tracer measured it; no column of its own, the cause needs the room
        out.append(f"{s.config.get('tracer') or ''}  ", style="bold")
    cause = s.errors[-1] if s.errors else (s.detail if s.state in FAILED else "")
    out.append(cause, style="red")
    return out


class DashboardApp(App[None]):
    """Watches a StatusFeed; keys act through Controls (those the caller did not give say so)."""

    TITLE = "fleet"
    BINDINGS = [
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("s", "sort", "sort by next column"),
        Binding("r", "reverse", "reverse sort"),
        Binding("f", "filter", "filter host:/event:/text"),
        Binding("F", "clear_filter", "clear filter"),
        Binding("p", "pause", "pause/resume tail"),
        Binding("enter", "detail", "host details"),
        Binding("tab", "switch", "hosts <-> tail"),
        Binding("T", "start", "start tracing"),
        Binding("X", "stop", "stop tracing"),
        Binding("w", "marker", "write marker on all hosts"),
        Binding("l", "study", "live latency study panel on/off"),
        Binding("q", "quit", "quit"),
    ]
    CSS = """
    #summary { height: 1; background: $boost; padding: 0 1; }
    .header { height: 1; color: $text-muted; padding: 0 0; }
    #hosts { height: 2fr; }
    #tail { height: 3fr; border-top: solid $accent; }
    #study { height: auto; max-height: 17; border-top: solid $accent; padding: 0 1; }
    """

    def __init__(
        self,
        feed: StatusFeed,
        controls: Optional[Controls] = None,
        title: str = "fleet",
        study: Optional[StudyTap] = None,
    ) -> None:
        super().__init__()
        self.feed = feed
        self.study = study
        self.controls = controls or Controls()
        self.model = DashboardModel()
        self.title_text = title
        self.note = ""
        self._host_rows: List[HostRow] = []
        self._tail_rows: List[TailEvent] = []
        # Kept, not queried: a query runs on the current screen, which is not this one under help or details.
        self.summary = Static(id="summary")
        self.hosts_list = LineList(self._host_line, id="hosts")
        self.tail_list = LineList(self._tail_line, id="tail")
        self.study_panel = Static(id="study")
        self.study_panel.display = study is not None
        self.tail_list.follow = True
        self.redraws = 0
        """Ticks that changed the screen (the bench counts them)."""

    def compose(self) -> ComposeResult:
        yield self.summary
        yield Static(Text(COLUMNS, no_wrap=True, overflow="crop"), classes="header")
        yield self.hosts_list
        yield self.study_panel
        yield self.tail_list
        yield Footer()

    def on_mount(self) -> None:
        self.hosts_list.focus()
        self.set_interval(REFRESH, self.tick)
        self.tick()

    # --- the refresh tick --------------------------------------------------------------------------------
    def tick(self) -> None:
        now = time.monotonic()
        batch = self.feed.take(now)
        self.model.apply(batch)
        self.model.finished = self.feed.finished
        if batch.messages:
            self.note = batch.messages[-1]
        self._host_rows = self.model.rows()
        hosts = self.hosts_list
        hosts.set_count(len(self._host_rows))
        hosts.refresh()
        if not self.model.paused or self._tail_rows == []:
            self._tail_rows = self.model.tail_lines()
            self.tail_list.set_count(len(self._tail_rows))
        if isinstance(self.screen, HostDetailScreen):
            self.screen.refresh_detail(now)
        self._summary()
        self._study()
        self.redraws += 1

    def _study(self) -> None:
        if self.study is not None and self.study_panel.display:
            self.study_panel.update(study_text(self.study.view()))

    def _summary(self) -> None:
        t = self.model.totals()
        state = "finished" if self.model.finished else ("PAUSED" if self.model.paused else "live")
        text = (
            f"{self.title_text}  {state}  hosts {t['hosts']:.0f} tracing {t['tracing']:.0f} failed {t['failed']:.0f}"
            f"  {si(t['rate'])} events/s  lost {t['lost']:.0f}  sort {self.model.sort}"
            f"{' desc' if self.model.descending else ''}  filter {self.model.filter.describe()}"
        )
        if self.feed.dropped_tail:
            text += f"  tail dropped {self.feed.dropped_tail}"
        if self.note:
            text += f"  | {self.note}"
        self.summary.update(Text(text, no_wrap=True, overflow="ellipsis"))

    def say(self, note: str) -> None:
        self.note = note
        self._summary()

    def _host_line(self, n: int) -> Text:
        row = self._host_rows[n]
        return host_line(row, host_colour(row.order))

    def _tail_line(self, n: int) -> Text:
        e = self._tail_rows[n]
        out = Text(no_wrap=True, overflow="crop")
        out.append(f"{e.host[:12]:<12} ", style=host_colour(self.model.colour_index(e.host)))
        out.append(e.line)
        return out

    def row_of(self, host: str) -> Optional[HostRow]:
        return self.model.hosts.get(host)

    # --- actions -------------------------------------------------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen("fleet dashboard", keys_of(self.BINDINGS)))

    def _resort(self) -> None:
        """Re-order the rows already taken (no feed work: the key answers at once; the next tick brings news)."""
        self._host_rows = self.model.rows()
        self.hosts_list.refresh()
        self._summary()

    def action_sort(self) -> None:
        self.note = f"sorted by {self.model.cycle_sort()}"
        self._resort()

    def action_reverse(self) -> None:
        self.model.descending = not self.model.descending
        self._resort()

    def action_filter(self) -> None:
        def done(text: Optional[str]) -> None:
            if text is None:
                return
            try:
                self.model.filter = Filter.parse(text)
            except UsageError as exc:
                self.say(str(exc))
                return
            self._tail_rows = []
            self.tick()

        self.push_screen(PromptScreen("filter:", "host:GLOB event:GLOB words"), done)

    def action_clear_filter(self) -> None:
        self.model.filter = Filter()
        self._tail_rows = []
        self.tick()

    def action_pause(self) -> None:
        self.model.set_paused(not self.model.paused)
        tail = self.tail_list
        self._tail_rows = self.model.tail_lines()
        tail.set_count(len(self._tail_rows))
        tail.follow = not self.model.paused
        if self.model.paused:
            tail.focus()
        else:
            tail.action_last()
        self.say("tail paused: scroll back with the arrows, p resumes" if self.model.paused else "tail resumed")

    def action_switch(self) -> None:
        hosts, tail = self.hosts_list, self.tail_list
        (tail if hosts.has_focus else hosts).focus()

    def action_detail(self) -> None:
        hosts = self.hosts_list
        if not self._host_rows:
            return
        host = self._host_rows[min(hosts.cursor, len(self._host_rows) - 1)].status.host
        self.push_screen(HostDetailScreen(host, self.row_of))

    def _control(self, name: str, action: Optional[Callable[[], None]], done: str) -> None:
        if action is None:
            self.say(f"{name} is not available here")
            return
        action()
        self.say(done)

    def action_start(self) -> None:
        self._control("start", self.controls.start, "start asked of every host")

    def action_stop(self) -> None:
        self._control("stop", self.controls.stop, "stop asked of every host")

    def action_marker(self) -> None:
        marker = self.controls.marker
        if marker is None:
            self.say("markers are not available here")
            return

        def done(text: Optional[str]) -> None:
            if text:
                marker(text)
                self.say(f"marker {text!r} sent to every host")

        self.push_screen(PromptScreen("marker:", "text written to trace_marker on every host"), done)

    def action_study(self) -> None:
        if self.study is None:
            self.say("no latency study: start with --study-from EVENT --study-to EVENT")
            return
        panel = self.study_panel
        panel.display = not panel.display
        self._study()
        self.say("study panel shown" if panel.display else "study panel hidden")

    async def action_quit(self) -> None:
        if self.controls.quit is not None:
            self.controls.quit()
        self.exit()


def run_dashboard(
    feed: StatusFeed, controls: Optional[Controls] = None, title: str = "fleet", study: Optional[StudyTap] = None
) -> None:
    """Show the dashboard until the user quits (q); the caller's producers keep publishing into `feed` (and `study`)."""
    DashboardApp(feed, controls, title, study).run()
