"""Line-by-line comparison of `fleet report --ns` with `trace-cmd report -N -t`, with every known difference named."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import List, Tuple

EVENT_LINE = re.compile(r"^\S.*\[\d{3}\]\s*\d+(\.\d+)?:|^CPU:\d+ \[")
DROPPED = re.compile(r"^CPU:(\d+) \[(?:(\d+) )?EVENTS DROPPED\]$")

# Patterns of lines where fleet and trace-cmd legitimately differ, with the reason. A differing pair matches when
# trace-cmd's line matches the pattern.
KNOWN: List[Tuple[str, str]] = [
    (
        r": \[FAILED TO PARSE\] ",
        "trace-cmd 3.1.6's libtraceevent cannot parse this event's print fmt (e.g. maple_tree ma_write/ma_read/ma_op "
        "on 6.18) and dumps raw fields; fleet renders the print fmt as the kernel does. Cause: those print fmts hold "
        "a literal TAB and libtraceevent's __read_token ends a quoted string at the first non-printable character",
    ),
    (
        r"timer_start: .* flags=(M\|)?D\|P\|I$",
        "libtraceevent regroups `REC->flags & (M|D|P|I)` as `(REC->flags & M)|D|P|I` (event-parse.c process_op "
        "rotates a lower-priority right operand even when parenthesised), so every timer shows D|P|I; the kernel's "
        "own trace file prints the masked flags (flags= / flags=D / flags=I), as fleet does",
    ),
    (
        r"sock_recv_length: .* length = -\d+, error = 0,",
        "libtraceevent mis-evaluates `!(REC->flags & 2) ? (REC->ret > 0 ? REC->ret : 0) : 0, REC->ret < 0 ? REC->ret "
        ": 0` for a negative ret (prints it as length, error 0); by C semantics, as the kernel prints, length = 0 and "
        "error = ret, as fleet does",
    ),
    (
        r"writeback_(single_inode(_start)?|dirty_inode\w*|sb_inodes_requeue|write_inode\w*): .* age=\d+ ",
        "the print fmt reads the kernel global `jiffies` (`(jiffies - REC->dirtied_when) / HZ`), which no record "
        "holds: only the kernel can print the real age. Both tools take jiffies as 0; trace-cmd then wraps the "
        "subtraction as unsigned, fleet keeps it signed (a negative age shows that jiffies was unknown)",
    ),
]


def collapse(line: str) -> str:
    return " ".join(line.split())


def event_lines(text: str) -> List[str]:
    """Event and loss lines with runs of spaces collapsed; trace-cmd's DROPPED wording becomes ftrace's LOST."""
    out = []
    for raw in text.splitlines():
        line = collapse(raw)
        m = DROPPED.match(line)
        if m:
            line = f"CPU:{m.group(1)} [LOST {m.group(2)} EVENTS]" if m.group(2) else f"CPU:{m.group(1)} [LOST EVENTS]"
        if EVENT_LINE.match(line):
            out.append(line)
    return out


@dataclass
class Comparison:
    """`same` counts identical lines plus differences explained by KNOWN (they do not count against the ratio)."""

    total: int
    same: int
    unexplained: List[Tuple[str, str]] = field(default_factory=list)
    explained: List[Tuple[str, str, str]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.same / max(self.total, 1)


def compare(expected: List[str], got: List[str]) -> Comparison:
    """Lines identical as a multiset (as /work/shared/tools/oracle_check.py counts them), then the first lines out of
    order; leftovers of each side are paired in order for the report, missing or extra ones against "<missing>"."""
    common = Counter(expected) & Counter(got)
    result = Comparison(total=max(len(expected), len(got)), same=sum(common.values()))
    if result.same == len(expected) == len(got) and expected != got:
        first = next(i for i, (a, b) in enumerate(zip(expected, got)) if a != b)
        result.same -= 1
        result.unexplained.append((expected[first], "(out of order) " + got[first]))
    left_want = list((Counter(expected) - common).elements())
    left_have = list((Counter(got) - common).elements())
    order = {line: i for i, line in enumerate(expected)}
    left_want.sort(key=lambda line: order.get(line, 0))
    for i in range(max(len(left_want), len(left_have))):
        want = left_want[i] if i < len(left_want) else "<missing>"
        have = left_have[i] if i < len(left_have) else "<missing>"
        reason = next((why for pattern, why in KNOWN if re.search(pattern, want)), None)
        if reason:
            result.explained.append((want, have, reason))
            result.same += 1
        else:
            result.unexplained.append((want, have))
    return result
