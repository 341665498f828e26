"""The function profiler's trace_stat/function<N> tables (parsed, summed over CPUs or hosts, printed in the kernel's
layout) and the stack tracer's stack_trace text."""

# ruff: noqa: UP031  (the kernel's layouts are printf formats)
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional

from fleet.ftrace.funcgraph import graph_duration

_US = re.compile(r"^(\d+(?:\.\d+)?) us$")


@dataclass
class ProfileRow:
    """One function of a profile: calls, and (kernels with the graph tracer) total time and the sum of squares of
    the per-call times, in ns, so rows of several CPUs or hosts add up exactly as the kernel's own would."""

    function: str
    hits: int
    time_ns: Optional[int] = None
    squares_ns2: Optional[float] = None

    @property
    def avg_ns(self) -> Optional[int]:
        return None if self.time_ns is None or not self.hits else self.time_ns // self.hits

    @property
    def variance_ns2(self) -> Optional[float]:
        """s^2 as the kernel computes it: (n * sum(x^2) - sum(x)^2) / (n * (n - 1))."""
        if self.time_ns is None or self.squares_ns2 is None or self.hits < 2:
            return None if self.time_ns is None else 0.0
        n = self.hits
        return max(0.0, (n * self.squares_ns2 - float(self.time_ns) ** 2) / (n * (n - 1)))


def _ns(text: str) -> int:
    m = _US.match(text.strip())
    if m is None:
        raise ValueError(text)
    return round(float(m.group(1)) * 1000)


def parse_function_stat(text: str) -> List[ProfileRow]:
    """Rows of a trace_stat/function<N> file: `  NAME  HIT    TIME us    AVG us    S2 us` (times only with the graph
    tracer). s^2 is printed in us^2 (the kernel divides ns^2 by 1000 twice); sums of squares are rebuilt from it."""
    rows: List[ProfileRow] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0] in ("Function", "--------") or not parts[1].isdigit():
            continue
        name, hits = parts[0], int(parts[1])
        row = ProfileRow(name, hits)
        times = re.findall(r"\d+(?:\.\d+)? us", line[line.index(parts[1]) + len(parts[1]) :])
        if len(times) == 3:
            total, s2_us = _ns(times[0]), _ns(times[2]) / 1000.0  # s^2 column: us^2
            row.time_ns = total
            # invert the kernel's variance: sum(x^2) = (s2 * n * (n-1) + sum(x)^2) / n, in ns^2
            row.squares_ns2 = (s2_us * 1e6 * hits * (hits - 1) + float(total) ** 2) / hits if hits else 0.0
        rows.append(row)
    return rows


def sum_profiles(tables: Iterable[List[ProfileRow]]) -> List[ProfileRow]:
    """Rows of several tables (CPUs, hosts) added per function; ordered as the kernel orders them (total time,
    or hits without times, largest first; then by name)."""
    out: Dict[str, ProfileRow] = {}
    for table in tables:
        for row in table:
            acc = out.get(row.function)
            if acc is None:
                out[row.function] = ProfileRow(row.function, row.hits, row.time_ns, row.squares_ns2)
                continue
            acc.hits += row.hits
            if acc.time_ns is not None and row.time_ns is not None:
                acc.time_ns += row.time_ns
                acc.squares_ns2 = (acc.squares_ns2 or 0.0) + (row.squares_ns2 or 0.0)
    return sorted(out.values(), key=lambda r: (-(r.time_ns if r.time_ns is not None else r.hits), r.function))


def format_profile(rows: List[ProfileRow]) -> str:
    """The rows in trace_stat/function<N>'s layout (function_stat_headers / function_stat_show)."""
    timed = any(r.time_ns is not None for r in rows)
    if timed:
        out = [
            "  Function                               Hit    Time            Avg             s^2\n",
            "  --------                               ---    ----            ---             ---\n",
        ]
    else:
        out = ["  Function                               Hit\n", "  --------                               ---\n"]
    for r in rows:
        line = "  %-30.30s  %10d" % (r.function, r.hits)
        if timed and r.time_ns is not None:
            var = r.variance_ns2 or 0.0
            line += "    %s    %s    %s" % (
                graph_duration(r.time_ns),
                graph_duration(r.avg_ns or 0),
                graph_duration(round(var / 1000)),  # ns^2 / 1000, printed as "us": the kernel's us^2
            )
        out.append(line + "\n")
    return "".join(out)


@dataclass
class StackEntry:
    """One frame of the deepest stack: depth (bytes used from here up), its own size, and the location."""

    index: int
    depth: int
    size: int
    location: str


def parse_stack_trace(text: str) -> List[StackEntry]:
    """Frames of the stack_trace file (`  N)    DEPTH   SIZE   LOCATION`)."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^\s*(\d+)\)\s+(\d+)\s+(\d+)\s+(\S.*)$", line)
        if m:
            out.append(StackEntry(int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4).strip()))
    return out
