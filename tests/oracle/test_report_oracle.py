"""`fleet report --ns` against `trace-cmd report -N -t` on fresh captures of this kernel: identical on >= 99.9% of
event lines after collapsing runs of spaces; every differing line must match a named pattern in compare.KNOWN."""

from __future__ import annotations

import subprocess
import sys
from typing import Dict

import pytest

from tests.oracle.compare import compare, event_lines
from tests.oracle.conftest import CAPTURES


def trace_cmd_lines(path: str) -> list:
    cmd = ["trace-cmd", "report", "-N", "-t", "-i", path]
    return event_lines(subprocess.run(cmd, check=True, capture_output=True, text=True, errors="replace").stdout)


def fleet_lines(path: str) -> list:
    cmd = [sys.executable, "-m", "fleet.cli", "report", "--ns", path]
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    assert p.returncode == 0, p.stderr[-2000:]
    return event_lines(p.stdout)


def _show(pairs: list) -> str:
    return "\n".join(f"  trace-cmd: {a[:160]}\n  fleet:     {b[:160]}" for a, b, *_ in pairs[:10])


@pytest.mark.root
@pytest.mark.parametrize("name", [c.name for c in CAPTURES])
def test_fleet_report_matches_trace_cmd(captures: Dict[str, str], name: str) -> None:
    expected = trace_cmd_lines(captures[name])
    result = compare(expected, fleet_lines(captures[name]))
    assert len(expected) > 100
    assert result.ratio >= 0.999, f"{result.same}/{result.total} identical\n" + _show(result.unexplained)


@pytest.mark.root
@pytest.mark.parametrize("name", [c.name for c in CAPTURES])
def test_every_differing_line_is_explained(captures: Dict[str, str], name: str) -> None:
    result = compare(trace_cmd_lines(captures[name]), fleet_lines(captures[name]))
    assert not result.unexplained, f"{len(result.unexplained)} unexplained differences\n" + _show(result.unexplained)
