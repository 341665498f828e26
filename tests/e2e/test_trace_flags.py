"""trace-cmd style flags of `fleet trace` reach the kernel: event triggers, on this machine (localhost, no SSH)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleet.cli import main


def test_an_event_trigger_traceoff_stops_the_host_after_its_first_event(
    tracefs: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run = tmp_path / "run"
    argv = ["trace", "-e", "sched:sched_switch", "--trigger", "sched:sched_switch:traceoff:1"]
    assert main([*argv, "--duration", "1", "--no-tui", "-o", str(run)]) == 0
    capsys.readouterr()
    assert main(["report", str(run), "--format", "jsonl", "-e", "sched_switch"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(events) == 1
