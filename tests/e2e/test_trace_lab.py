"""`fleet trace` on the 3-host namespace lab over real SSH: what every host records, and how failures are reported."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, List

import pytest

from fleet.cli import main
from fleet.record.reader import Run
from tests.e2e.runs import event_counts, fleet_instances, lab_inventory, marker_texts


def fleet_trace(lab: Any, out: Path, *extra: str, inventory: Any = None) -> int:
    argv = ["trace", "-i", str(inventory or lab.inventory_path), "--hosts", "lab/*", "-e", "sched:sched_switch"]
    return main(argv + ["-m", "hello", "--no-tui", "--sync-interval", "0.5", "-o", str(out), *extra])


def states(run: Run) -> List[str]:
    return [h.entry.state for h in run.hosts]


def test_every_host_records_its_marker_and_events(lab: Any, tmp_path: Path, capsys: Any) -> None:
    assert fleet_trace(lab, tmp_path / "run", "--duration", "1") == 0
    run = Run.open(tmp_path / "run")
    assert (run.host_names, states(run), run.complete) == (["h1", "h2", "h3"], ["done"] * 3, True)
    for host in run.hosts:
        assert marker_texts(host) == ["hello"]
        assert event_counts(host)["sched_switch"] > 0
        assert host.errors == []
    assert fleet_instances(run.manifest.session) == []
    out = capsys.readouterr().out
    assert "HOST  STATE  EVENTS" in out


def test_a_host_with_a_wrong_known_key_is_refused_by_name(lab: Any, tmp_path: Path, capsys: Any) -> None:
    lines = lab.known_hosts.read_text().splitlines()
    h1_key = lines[0].split(None, 1)[1]
    # h2's line now carries h1's key
    lines[1] = lines[1].split(None, 1)[0] + " " + h1_key
    kh = tmp_path / "known_hosts"
    kh.write_text("\n".join(lines) + "\n")
    inventory = lab_inventory(lab, tmp_path, known_hosts=kh)
    assert fleet_trace(lab, tmp_path / "run", "--duration", "0.5", inventory=inventory) == 1
    run = Run.open(tmp_path / "run")
    assert states(run) == ["done", "error", "done"]
    assert run.host("h2").errors[0].startswith("host key CHANGED: ")
    assert [marker_texts(run.host(h)) for h in ("h1", "h3")] == [["hello"], ["hello"]]
    out = capsys.readouterr().out
    assert "h2        error: host key CHANGED" in out


def test_a_host_whose_sshd_is_down_is_reported(lab: Any, tmp_path: Path) -> None:
    lab.stop_sshd("h3")
    try:
        assert fleet_trace(lab, tmp_path / "run", "--duration", "0.5") == 1
    finally:
        lab.start_sshd("h3")
    run = Run.open(tmp_path / "run")
    assert states(run) == ["done", "done", "error"]
    assert run.host("h3").errors == [f"ssh to {lab.host('h3').address}:22: connection refused (is sshd running?)"]


def wait_for_state(run_dir: Path, host: str, state: str, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            manifest = json.loads((run_dir / "manifest.json").read_text())
            if manifest["hosts"].get(host, {}).get("state") == state:
                return
        except (FileNotFoundError, ValueError):
            pass
        time.sleep(0.02)
    raise AssertionError(f"{host} never reached {state}")


def test_a_host_partitioned_mid_run_is_reported_and_the_others_recorded(lab: Any, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"

    def partition_when_tracing() -> None:
        wait_for_state(run_dir, "h2", "tracing")
        time.sleep(0.3)
        lab.impair("h2", partition=True)

    t = threading.Thread(target=partition_when_tracing)
    t.start()
    try:
        code = fleet_trace(lab, run_dir, "--duration", "3", "--keepalive", "0.3")
    finally:
        t.join()
        lab.clear_impairment("h2")
    run = Run.open(run_dir)
    assert (code, states(run)) == (1, ["done", "lost link", "done"])
    assert run.host("h2").errors[0].startswith("link lost")
    assert event_counts(run.host("h2"))["sched_switch"] > 0  # what arrived before the partition is kept
    for name in ("h1", "h3"):
        assert run.host(name).complete


def start_cli(lab: Any, run_dir: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "fleet.cli", "trace", "-i", str(lab.inventory_path), "--hosts", "lab/*"]
    argv += ["-e", "sched:sched_switch", "-m", "hello", "--no-tui", "-o", str(run_dir)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "tracing; Ctrl-C to stop" in line:
            return proc
    proc.kill()
    raise AssertionError(f"fleet trace never started tracing: {proc.stderr.read() if proc.stderr else ''}")


def test_sigint_stops_every_host_cleanly(lab: Any, tmp_path: Path) -> None:
    proc = start_cli(lab, tmp_path / "run")
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    run = Run.open(tmp_path / "run")
    assert (proc.returncode, err) == (0, "")
    assert (states(run), run.complete) == (["done"] * 3, True)
    assert all(marker_texts(h) == ["hello"] and h.complete for h in run.hosts)
    assert fleet_instances(run.manifest.session) == []


def test_sigkill_of_the_coordinator_leaves_a_readable_run(lab: Any, tmp_path: Path) -> None:
    proc = start_cli(lab, tmp_path / "run")
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    run = Run.open(tmp_path / "run")
    assert (run.complete, states(run)) == (False, ["tracing"] * 3)
    for host in run.hosts:
        assert marker_texts(host) == ["hello"]
        assert event_counts(host)["sched_switch"] > 0
        assert len(host.sync_samples) >= 10
    # The agents see their input close and remove their instances.
    end = time.monotonic() + 30
    while fleet_instances(run.manifest.session) and time.monotonic() < end:
        time.sleep(0.1)
    assert fleet_instances(run.manifest.session) == []


@pytest.fixture(autouse=True)
def _no_lab_leftovers(lab: Any) -> Any:
    yield
    lab.clear_impairment("h2")
