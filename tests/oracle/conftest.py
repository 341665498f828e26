"""Fresh trace.dat captures from this machine's kernel with `trace-cmd extract`, made once per test session.

Each capture changes top-level tracefs state (events, trace clock, buffer) and restores all of it afterwards,
under an flock on /tmp/fleet-tracefs-top.lock so helpers that honour the lock do not interleave.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from typing import Dict, Iterator, List

import pytest

from tests.conftest import have_tracefs, need

TRACEFS = "/sys/kernel/tracing"
LOCK = "/tmp/fleet-tracefs-top.lock"


@dataclass
class Capture:
    """How one capture is made: events to enable, the trace clock, markers, and how long to record."""

    name: str
    events: List[str]
    clock: str
    markers: int
    seconds: float


CAPTURES = [
    Capture("all-events-local", ["events/enable"], "local", 3, 0.2),
    Capture(
        "mixed-x86-tsc",
        [
            "events/sched/enable",
            "events/irq/enable",
            "events/timer/enable",
            "events/syscalls/enable",
            "events/kmem/enable",
        ],
        "x86-tsc",
        20,
        0.3,
    ),
    Capture("sched-counter", ["events/sched/enable", "events/irq/enable"], "counter", 5, 0.2),
]


def _read(path: str) -> str:
    with open(os.path.join(TRACEFS, path)) as f:
        return f.read()


def _write(path: str, value: str) -> None:
    with open(os.path.join(TRACEFS, path), "w") as f:
        f.write(value)


def _current_clock() -> str:
    for word in _read("trace_clock").split():
        if word.startswith("["):
            return word.strip("[]")
    return "local"


def capture(spec: Capture, out: str, trace_cmd: str) -> None:
    """Record `spec` in the top-level buffer and extract it to `out`; restore every setting it touched."""
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        clock, tracing_on = _current_clock(), _read("tracing_on").strip()
        try:
            _write("trace_clock", spec.clock)
            _write("trace", "")
            _write("tracing_on", "1")
            for path in spec.events:
                _write(path, "1")
            deadline = time.monotonic() + spec.seconds
            for i in range(spec.markers):
                _write("trace_marker", f"fleet-oracle {spec.name} marker {i}")
                os.stat("/etc/hostname")
                time.sleep(spec.seconds / max(spec.markers, 1) / 2)
            time.sleep(max(0.0, deadline - time.monotonic()))
        finally:
            _write("events/enable", "0")
        try:
            subprocess.run(
                [trace_cmd, "extract", "-o", out],
                cwd=os.path.dirname(out),
                check=True,
                capture_output=True,
                timeout=120,
            )
        finally:
            _write("trace", "")
            _write("trace_clock", clock)
            _write("tracing_on", tracing_on)


@pytest.fixture(scope="session")
def captures(tmp_path_factory) -> Iterator[Dict[str, str]]:
    """name -> path of each fresh capture (root, tracefs and trace-cmd required)."""
    need(have_tracefs(), "needs root and tracefs")
    trace_cmd = shutil.which("trace-cmd")
    need(trace_cmd is not None, "needs trace-cmd")
    assert trace_cmd is not None
    base = tmp_path_factory.mktemp("oracle")
    paths = {}
    for spec in CAPTURES:
        path = str(base / f"{spec.name}.dat")
        for attempt in range(3):
            try:
                capture(spec, path, trace_cmd)
                break
            except (OSError, subprocess.CalledProcessError):
                # another program on this shared kernel toggled tracing_on or the clock mid-capture (EBADF on
                # trace_marker): try again, a few times
                if attempt == 2:
                    raise
        paths[spec.name] = path
    yield paths
