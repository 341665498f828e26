"""The filter both views understand: `host:GLOB event:GLOB words` (each part optional, globs comma-separated,
words matched case-insensitively as one substring of the event's line)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import List

from fleet.errors import UsageError


@dataclass
class Filter:
    hosts: List[str] = field(default_factory=list)
    events: List[str] = field(default_factory=list)
    """Globs against `name` or `system:name`."""
    text: str = ""

    @classmethod
    def parse(cls, spec: str) -> Filter:
        out = cls()
        words = []
        for token in spec.split():
            key, sep, value = token.partition(":")
            if sep and key in ("host", "h") and value:
                out.hosts += [v for v in value.split(",") if v]
            elif sep and key in ("event", "e") and value:
                out.events += [v for v in value.split(",") if v]
            elif sep and key in ("host", "h", "event", "e"):
                raise UsageError(f"filter {token!r}: give a glob after the colon, e.g. {key}:sched_*")
            else:
                words.append(token)
        out.text = " ".join(words).lower()
        return out

    @property
    def empty(self) -> bool:
        return not (self.hosts or self.events or self.text)

    def host_ok(self, host: str) -> bool:
        return not self.hosts or any(fnmatch.fnmatchcase(host, g) for g in self.hosts)

    def event_ok(self, system: str, name: str) -> bool:
        if not self.events:
            return True
        full = f"{system}:{name}"
        return any(fnmatch.fnmatchcase(name, g) or fnmatch.fnmatchcase(full, g) for g in self.events)

    def text_ok(self, line: str) -> bool:
        return not self.text or self.text in line.lower()

    def describe(self) -> str:
        parts = []
        if self.hosts:
            parts.append("host:" + ",".join(self.hosts))
        if self.events:
            parts.append("event:" + ",".join(self.events))
        if self.text:
            parts.append(repr(self.text))
        return " ".join(parts) or "none"
