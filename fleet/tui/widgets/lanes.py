"""Per-host lanes on the run's time axis: event density per column, the cursor's time marked on every lane."""

from __future__ import annotations

import bisect
from array import array
from typing import Any, List, Optional

from rich.text import Text
from textual.widget import Widget

from fleet.ftrace.render import format_ts
from fleet.tui.widgets.style import BARS, host_colour

MAX_LANES = 8


def density(ts: array, lo: int, hi: int, bins: int) -> List[int]:
    """Events of an ascending timestamp array in each of `bins` equal slices of [lo, hi]."""
    if bins <= 0:
        return []
    span = max(1, hi - lo)
    edges = [lo + span * b // bins for b in range(bins + 1)]
    edges[-1] = hi + 1
    cuts = [bisect.bisect_left(ts, e) for e in edges]
    return [cuts[b + 1] - cuts[b] for b in range(bins)]


class Lanes(Widget):
    """One line per host (up to MAX_LANES), then a time-axis line with the run's first and last time."""

    DEFAULT_CSS = "Lanes { height: auto; max-height: 10; }"

    def __init__(self, hosts: List[str], host_ts: List[array], counter: bool = False, id: Optional[str] = None):
        super().__init__(id=id)
        self.hosts = hosts
        self.host_ts = host_ts
        self.counter = counter
        self.lo = 0
        self.hi = 0
        self.cursor_ts: Optional[int] = None

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return min(len(self.hosts), MAX_LANES) + (1 if len(self.hosts) > MAX_LANES else 0) + 1

    def set_span(self, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi
        self.refresh()

    def set_cursor(self, ts: Optional[int]) -> None:
        self.cursor_ts = ts
        self.refresh()

    def render(self) -> Text:
        label = min(16, max((len(h) for h in self.hosts), default=4))
        bins = max(1, self.size.width - label - 1)
        col: Optional[int] = None
        if self.cursor_ts is not None and self.hi > self.lo:
            col = min(bins - 1, max(0, (self.cursor_ts - self.lo) * bins // (self.hi - self.lo + 1)))
        out = Text(no_wrap=True, overflow="crop")
        for i, host in enumerate(self.hosts[:MAX_LANES]):
            counts = density(self.host_ts[i], self.lo, self.hi, bins)
            top = max(counts, default=0)
            out.append(host[:label].ljust(label) + " ", style=f"bold {host_colour(i)}")
            for c, n in enumerate(counts):
                ch = BARS[max(1, (n * 8 + top - 1) // top)] if n and top else "·"
                out.append(ch, style=("reverse " if c == col else "") + host_colour(i))
            out.append("\n")
        if len(self.hosts) > MAX_LANES:
            out.append(f"(+{len(self.hosts) - MAX_LANES} more hosts: filter with f host:NAME)\n", style="dim")
        left = format_ts(self.lo, ns=True, counter=self.counter).strip()
        right = format_ts(self.hi, ns=True, counter=self.counter).strip()
        axis = left + " " * max(1, bins - len(left) - len(right)) + right
        out.append(" " * (label + 1) + axis, style="dim")
        return out
