"""trace-cmd style flags of `fleet trace` reach the kernel: event triggers, on this machine (localhost, no SSH)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fleet.cli import main
from tests.agent.test_pids import named


def test_an_event_trigger_traceoff_stops_the_host_after_its_first_event(
    tracefs: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run = tmp_path / "run"
    argv = ["trace", "-e", "sched:sched_switch", "--trigger", "sched:sched_switch:traceoff:1"]
    assert main([*argv, "--duration", "1", "--no-tui", "-o", str(run)]) == 0
    capsys.readouterr()
    assert main(["report", str(run), "--format", "jsonl", "-e", "sched_switch"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # The kernel's count check is not atomic across CPUs: another CPU's sched_switch can race the first one through
    # the trigger, so each CPU may hold one event, all within moments of each other, and nothing after them.
    assert 1 <= len(events) <= os.cpu_count()  # type: ignore[operator]
    assert len({e["cpu"] for e in events}) == len(events)
    assert events[-1]["ts"] - events[0]["ts"] < 1_000_000


def test_p_with_a_process_name_records_only_that_processs_events(
    tracefs: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    a, b = named("fleet-pid-a"), named("fleet-pid-b")  # both call getppid(2) in a loop
    try:
        run = tmp_path / "run"
        argv = ["trace", "-e", "syscalls:sys_enter_getppid", "-P", "fleet-pid-a", "--duration", "1"]
        assert main([*argv, "--no-tui", "-o", str(run)]) == 0
    finally:
        for p in (a, b):
            p.kill()
            p.wait()
    capsys.readouterr()
    assert main(["report", str(run), "--format", "jsonl"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    getppid = [e for e in events if e["event"] == "sys_enter_getppid"]
    assert len(getppid) > 10
    assert {e["pid"] for e in getppid} == {a.pid}


def test_p_with_a_name_no_process_has_fails_the_host_naming_it(
    tracefs: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["trace", "-e", "sched:sched_switch", "-P", "fleet-nosuchproc", "--duration", "1"]
    assert main([*argv, "--no-tui", "-o", str(tmp_path / "run")]) == 1
    assert "no process named 'fleet-nosuchproc' on this host (set_event_pid)" in capsys.readouterr().out
