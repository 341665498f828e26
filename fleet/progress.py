"""Plain progress lines for `fleet trace` when there is no TUI (--no-tui, or stdout is not a terminal)."""

from __future__ import annotations

import sys
import time
from typing import Optional, Protocol, TextIO


class Progress(Protocol):
    """Where a trace reports: per-host state changes, and run-wide lines (plain text, or the dashboard)."""

    def __call__(self, host: str, state: str, detail: str = "") -> None: ...

    def line(self, message: str) -> None: ...


class PlainProgress:
    """One line per host state change: `[  0.21s] h1: tracing`, errors with their cause."""

    def __init__(self, stream: Optional[TextIO] = None) -> None:
        self.stream = stream or sys.stdout
        self.t0 = time.monotonic()
        self.width = 8

    def __call__(self, host: str, state: str, detail: str = "") -> None:
        self.width = max(self.width, len(host))
        elapsed = time.monotonic() - self.t0
        text = f"[{elapsed:7.2f}s] {host.ljust(self.width)}  {state}"
        if detail:
            text += f": {detail}"
        print(text, file=self.stream, flush=True)

    def line(self, message: str) -> None:
        """A run-wide message (not about one host)."""
        elapsed = time.monotonic() - self.t0
        print(f"[{elapsed:7.2f}s] {message}", file=self.stream, flush=True)
