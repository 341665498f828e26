"""Leave nothing behind: every way an agent can end stops tracing and removes its instance."""

from __future__ import annotations

import os
import signal
import time

import pytest

from agent import protocol
from tests.agent.conftest import instance_exists


def read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def test_kill_9_stops_tracing_at_once_and_the_next_agent_removes_the_instance(configured, spawn, tracefs):
    agent = configured({"events": ["sched:sched_switch"]})
    agent.request(protocol.START)
    inst = f"{tracefs}/instances/{agent.instance}"
    assert read(f"{inst}/tracing_on") == "1"
    agent.proc.kill()
    agent.proc.wait()
    assert read(f"{inst}/tracing_on") == "0"  # disable_on_free: the kernel stopped it when free_buffer closed
    caps = spawn().hello("test-next")
    assert agent.instance in caps["stale_removed"]
    assert not instance_exists(tracefs, agent.instance)


def test_stdin_eof_removes_the_instance(configured, tracefs):
    agent = configured({"events": ["sched:sched_switch"], "triggers": ["sched:sched_switch:traceoff:5"]})
    agent.request(protocol.START)
    assert agent.close() == 0
    assert not instance_exists(tracefs, agent.instance)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_terminating_signal_removes_the_instance(configured, tracefs, sig):
    agent = configured({"events": ["sched:sched_switch"]})
    agent.request(protocol.START)
    agent.proc.send_signal(sig)
    assert agent.proc.wait(10) == 128 + sig
    assert not instance_exists(tracefs, agent.instance)


def blocked_signals(pid: int, tid: int) -> set:
    """The signals thread `tid` of process `pid` blocks, from the SigBlk mask in /proc."""
    for line in open(f"/proc/{pid}/task/{tid}/status"):
        if line.startswith("SigBlk:"):
            mask = int(line.split()[1], 16)
            return {sig for sig in signal.Signals if mask & (1 << (sig - 1))}
    raise AssertionError("no SigBlk line")


def test_only_the_main_thread_can_take_a_terminating_signal(configured):
    # A process-directed signal taken by a worker would leave the main thread asleep in read(stdin) for good.
    agent = configured({"events": ["sched:sched_switch"]})
    agent.request(protocol.START)
    pid = agent.proc.pid
    deadline = time.monotonic() + 5
    while True:  # the readers and the monitor start right after the reply
        workers = [int(tid) for tid in os.listdir(f"/proc/{pid}/task") if int(tid) != pid]
        if len(workers) > agent.caps["cpus"] or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert len(workers) > agent.caps["cpus"]  # a reader per CPU and the monitor
    assert {signal.SIGTERM, signal.SIGINT, signal.SIGHUP} & blocked_signals(pid, pid) == set()
    for tid in workers:
        assert {signal.SIGTERM, signal.SIGINT, signal.SIGHUP} <= blocked_signals(pid, tid)


def test_shutdown_replies_ok_then_exits_clean(configured, tracefs):
    agent = configured({"events": ["sched:sched_switch"]})
    agent.request(protocol.START)
    assert agent.request(protocol.SHUTDOWN)["t"] == protocol.OK
    assert agent.proc.wait(10) == 0
    assert not instance_exists(tracefs, agent.instance)


def test_failed_configure_leaves_no_instance(spawn, tracefs):
    agent = spawn()
    agent.hello("test-failed-configure")
    reply = agent.request(protocol.CONFIGURE, config={"events": ["nosuch:event"]})
    assert reply["t"] == protocol.ERROR
    assert not [n for n in os.listdir(f"{tracefs}/instances") if n.startswith("fleet-test-failed-configure-")]
