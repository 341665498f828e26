"""Configuration keys reach the kernel; triggers are reported; the top-level buffer is restored file by file."""

from __future__ import annotations

import os
import time

from agent import protocol
from tests.conftest import need


def read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def test_config_keys_are_written_to_the_instance(configured, tracefs):
    agent = configured(
        {
            "events": ["sched:*", "!sched:sched_stat_runtime"],
            "filters": {"sched:sched_switch": "prev_pid != 0"},
            "options": ["nooverwrite", "irq-info"],
            "buffer_size_kb": 64,
            "trace_clock": "global",
            "buffer_percent": 25,
            "copy_trace_marker": False,
        }
    )
    inst = f"{tracefs}/instances/{agent.instance}"
    assert 64 <= int(read(f"{inst}/buffer_size_kb")) < 80  # the kernel rounds up to whole pages
    assert "[global]" in read(f"{inst}/trace_clock")
    assert read(f"{inst}/buffer_percent") == "25"
    assert read(f"{inst}/options/overwrite") == "0"
    assert read(f"{inst}/options/copy_trace_marker") == "0"
    assert read(f"{inst}/options/disable_on_free") == "1"
    assert read(f"{inst}/events/sched/sched_switch/filter") == "prev_pid != 0"
    enabled = read(f"{inst}/set_event").split()
    assert "sched:sched_switch" in enabled and "sched:sched_stat_runtime" not in enabled
    assert read(f"{inst}/tracing_on") == "0"  # until start


def test_traceoff_trigger_is_reported_as_an_event(configured):
    agent = configured({"events": ["sched:sched_switch"], "triggers": ["sched:sched_switch:traceoff"]})
    agent.request(protocol.START)
    deadline = time.monotonic() + 5
    while not [f for f in agent.stream if f["t"] == protocol.EVENT] and time.monotonic() < deadline:
        agent.request(protocol.STATUS)
        time.sleep(0.05)
    events = [f for f in agent.stream if f["t"] == protocol.EVENT]
    assert [e["kind"] for e in events] == [protocol.EV_TRIGGER]
    assert agent.request(protocol.STOP)["t"] == protocol.OK


def test_top_level_buffer_is_restored_file_by_file(spawn, tracefs):
    need(read(f"{tracefs}/set_event") == "" and read(f"{tracefs}/current_tracer") == "nop", "top level in use")
    files = [
        "tracing_on",
        "buffer_size_kb",
        "buffer_percent",
        "options/overwrite",
        "options/disable_on_free",
        "set_event",
        "trace_clock",
        "events/sched/sched_switch/filter",
    ]
    before = {f: read(f"{tracefs}/{f}") for f in files}
    agent = spawn()
    agent.hello("test-top")
    reply = agent.request(
        protocol.CONFIGURE,
        config={
            "top_level": True,
            "events": ["sched:sched_switch"],
            "buffer_percent": 7,
            "options": ["nooverwrite"],
            "filters": {"sched:sched_switch": "prev_pid != 0"},
            "trace_clock": "mono",
        },
    )
    assert (reply["t"], reply["instance"], reply["top_level"]) == (protocol.OK, "", True)
    assert read(f"{tracefs}/buffer_percent") == "7"
    agent.request(protocol.START)
    agent.request(protocol.MARKER, text="top")
    agent.request(protocol.STOP)
    assert agent.request(protocol.SHUTDOWN)["t"] == protocol.OK
    agent.proc.wait(10)
    assert {f: read(f"{tracefs}/{f}") for f in files} == before
    assert os.path.exists(f"{tracefs}/trace")
