"""The side panel: every decoded field of the event under the cursor, common fields first."""

from __future__ import annotations

from typing import Optional

from rich.text import Text
from textual.widgets import Static

from fleet.tui.run_index import Row, lost_label


def _value(v: object) -> str:
    if isinstance(v, (bytes, bytearray)):
        text = bytes(v).split(b"\0", 1)[0]
        return text.decode("utf-8", "replace") if text.isascii() else bytes(v).hex()
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 0xFFFF:
        return f"{v} ({v:#x})"
    return str(v)


def fields_text(row: Optional[Row]) -> Text:
    out = Text(no_wrap=False)
    if row is None:
        out.append("no event", style="dim")
        return out
    out.append(f"{row.name}\n", style="bold")
    head = [("host", row.host), ("cpu", str(row.cpu)), ("time", row.time), ("row", str(row.row))]
    if row.event is not None:
        head += [("system", row.event.system), ("comm", row.comm), ("pid", str(row.pid))]
    if row.lost is not None:
        head.append(("lost", lost_label(row.lost) + " before this event"))
    for k, v in head:
        out.append(f"{k:>9} ", style="dim")
        out.append(v + "\n", style="red" if k == "lost" else "")
    if row.event is not None:
        out.append("fields\n", style="bold")
        for name, value in row.event.fields().items():
            out.append(f"{name:>22} ", style="dim")
            out.append(_value(value) + "\n")
    return out


class FieldsPanel(Static):
    DEFAULT_CSS = "FieldsPanel { width: 48; border-left: solid $accent; padding: 0 1; overflow-y: auto; }"

    def show(self, row: Optional[Row]) -> None:
        self.update(fields_text(row))
