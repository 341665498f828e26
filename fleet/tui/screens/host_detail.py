"""One host in depth: state and cause, clock, per-CPU event counts and rates, its configuration, its errors."""

from __future__ import annotations

from typing import Callable, Dict, Optional

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from fleet.tui.dashboard_model import HostRow
from fleet.tui.widgets.style import duration_ns, human_bytes, si, sparkline


def detail_text(row: HostRow, cpu_rates: Dict[int, float]) -> Text:
    s = row.status
    out = Text()
    out.append(f"{s.host}\n", style="bold")
    state_style = "bold red" if s.state in ("error", "lost link") else "bold"
    pairs = [
        ("state", s.state + (f": {s.detail}" if s.detail else "")),
        ("kernel", s.kernel or "-"),
        ("trace clock", s.trace_clock or "-"),
        ("offset", f"{duration_ns(s.offset_ns)} ± {duration_ns(s.uncertainty_ns)}"),
        ("events", f"{s.events}  ({si(row.rate)}/s)  {sparkline(row.rates, 40)}"),
        ("bytes", human_bytes(s.bytes)),
        ("lost", str(s.lost)),
        ("max latency", "-" if s.max_latency_us is None else f"{s.max_latency_us:.0f}us"),
    ]
    for k, v in pairs:
        out.append(f"{k:>12}  ", style="dim")
        out.append(v + "\n", style=state_style if k == "state" else "")
    out.append("\nper CPU\n", style="bold")
    out.append(f"{'CPU':>6} {'EVENTS':>12} {'EVENTS/S':>10}\n", style="dim")
    for cpu in sorted(s.per_cpu_events):
        out.append(f"{cpu:>6} {s.per_cpu_events[cpu]:>12} {si(cpu_rates.get(cpu, 0.0)):>10}\n")
    if not s.per_cpu_events:
        out.append("  (no data yet)\n", style="dim")
    out.append("\nconfiguration\n", style="bold")
    for k, v in sorted(s.config.items()):
        out.append(f"{k:>16}  ", style="dim")
        out.append(f"{v}\n")
    if not s.config:
        out.append("  (not configured yet)\n", style="dim")
    out.append("\nerrors\n", style="bold")
    for e in s.errors:
        out.append(f"  {e}\n", style="red")
    if not s.errors:
        out.append("  none\n", style="dim")
    return out


class HostDetailScreen(Screen[None]):
    """Refreshes from `get_row` on every dashboard tick; escape goes back."""

    BINDINGS = [Binding("escape,q,backspace", "back", "back to the fleet")]

    def __init__(self, host: str, get_row: Callable[[str], Optional[HostRow]]) -> None:
        super().__init__()
        self.host = host
        self.get_row = get_row
        self._last: Dict[int, int] = {}
        self._rates: Dict[int, float] = {}
        self._at: Optional[float] = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_detail()

    def refresh_detail(self, now: Optional[float] = None) -> None:
        row = self.get_row(self.host)
        if row is None:
            self.query_one("#detail", Static).update(f"{self.host}: no longer in the fleet")
            return
        if now is not None and self._at is not None and now > self._at:
            for cpu, n in row.status.per_cpu_events.items():
                self._rates[cpu] = max(0.0, (n - self._last.get(cpu, n)) / (now - self._at))
        if now is not None:
            self._at = now
            self._last = dict(row.status.per_cpu_events)
        self.query_one("#detail", Static).update(detail_text(row, self._rates))

    def action_back(self) -> None:
        self.app.pop_screen()
