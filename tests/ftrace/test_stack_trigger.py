"""A `stacktrace` event trigger puts kernel stacks in the buffer: fleet prints them as this machine's kernel prints
them in its own `trace` file (read before the raw pages are consumed), and `fleet trace --trigger` records them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleet.cli import main
from tests.vm.oracle import capture_here, collapse


def racing_count(n: int) -> range:
    """How many times a trigger with count `n` fires: the kernel checks and decrements the count without atomics,
    so the last firing can race on every other CPU (rare: a few nanoseconds' window)."""
    return range(n, n + (os.cpu_count() or 1))


def test_kernel_stacks_of_a_stacktrace_trigger_render_as_the_kernel_prints_them(tracefs: str) -> None:
    cap = capture_here(
        tracer="nop",
        events=["sched:sched_switch"],
        triggers=[["sched:sched_switch", "stacktrace:4"]],
        workload="sleep 0.05",
    )
    events, mine = cap.kernel_text("nop")
    stacks = [e.name for e in events].count("kernel_stack")
    assert stacks in racing_count(4)
    assert mine.count("<stack trace>") == stacks and "\n => __schedule\n" in mine
    assert collapse(mine) == collapse(cap.text)


def test_a_counted_stacktrace_trigger_records_that_many_stacks(
    tracefs: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # The agent arms triggers when tracing starts: armed at configure, the count would be spent while tracing_on
    # is still 0 (the kernel calls unconditional triggers whether or not the buffer records).
    run = tmp_path / "run"
    argv = ["trace", "-e", "sched:sched_switch", "--trigger", "sched:sched_switch:stacktrace:3"]
    assert main([*argv, "--duration", "1", "--no-tui", "-o", str(run)]) == 0
    capsys.readouterr()
    assert main(["report", str(run)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # as `trace-cmd report -N` prints them: kernel_stack's print fmt, its first frame on the event's line
    stacks = [i for i, line in enumerate(lines) if " kernel_stack: " in line]
    assert len(stacks) in racing_count(3)
    assert all(lines[i].split("kernel_stack:")[1].strip().startswith("=> ") for i in stacks)
    assert all(lines[i + 1].startswith("\t=> ") for i in stacks)
