"""Ansible host ranges in inventory names: `board[1:3]`, `www[01:10]` (zero-padded), `db-[a:c]`, `n[0:10:5]`."""

from __future__ import annotations

import re
import string
from typing import List

from fleet.errors import InventoryError

RANGE_RE = re.compile(r"\[([^\]]*)\]")


def expand_hosts(name: str) -> List[str]:
    """The host names `name` stands for: itself, or one per value of its first [start:end(:step)], recursively."""
    m = RANGE_RE.search(name)
    if m is None or ":" not in m.group(1):
        return [name]
    parts = m.group(1).split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise InventoryError(f"host range {name!r}: write [start:end] or [start:end:step]")
    start, end = parts[0], parts[1]
    step = _int(parts[2], name) if len(parts) == 3 and parts[2] else 1
    if step <= 0:
        raise InventoryError(f"host range {name!r}: the step must be positive")
    head, tail = name[: m.start()], name[m.end() :]
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") and len(start) > 1 else 0
        values = [str(i).zfill(width) for i in range(int(start), int(end) + 1, step)]
    elif len(start) == 1 and len(end) == 1 and start in string.ascii_letters and end in string.ascii_letters:
        values = [chr(c) for c in range(ord(start), ord(end) + 1, step)]
    else:
        raise InventoryError(f"host range {name!r}: both ends must be numbers or single letters")
    if not values:
        raise InventoryError(f"host range {name!r} is empty (start after end)")
    out: List[str] = []
    for value in values:
        out.extend(expand_hosts(head + value + tail))
    return out


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise InventoryError(f"host range {name!r}: {text!r} is not a number") from exc
