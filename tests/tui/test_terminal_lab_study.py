"""The live latency study in a real terminal (tmux) on the namespace lab: while the UDP request/response program
sends 40 requests h1 -> h2 (`req N sent` / `req N recv` markers), `fleet trace --study-...` and `fleet monitor
--study-...` show every pair in the dashboard's study panel, and the recorded run holds the same 40 pairs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, List

from tests.latency.labstudy import run_program
from tests.tui.test_terminal import keys, tmux, wait_for
from tests.tui.test_terminal_lab import lab_hosts, wait_states

__all__ = ["tmux"]  # the fixture, imported for the tests below

COUNT = 40
STUDY = (
    "--study-from print --study-from-hosts lab/h1 --study-from-match 'req (\\d+) sent' "
    "--study-to print --study-to-hosts lab/h2 --study-to-match 'req (\\d+) recv'"
)


def program_thread(lab: Any, run_dir: Callable[[], Path], out: Path) -> tuple:
    """The request/response program, started once the run directory is known and tracing; errors kept."""
    errors: List[BaseException] = []

    def main() -> None:
        try:
            run_program(lab, run_dir(), out, COUNT, 0.01)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    worker = threading.Thread(target=main)
    worker.start()
    return worker, errors


def histogram_total(screen: str) -> int:
    return sum(int(m.group(1)) for m in re.finditer(r"\|[# ]+\| +(\d+)\s*$", screen, re.M))


def test_fleet_trace_study_panel_counts_every_request(lab: Any, tmux: Callable[..., str], tmp_path: Path) -> None:
    hosts = lab_hosts(lab)
    out = tmp_path / "run"
    session = tmux(
        f"{sys.executable} -m fleet.cli trace -i {lab.inventory_path} --hosts 'lab/*' -e sched:sched_process_exit "
        f"--sync-interval 0.25 {STUDY} --duration 5 -o {out}; echo EXITED $?; sleep 60"
    )
    worker, errors = program_thread(lab, lambda: out, tmp_path / "oneway.jsonl")
    wait_states(session, hosts, "tracing")
    worker.join(60)
    assert errors == []
    screen = wait_for(session, f"pairs {COUNT}  unmatched 0  open 0")
    assert histogram_total(screen) == COUNT
    wait_for(session, "finished")
    keys(session, "q")
    wait_for(session, "EXITED 0")
    latency = subprocess.run(
        [sys.executable, "-m", "fleet.cli", "latency", str(out), "-i", str(lab.inventory_path), "--format", "json",
         "--from", "print", "--from-hosts", "lab/h1", "--from-match", r"req (\d+) sent",
         "--to", "print", "--to-hosts", "lab/h2", "--to-match", r"req (\d+) recv"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(latency.stdout)["count"] == COUNT


def test_fleet_monitor_study_panel_and_l_hides_it(lab: Any, tmux: Callable[..., str], tmp_path: Path) -> None:
    hosts = lab_hosts(lab)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    session = tmux(
        f"env TMPDIR={scratch} {sys.executable} -m fleet.cli monitor -i {lab.inventory_path} --hosts 'lab/*' "
        f"-e sched:sched_process_exit --sync-interval 0.25 {STUDY}; echo EXITED $?; sleep 60"
    )

    def run_dir() -> Path:
        while not list(scratch.glob("fleet-monitor-*/run1")):
            time.sleep(0.05)
        return next(scratch.glob("fleet-monitor-*/run1"))

    worker, errors = program_thread(lab, run_dir, tmp_path / "oneway.jsonl")
    wait_states(session, hosts, "tracing")
    worker.join(60)
    assert errors == []
    wait_for(session, f"pairs {COUNT}  unmatched 0")
    keys(session, "l")
    wait_for(session, "study panel hidden")
    assert "pairs " not in wait_for(session, "study panel hidden")
    keys(session, "q")
    wait_for(session, "EXITED 0")
