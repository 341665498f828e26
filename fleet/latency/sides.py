"""One side (`from` or `to`) of a study: which events on which hosts qualify, and the key each one carries."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from fleet.errors import UsageError
from fleet.ftrace.events import Decoder, Event
from fleet.latency.filters import Predicate, compile_filter


@dataclass
class Side:
    """EVENT (`sys:event`, `event`, globs allowed) on `hosts`, with an optional field filter and key."""

    event: str
    hosts: List[str] = field(default_factory=list)
    filter: Optional[str] = None
    key_field: Optional[str] = None
    """Name of the event field whose value is the key."""
    match: Optional[str] = None
    """Regex on the event's text (a marker's own text for `print`); its first group is the key."""

    def describe(self) -> str:
        text = self.event
        if self.match:
            text += f" ~ /{self.match}/"
        if self.key_field:
            text += f" key {self.key_field}"
        if self.filter:
            text += f" if {self.filter}"
        return f"{text} on {', '.join(self.hosts)}"


class SideMatcher:
    """A Side compiled once: event ids per decoder, the filter predicate, the key regex."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.hosts: Set[str] = set(side.hosts)
        self.pred: Optional[Predicate] = compile_filter(side.filter) if side.filter else None
        try:
            self.regex = re.compile(side.match) if side.match else None
        except re.error as exc:
            raise UsageError(f"bad regular expression {side.match!r}: {exc}") from None
        self._buf_offset: Dict[int, int] = {}
        # Markers are matched as bytes (no decode per event) when the pattern is plain ASCII.
        self.bregex = re.compile(side.match.encode()) if side.match and side.match.isascii() else None

    def ids(self, decoder: Decoder) -> Set[int]:
        """Ids of the events this side names, among the formats of one host's metadata."""
        glob = self.side.event
        out: Set[int] = set()
        for f in decoder.formats():
            if fnmatch.fnmatchcase(f.name, glob) or fnmatch.fnmatchcase(f"{f.system}:{f.name}", glob):
                out.add(f.id)
                if f.system == "ftrace" and f.name == "print":
                    buf = f.field("buf")
                    if buf is not None:
                        self._buf_offset[f.id] = buf.offset
        return out

    def text(self, event: Event) -> str:
        off = self._buf_offset.get(event.id)
        if off is not None:  # a marker: its own text, not the `tracing_mark_write: ` prefix of the rendering
            return event.data[off:].split(b"\0", 1)[0].decode("utf-8", "replace").rstrip("\n")
        return event.text()

    def key(self, event: Event) -> Optional[str]:
        """The event's key, or None when the event does not qualify (filter false, regex no match, no field)."""
        fields = None
        if self.pred is not None:
            fields = event.fields()
            if not self.pred(fields):
                return None
        key = ""
        if self.regex is not None:
            off = self._buf_offset.get(event.id)
            if off is not None and self.bregex is not None:
                data = event.data
                end = data.find(b"\0", off)
                bm = self.bregex.search(data, off, len(data) if end < 0 else end)
                if bm is None:
                    return None
                key = bm.group(1).decode("utf-8", "replace") if self.bregex.groups else ""
            else:
                m = self.regex.search(self.text(event))
                if m is None:
                    return None
                key = m.group(1) if self.regex.groups else ""
        if self.side.key_field:
            fields = fields if fields is not None else event.fields()
            value = fields.get(self.side.key_field)
            if value is None:
                return None
            text = value.hex() if isinstance(value, bytes) else str(value).rstrip("\n")
            key = text if not self.regex else f"{key}/{text}"
        return key
