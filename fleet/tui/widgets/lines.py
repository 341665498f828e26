"""A virtualised list: only the lines on screen are produced (by a callback), so it scrolls over millions."""

from __future__ import annotations

from typing import Callable, Optional

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

CURSOR = Style(reverse=True)


class LineList(ScrollView, can_focus=True):
    """Lines 0..count-1 from `provider(n)`; a cursor row; emits Moved when the cursor changes."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "up", show=False),
        Binding("down,j", "cursor(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown,space", "page(1)", "page down", show=False),
        Binding("home,g", "first", "first", show=False),
        Binding("end,G", "last", "last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Moved(Message):
        def __init__(self, lines: LineList, cursor: int) -> None:
            super().__init__()
            self.lines = lines
            self.cursor = cursor

    def __init__(
        self,
        provider: Callable[[int], Text],
        count: int = 0,
        *,
        id: Optional[str] = None,
        classes: Optional[str] = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.provider = provider
        self.count = count
        self.width = 200
        self.follow = False
        """Keep the cursor on the last line as lines are added (a live tail)."""

    # --- content -------------------------------------------------------------------------------------------
    def set_count(self, count: int) -> None:
        """The number of lines changed (new rows indexed, a filter applied); repaints what is visible."""
        self.count = count
        self.virtual_size = Size(self.width, count)
        if self.follow and count:
            self.cursor = count - 1
        elif self.cursor >= count:
            self.cursor = max(0, count - 1)
        self.refresh()

    def watch_cursor(self, old: int, new: int) -> None:
        if self.count == 0:
            return
        clamped = max(0, min(new, self.count - 1))
        if clamped != new:
            self.cursor = clamped
            return
        self._scroll_to_cursor()
        # Again once the layout caught up: a virtual size set in the same tick is not yet scrollable to.
        self.call_after_refresh(self._scroll_to_cursor)
        self.refresh()
        self.post_message(self.Moved(self, new))

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_offset.y)
        height = max(1, self.scrollable_content_region.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def render_line(self, y: int) -> Strip:
        n = int(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        if n >= self.count:
            return Strip.blank(width, self.rich_style)
        text = self.provider(n)
        segments = list(text.render(self.app.console))
        strip = Strip([s for s in segments if s.text != "\n"]).crop(int(self.scroll_offset.x), None)
        strip = strip.extend_cell_length(width).crop(0, width)
        if n == self.cursor and self.has_focus_within_app():
            strip = Strip([Segment(s.text, (s.style or Style()) + CURSOR) for s in strip])
        return strip.apply_style(self.rich_style)

    def has_focus_within_app(self) -> bool:
        return self.has_focus or not self.app.focused or not isinstance(self.app.focused, LineList)

    # --- actions ------------------------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.follow = False
        self.cursor = self.cursor + delta

    def action_page(self, direction: int) -> None:
        self.follow = False
        self.cursor = self.cursor + direction * max(1, self.scrollable_content_region.height - 1)

    def action_first(self) -> None:
        self.follow = False
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = max(0, self.count - 1)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
