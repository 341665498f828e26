"""A one-line prompt (jump to time, search, filter, marker text): enter returns the text, escape cancels."""

from __future__ import annotations

from typing import Optional

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[Optional[str]]):
    """Asks for one line; dismisses with the text (enter) or None (escape)."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]
    DEFAULT_CSS = """
    PromptScreen { align: center bottom; }
    PromptScreen > Vertical { width: 100%; height: auto; background: $surface; border-top: solid $accent; }
    PromptScreen Static { padding: 0 1; color: $text-muted; }
    """

    def __init__(self, label: str, hint: str = "", value: str = "") -> None:
        super().__init__()
        self.label = label
        self.hint = hint
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"{self.label}  {self.hint}".rstrip(), id="prompt-label", markup=False)
            yield Input(value=self.value, id="prompt-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
