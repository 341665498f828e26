"""`fleet view RUN`: the merged recording as a virtualised table with lanes, a fields panel, jump, search,
filters and stepping between markers and lost-event gaps."""

from __future__ import annotations

import bisect
from array import array
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from fleet.errors import FleetError, UsageError
from fleet.tui.filters import Filter
from fleet.tui.run_index import CHECKPOINT, NO_EVENT, Row, RunIndex, lost_label
from fleet.tui.screens.help import HelpScreen, keys_of
from fleet.tui.screens.prompt import PromptScreen
from fleet.tui.widgets.fields import FieldsPanel
from fleet.tui.widgets.lanes import Lanes
from fleet.tui.widgets.lines import LineList
from fleet.tui.widgets.style import host_colour

ROW_CACHE = 4096


def parse_time(text: str, first: int) -> int:
    """`123.456789` (seconds on the run's time line) or `+1.5` (seconds after the first event) -> ns."""
    text = text.strip()
    rel = text.startswith("+")
    try:
        secs = float(text[1:] if rel else text)
    except ValueError:
        raise UsageError(f"time {text!r}: give seconds like 1234.567890 or +1.5 (after the first event)") from None
    ns = int(round(secs * 1e9))
    return first + ns if rel else ns


class ViewerApp(App[None]):
    """Browse one run; every key is listed by `?`."""

    TITLE = "fleet view"
    BINDINGS = [
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("t", "jump", "jump to time"),
        Binding("slash", "search", "search", key_display="/"),
        Binding("n", "search_next(1)", "next match"),
        Binding("N", "search_next(-1)", "previous match"),
        Binding("f", "filter", "filter host:/event:/text"),
        Binding("F", "clear_filter", "clear filter"),
        Binding("m", "step('marker', 1)", "next marker"),
        Binding("M", "step('marker', -1)", "previous marker"),
        Binding("l", "step('lost', 1)", "next lost-events gap"),
        Binding("L", "step('lost', -1)", "previous lost-events gap"),
        Binding("d", "toggle_fields", "fields panel on/off"),
        Binding("q", "quit", "quit"),
    ]
    CSS = """
    #status { height: 1; background: $boost; padding: 0 1; }
    #main { height: 1fr; }
    #events { width: 1fr; }
    Lanes { border-bottom: solid $accent; }
    """

    def __init__(self, path: Path, index: Optional[RunIndex] = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.index = index or RunIndex(self.path)
        self.filter = Filter()
        self.kept: Optional[array] = None
        """Rows the filter keeps (ascending), or None: every row."""
        self.filter_done = True
        self.search_text = ""
        self.message = ""
        self._rows: OrderedDict[int, Row] = OrderedDict()
        self._host_index: Dict[str, int] = {h: i for i, h in enumerate(self.index.hosts)}
        self.counter = any(s.raw_counts for s in self.index.streams)
        # Kept, not queried: a query runs on the current screen, which is not this one under help or a prompt.
        self.status_bar = Static(id="status")
        self.lanes = Lanes(self.index.hosts, self.index.host_ts, self.counter, id="lanes")
        self.events = LineList(self._line, id="events")
        self.fields_panel = FieldsPanel(id="fields")

    # --- layout --------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield self.status_bar
        yield self.lanes
        with Horizontal(id="main"):
            yield self.events
            yield self.fields_panel
        yield Footer()

    def on_mount(self) -> None:
        self.events.focus()
        self.build_index()
        self.set_interval(0.2, self._poll_index)
        self._poll_index()

    @work(thread=True, exclusive=True, group="index")
    def build_index(self) -> None:
        self.index.build()

    def _poll_index(self) -> None:
        table = self.events
        n = len(self.index) if self.kept is None else len(self.kept)
        if n != table.count:
            table.set_count(n)
            if len(self.index):
                self.lanes.set_span(self.index.ts[0], self.index.ts[len(self.index) - 1])
            self._show_cursor()
        self._status()

    def on_unmount(self) -> None:
        self.index.close()

    # --- rows ----------------------------------------------------------------------------------------------
    @property
    def table(self) -> LineList:
        return self.events

    def row_of(self, n: int) -> int:
        """Merged row number of visible line n."""
        return n if self.kept is None else self.kept[n]

    def line_of(self, row: int) -> int:
        """The visible line of merged row `row`, or of the first kept row after it (the last line if none)."""
        if self.kept is None:
            return min(row, max(0, len(self.index) - 1))
        return min(bisect.bisect_left(self.kept, row), max(0, len(self.kept) - 1))

    def get_row(self, row: int) -> Row:
        hit = self._rows.get(row)
        if hit is not None:
            return hit
        # Decode the screenful around it in one pass from the checkpoint (rows close together share the work).
        start = row
        stop = row + max(1, self.table.size.height) + 1
        if self.kept is not None:
            n = self.line_of(row)
            wanted = set(self.kept[n : n + self.table.size.height + 1])
            stop = max(wanted, default=row) + 1
            if stop - start > 4 * CHECKPOINT:
                wanted, stop = {row}, row + 1
        else:
            wanted = set(range(start, stop))
        for r in self.index.iter_rows(start, stop):
            if r.row in wanted:
                self._rows[r.row] = r
        while len(self._rows) > ROW_CACHE:
            self._rows.popitem(last=False)
        return self._rows[row]

    def _line(self, n: int) -> Text:
        r = self.get_row(self.row_of(n))
        colour = host_colour(self._host_index.get(r.host, 0))
        out = Text(no_wrap=True, overflow="crop")
        if r.lost is not None:
            out.append(f"{lost_label(r.lost):>8} ", style="bold red")
        elif r.row in self._marker_set():
            out.append("  MARKER ", style="bold yellow")
        else:
            out.append(" " * 9)
        out.append(f"{r.time:>20} ")
        out.append(f"{r.host[:12]:<12} ", style=colour)
        out.append(f"[{r.cpu:03d}] {r.comm[:16]:>16}-{r.pid:<7} ")
        out.append(f"{r.name[:24]:<24} ", style="bold")
        out.append(r.body)
        return out

    def _marker_set(self) -> set:
        if getattr(self, "_markers_len", -1) != len(self.index.marker_rows):
            self._markers = set(self.index.marker_rows)
            self._markers_len = len(self.index.marker_rows)
        return self._markers

    def current_row(self) -> Optional[Row]:
        table = self.table
        if table.count == 0:
            return None
        return self.get_row(self.row_of(table.cursor))

    def on_line_list_moved(self, event: LineList.Moved) -> None:
        self._show_cursor()

    def _show_cursor(self) -> None:
        row = self.current_row()
        self.fields_panel.show(row)
        self.lanes.set_cursor(row.ts if row else None)
        self._status()

    def _status(self) -> None:
        idx = self.index
        total = len(idx)
        state = "" if idx.done else " (indexing…)"
        if idx.error:
            state = f" (index stopped: {idx.error})"
        shown = "" if self.kept is None else f"  shown {len(self.kept)}{'' if self.filter_done else '…'}"
        cursor = self.table.cursor + 1 if self.table.count else 0
        text = (
            f"{self.path.name}  hosts {len(idx.hosts)}  events {total}{state}{shown}  line {cursor}  "
            f"markers {len(idx.marker_rows)}  lost gaps {len(idx.lost_rows)}  filter {self.filter.describe()}"
        )
        if self.message:
            text += f"  | {self.message}"
        self.status_bar.update(Text(text, no_wrap=True, overflow="ellipsis"))

    def say(self, message: str) -> None:
        self.message = message
        self._status()

    def goto_row(self, row: int) -> None:
        self.table.follow = False
        self.table.cursor = self.line_of(row)

    # --- actions -------------------------------------------------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen("fleet view", keys_of(self.BINDINGS)))

    def action_toggle_fields(self) -> None:
        panel = self.fields_panel
        panel.display = not panel.display

    def action_jump(self) -> None:
        first = self.index.ts[0] if len(self.index) else 0

        def done(text: Optional[str]) -> None:
            if not text:
                return
            try:
                ts = parse_time(text, first)
            except UsageError as exc:
                self.say(str(exc))
                return
            self.goto_row(self.index.row_at_time(ts))
            self.say(f"jumped to {text.strip()}")

        self.push_screen(PromptScreen("jump to time:", "seconds (1234.5678) or +seconds after the first event"), done)

    def action_step(self, kind: str, direction: int) -> None:
        rows = self.index.marker_rows if kind == "marker" else self.index.lost_rows
        here = self.row_of(self.table.cursor) if self.table.count else 0
        candidates = rows
        if self.kept is not None:
            kept = set(self.kept)
            candidates = array("q", (r for r in rows if r in kept))
        if direction > 0:
            i = bisect.bisect_right(candidates, here)
            target = candidates[i] if i < len(candidates) else None
        else:
            i = bisect.bisect_left(candidates, here) - 1
            target = candidates[i] if i >= 0 else None
        what = "marker" if kind == "marker" else "lost-events gap"
        if target is None:
            self.say(f"no {'next' if direction > 0 else 'previous'} {what}")
            return
        self.goto_row(target)
        self.say(f"{what} {bisect.bisect_left(candidates, target) + 1}/{len(candidates)}")

    def action_search(self) -> None:
        def done(text: Optional[str]) -> None:
            if text:
                self.search_text = text
                self.action_search_next(1)

        self.push_screen(PromptScreen("search:", "text in host, comm, event or fields", self.search_text), done)

    def action_search_next(self, direction: int) -> None:
        if not self.search_text:
            self.say("no search yet: press / first")
            return
        if self.table.count == 0:
            return
        self.say(f"searching {self.search_text!r}…")
        self.search(self.search_text, self.row_of(self.table.cursor), direction)

    @work(thread=True, exclusive=True, group="search")
    def search(self, text: str, here: int, direction: int) -> None:
        needle = text.lower()
        cache = self.index.new_cache()
        kept = set(self.kept) if self.kept is not None else None
        found: Optional[int] = None
        try:
            if direction > 0:
                for r in self.index.iter_rows(here + 1, None, cache):
                    if (kept is None or r.row in kept) and needle in r.line().lower():
                        found = r.row
                        break
            else:
                hi = here
                while hi > 0 and found is None:
                    lo = max(0, hi - CHECKPOINT)
                    hits = [
                        r.row
                        for r in self.index.iter_rows(lo, hi, cache)
                        if (kept is None or r.row in kept) and needle in r.line().lower()
                    ]
                    found = hits[-1] if hits else None
                    hi = lo
        finally:
            cache.close()
        self.call_from_thread(self._search_done, text, found)

    def _search_done(self, text: str, found: Optional[int]) -> None:
        if found is None:
            self.say(f"{text!r} not found")
        else:
            self.goto_row(found)
            self.say(f"{text!r} at event {found + 1}")

    def action_filter(self) -> None:
        def done(text: Optional[str]) -> None:
            if text is None:
                return
            try:
                flt = Filter.parse(text)
            except UsageError as exc:
                self.say(str(exc))
                return
            self.apply_filter(flt)

        hint = "host:GLOB event:GLOB words (e.g. host:h1,h2 event:sched_* kworker)"
        current = "" if self.filter.empty else self.filter.describe().replace("'", "")
        self.push_screen(PromptScreen("filter:", hint, current), done)

    def action_clear_filter(self) -> None:
        self.apply_filter(Filter())

    def apply_filter(self, flt: Filter) -> None:
        here = self.row_of(self.table.cursor) if self.table.count else 0
        self.filter = flt
        self._rows.clear()
        if flt.empty:
            self.kept = None
            self.filter_done = True
            self.table.set_count(len(self.index))
            self.goto_row(here)
            self.say("filter cleared")
            return
        self.kept = array("q")
        self.filter_done = False
        self.table.set_count(0)
        self.run_filter(flt, self.kept, here)

    @work(thread=True, exclusive=True, group="filter")
    def run_filter(self, flt: Filter, out: array, here: int) -> None:
        idx = self.index
        keys_ok = [flt.host_ok(idx.hosts[i]) for i, _cpu in idx.keys]
        ev_ok: Dict[Tuple[int, int], bool] = {}
        cache = idx.new_cache() if flt.text else None
        row = 0
        import time

        try:
            while not (idx.done and row >= len(idx)):
                end = len(idx)
                if row >= end:
                    time.sleep(0.05)
                    continue
                if cache is None:
                    for r in range(row, end):
                        k = idx.key[r]
                        if keys_ok[k] and self._event_ok(flt, ev_ok, r):
                            out.append(r)
                else:
                    for dec in idx.iter_rows(row, end, cache):
                        k = idx.key[dec.row]
                        if keys_ok[k] and self._event_ok(flt, ev_ok, dec.row) and flt.text_ok(dec.line()):
                            out.append(dec.row)
                row = end
                if out is not self.kept:
                    return  # a newer filter replaced this one
        finally:
            if cache is not None:
                cache.close()
        self.call_from_thread(self._filter_done, out, here)

    def _event_ok(self, flt: Filter, cache: Dict[Tuple[int, int], bool], row: int) -> bool:
        if not flt.events:
            return True
        idx = self.index
        evid = idx.evid[row]
        if evid == NO_EVENT:
            return False
        i = idx.keys[idx.key[row]][0]
        hit = cache.get((i, evid))
        if hit is None:
            fmt = idx.decoders[i].event_format(evid)
            hit = cache[(i, evid)] = fmt is not None and flt.event_ok(fmt.system, fmt.name)
        return hit

    def _filter_done(self, out: array, here: int) -> None:
        if out is not self.kept:
            return
        self.filter_done = True
        self.table.set_count(len(out))
        self.goto_row(here)
        self._show_cursor()
        self.say(f"filter {self.filter.describe()}: {len(out)} events")


def run_viewer(path: Path) -> int:
    """Open the viewer on a run directory; returns when the user quits."""
    try:
        index = RunIndex(Path(path))
    except FleetError:
        raise
    ViewerApp(Path(path), index).run()
    return 0


__all__: List[str] = ["ViewerApp", "parse_time", "run_viewer"]
