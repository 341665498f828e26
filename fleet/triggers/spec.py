"""What `fleet trace --stop-all-on/--stop-all-above/--keep/--flight-recorder` asks for, and the kernel triggers
that implement it on the trigger hosts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional

from fleet.errors import UsageError

# Regex pieces the kernel's glob filter (`~`) can express: literal text, `.` -> `?`, `.*` -> `*`, anchors.
_GLOB_SPECIAL = set("*?[]")
_REGEX_SPECIAL = set("\\+(){}|^$[]?*.")


@dataclass
class StopSpec:
    """Stop every host when `event` (with `match`/`filter`) fires on one of `hosts`, or a latency tracer's new
    maximum reaches `above_us`; keep `keep` seconds before the trigger; `flight_recorder` defers all reading."""

    event: Optional[str] = None
    match: Optional[str] = None
    filter: Optional[str] = None
    hosts: Optional[str] = None
    above_us: Optional[int] = None
    keep: Optional[float] = None
    flight_recorder: bool = False

    @property
    def active(self) -> bool:
        return self.event is not None or self.above_us is not None


def event_path(event: str) -> str:
    """'print' -> 'ftrace:print'; 'sys:event' stays; a bare name other than print is ambiguous."""
    if ":" in event:
        return event
    if event in ("print", "raw_data"):
        return f"ftrace:{event}"
    raise UsageError(f"--stop-all-on {event!r}: name the system too (e.g. sched:{event})")


def regex_to_glob(regex: str) -> str:
    """The kernel filter glob for `regex` (matched anywhere in the text), for the regexes a glob can express."""
    body = regex
    head = "" if body.startswith("^") else "*"
    tail = "" if body.endswith("$") and not body.endswith("\\$") else "*"
    body = body[1:] if not head else body
    body = body[:-1] if not tail else body
    out: List[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] not in "dwsDWSbB":
            lit = body[i + 1]
            if lit in _GLOB_SPECIAL or lit == '"':
                raise UsageError(f"--stop-match {regex!r}: the kernel's glob filter cannot match {lit!r} literally")
            out.append(lit)
            i += 2
            continue
        if body.startswith(".*", i):
            out.append("*")
            i += 2
            continue
        if c == ".":
            out.append("?")
        elif c in _REGEX_SPECIAL or c == '"':
            raise UsageError(
                f"--stop-match {regex!r}: the kernel filters with globs, so use literal text with . .* ^ $ only"
            )
        else:
            out.append(c)
        i += 1
    glob = head + "".join(out) + tail
    # The kernel appends "\n" to markers written without one: a trailing anchor must allow it.
    if not tail:
        glob += "*"
    return glob


def kernel_triggers(spec: StopSpec) -> List[str]:
    """The agent config `triggers` entries for a trigger host: `sys:event:traceoff [if FILTER]`."""
    if spec.event is None:
        return []
    path = event_path(spec.event)
    conditions = []
    if spec.match is not None:
        if path not in ("ftrace:print",):
            raise UsageError("--stop-match works on print events (markers); use --stop-filter for other events")
        conditions.append(f'buf ~ "{regex_to_glob(spec.match)}"')
    if spec.filter:
        conditions.append(f"({spec.filter})" if spec.match is not None else spec.filter)
    trigger = "traceoff"
    if conditions:
        trigger += " if " + " && ".join(conditions)
    return [f"{path}:{trigger}"]


def check_regex(regex: Optional[str]) -> None:
    if regex is None:
        return
    try:
        re.compile(regex)
    except re.error as exc:
        raise UsageError(f"--stop-match {regex!r}: {exc}") from None
