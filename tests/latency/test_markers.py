"""Programs' markers reach fleet: writes to the top-level trace_marker and trace_marker_raw on a lab host land in
that host's recording (copy_trace_marker), and a kernel without copy_trace_marker gets a notice naming the way
out."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, List, Tuple

import pytest

from agent.configure import configure
from agent.tracefs import Tracefs
from fleet.cli import main
from fleet.ftrace.events import Decoder, Event
from fleet.record.reader import HostRun, Run
from tests.latency.labstudy import wait_started

WRITER = """
import os, struct, subprocess
if not os.path.exists("/sys/kernel/tracing/trace_marker"):
    subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], check=True)
fd = os.open("/sys/kernel/tracing/trace_marker", os.O_WRONLY)
os.write(fd, b"hello from %d" % os.getpid())
raw = os.open("/sys/kernel/tracing/trace_marker_raw", os.O_WRONLY)
os.write(raw, struct.pack("<I", 0xF1EE7) + b"payload!")
print(os.getpid())
"""


def markers(host: HostRun) -> Tuple[List[str], List[Tuple[int, str]]]:
    """Texts of print events (sync markers left out) and (id, bytes) of raw_data events of one recorded host."""
    decoder = Decoder(host.meta)
    texts: List[str] = []
    raws: List[Tuple[int, str]] = []
    for cpu in host.cpus:
        for item in decoder.decode_pages(cpu, host.pages(cpu)):
            if isinstance(item, Event) and item.name == "print":
                text = str(item.fields()["buf"]).rstrip("\n")
                if not text.startswith("fleet-sync "):
                    texts.append(text)
            elif isinstance(item, Event) and item.name == "raw_data":
                f = item.fields()
                raws.append((int(f["id"]), str(f["buf"])))  # type: ignore[call-overload]
    return texts, raws


@pytest.mark.lab
def test_top_level_marker_and_raw_marker_writes_reach_the_hosts_recording(lab: Any, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    pid: List[str] = []

    def write_on_h1() -> None:
        wait_started(run_dir)
        time.sleep(0.3)
        cmd = ["ip", "netns", "exec", lab.host("h1").netns, sys.executable, "-c", WRITER]
        pid.append(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip())

    writer = threading.Thread(target=write_on_h1)
    writer.start()
    argv = ["trace", "-i", str(lab.inventory_path), "--hosts", "lab/h1", "-e", "sched:sched_process_exit"]
    assert main(argv + ["--no-tui", "--duration", "1.5", "-o", str(run_dir)]) == 0
    writer.join()
    texts, raws = markers(Run.open(run_dir).host("h1"))
    assert f"hello from {pid[0]}" in texts
    assert (0xF1EE7, "payload!") in [(i, b[:8]) for i, b in raws]  # buf is a char[]: decoded as text


def test_without_copy_trace_marker_the_notice_names_the_instance_marker_and_top_level(tracefs: str) -> None:
    caps = {"copy_trace_marker": False, "disable_on_free": False}
    name = f"fleet-test-nocopy-{os.getpid()}"
    setup = configure(Tracefs(tracefs), name, {"events": ["sched:sched_process_exit"]}, caps)
    try:
        assert setup.notices == [
            "kernel lacks options/copy_trace_marker: programs' writes to the top-level trace_marker (and "
            f"trace_marker_raw) are NOT recorded; have them write to {tracefs}/instances/{name}/trace_marker "
            "(or trace_marker_raw) instead, or record the top-level buffer (fleet trace --top-level) when no "
            "other tool uses it"
        ]
    finally:
        assert setup.teardown() == []
    assert not os.path.exists(f"{tracefs}/instances/{name}")
