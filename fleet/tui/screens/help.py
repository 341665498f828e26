"""The help screen: every key of the current app, from its bindings, so it cannot drift from what keys do."""

from __future__ import annotations

from typing import Any, List, Sequence, Tuple

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

NAV_KEYS: List[Tuple[str, str]] = [
    ("up / k, down / j", "previous / next line"),
    ("pageup, pagedown / space", "previous / next page"),
    ("home / g, end / G", "first / last line"),
]


class HelpScreen(ModalScreen[None]):
    """Lists `keys` (key, what it does); any of escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "close help")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 80; height: auto; max-height: 90%; border: round $accent; padding: 0 1;
                                  background: $surface; }
    """

    def __init__(self, title: str, keys: List[Tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        width = max(len(k) for k, _ in self.keys + NAV_KEYS)
        lines = [f"[b]{self.title_text}[/b] — keys", ""]
        lines += [f"[b]{k.ljust(width)}[/b]  {what}" for k, what in self.keys + NAV_KEYS]
        lines += ["", "escape, q or ? closes this help"]
        with VerticalScroll():
            yield Static("\n".join(lines), id="help-text", markup=True)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


def keys_of(bindings: Sequence[Any]) -> List[Tuple[str, str]]:
    """(key names, description) for every Binding that has a description."""
    out = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            out.append((b.key_display or b.key.replace("question_mark", "?").replace("slash", "/"), b.description))
    return out
