"""Host patterns: what `--hosts` and `fleet hosts` accept.

A pattern is a comma list of terms; `!term` removes hosts, `&term` keeps only hosts also in term. A term is
  - a host or group name, or a glob over host and group names (`board*`, `rack[12]`), or `~REGEX`;
  - a path: `/`-separated segments matched against the group chains leading to each host (`lab/rack1/board3`),
    anchored at any group: `lab/*` = hosts directly in lab, `rack1/*` = hosts directly in rack1, `*/board3` =
    board3 in any group, `lab/**` = every host below lab (`**` spans any number of groups).
In a segment, `*` and `?` are globs, `[1-3]` or `[1:3]` is a numeric range (board1..board3, also board03),
and other `[...]` a character class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

from fleet.errors import InventoryError

NUMERIC_RANGE_RE = re.compile(r"^(\d+)[-:](\d+)$")


@dataclass(frozen=True)
class Term:
    """One element of a comma list: its text without the operator, and the operator ("", "!" or "&")."""

    text: str
    op: str


def split_pattern(pattern: str) -> List[Term]:
    terms = []
    for raw in pattern.split(","):
        text = raw.strip()
        if not text:
            continue
        op = text[0] if text[0] in "!&" else ""
        text = text[len(op) :].strip()
        if not text:
            raise InventoryError(f"host pattern {pattern!r}: {op!r} must be followed by a pattern")
        terms.append(Term(text, op))
    if not terms:
        raise InventoryError("empty host pattern (try 'all' or a group name)")
    if all(t.op for t in terms):
        terms.insert(0, Term("all", ""))  # "!h3" alone means all hosts but h3, as in Ansible
    return terms


def is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


class SegmentMatcher:
    """Matches one path segment (a group or host name) against a glob with numeric ranges."""

    def __init__(self, glob: str) -> None:
        self.glob = glob
        self.ranges: List[Tuple[int, int]] = []
        self.regex = re.compile(self._translate(glob) + r"\Z")

    def _translate(self, glob: str) -> str:
        out, i = [], 0
        while i < len(glob):
            c = glob[i]
            if c == "*":
                out.append(".*")
            elif c == "?":
                out.append(".")
            elif c == "[" and "]" in glob[i + 1 :]:
                end = glob.index("]", i + 1)
                inner = glob[i + 1 : end]
                m = NUMERIC_RANGE_RE.match(inner)
                if m:
                    self.ranges.append((int(m.group(1)), int(m.group(2))))
                    # Take the whole number (board13 is not in board[1-3]) unless the glob itself puts a digit
                    # before it (board0[4:5] matches board04).
                    guard = "" if i > 0 and glob[i - 1].isdigit() else r"(?<!\d)"
                    out.append(rf"{guard}(?P<n{len(self.ranges)}>\d+)(?!\d)")
                else:
                    negate = inner.startswith("!")
                    body = inner[1:] if negate else inner
                    out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
                i = end
            else:
                out.append(re.escape(c))
            i += 1
        return "".join(out)

    def __call__(self, name: str) -> bool:
        m = self.regex.match(name)
        if not m:
            return False
        for k, (low, high) in enumerate(self.ranges, 1):
            if not low <= int(m.group(f"n{k}")) <= high:
                return False
        return True


def name_matcher(text: str) -> Callable[[str], bool]:
    """Matcher of a term without `/` against a single host or group name."""
    if text.startswith("~"):
        try:
            regex = re.compile(text[1:])
        except re.error as exc:
            raise InventoryError(f"host pattern {text!r}: bad regular expression: {exc}") from exc
        return lambda name: regex.search(name) is not None
    if is_glob(text):
        return SegmentMatcher(text)
    return lambda name: name == text


def path_matcher(text: str) -> Callable[[Sequence[str]], bool]:
    """Matcher of a `/` term against one host path (its segments, `all` first, the host last)."""
    parts = text.split("/")
    if any(p == "" for p in parts):
        raise InventoryError(f"host pattern {text!r}: empty segment (write lab/*, not lab//* or /lab)")
    if parts[-1] == "**":
        parts.append("*")  # `lab/**`: every host below lab, at any depth
    segments: List[Optional[SegmentMatcher]] = [None if p == "**" else SegmentMatcher(p) for p in parts]

    def match_from(path: Sequence[str], si: int, pi: int) -> bool:
        if si == len(segments):
            return pi == len(path)
        seg = segments[si]
        if seg is None:  # `**`: zero or more groups; the segments after it still have to reach the host
            return any(match_from(path, si + 1, k) for k in range(pi, len(path)))
        return pi < len(path) and seg(path[pi]) and match_from(path, si + 1, pi + 1)

    def matches(path: Sequence[str]) -> bool:
        return any(match_from(path, 0, start) for start in range(len(path)))

    return matches
