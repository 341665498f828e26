"""Leave nothing behind: every way an agent can end stops tracing and removes its instance."""

from __future__ import annotations

import os
import signal

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
