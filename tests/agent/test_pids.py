"""Pid lists (set_event_pid, set_ftrace_pid) take process names as well as numbers; tracing_thresh and snapshot
triggers ask for what only some buffers have, and say so."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Iterator, List

import pytest

from agent import protocol
from tests.agent.test_configure import read
from tests.conftest import need

# A process that renames itself (its comm), then calls getppid(2) in a loop until killed.
LOOP = "open('/proc/self/comm', 'w').write({name!r})\nimport os, time\nwhile True:\n    os.getppid(); time.sleep(0.001)"


def named(name: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", LOOP.format(name=name)])
    for _ in range(200):
        try:
            with open(f"/proc/{proc.pid}/comm") as f:
                if f.read().strip() == name:
                    return proc
        except OSError:
            pass
        time.sleep(0.01)
    raise AssertionError(f"{name} did not rename itself")


@pytest.fixture
def two_loopers() -> Iterator[List[subprocess.Popen]]:
    procs = [named("fleet-pidtest"), named("fleet-pidtest")]
    yield procs
    for p in procs:
        p.kill()
        p.wait()


def test_a_process_name_in_event_pid_writes_every_pid_of_that_name(configured, tracefs, two_loopers) -> None:
    agent = configured({"events": ["raw_syscalls:sys_enter"], "event_pid": ["fleet-pidtest"]})
    pids = sorted(str(p.pid) for p in two_loopers)
    assert sorted(read(f"{tracefs}/instances/{agent.instance}/set_event_pid").split()) == pids


def test_a_name_no_process_has_is_refused_naming_it(spawn) -> None:
    agent = spawn()
    agent.hello("test-pids")
    reply = agent.request(protocol.CONFIGURE, config={"events": ["sched"], "event_pid": ["fleet-nosuchproc"]})
    assert (reply["t"], reply["code"]) == (protocol.ERROR, protocol.E_INVALID)
    assert reply["message"] == "no process named 'fleet-nosuchproc' on this host (set_event_pid)"


def test_tracing_thresh_takes_the_top_level_buffer_and_restores_it(spawn, tracefs) -> None:
    need(read(f"{tracefs}/set_event") == "" and read(f"{tracefs}/current_tracer") == "nop", "top level in use")
    before = read(f"{tracefs}/tracing_thresh")
    agent = spawn()
    agent.hello("test-thresh")
    reply = agent.request(protocol.CONFIGURE, config={"events": ["sched:sched_switch"], "tracing_thresh": 150})
    assert (reply["t"], reply["top_level"]) == (protocol.OK, True)
    assert read(f"{tracefs}/tracing_thresh") == "150"
    assert agent.request(protocol.SHUTDOWN)["t"] == protocol.OK
    agent.proc.wait(10)
    assert read(f"{tracefs}/tracing_thresh") == before


def test_a_snapshot_trigger_on_a_kernel_without_snapshots_is_refused_as_unsupported(spawn, tracefs) -> None:
    need(not os.path.exists(f"{tracefs}/snapshot"), "this kernel has snapshot buffers (VM lab tests)")
    agent = spawn()
    agent.hello("test-snap")
    reply = agent.request(
        protocol.CONFIGURE,
        config={"events": ["sched:sched_switch"], "triggers": ["sched:sched_switch:snapshot"]},
    )
    assert (reply["t"], reply["code"]) == (protocol.ERROR, protocol.E_UNSUPPORTED)
    assert reply["message"] == "this kernel has no snapshot buffer (CONFIG_TRACER_SNAPSHOT)"
