"""Loss is reported, never hidden: page headers, per-CPU stats and the agent's tally agree."""

from __future__ import annotations

import os

from agent import protocol
from tests.agent.pages import decode, lost


def test_lost_events_reported_by_pages_equal_the_kernel_overrun(configured, tracefs):
    # A tiny buffer and no credits: the reader stalls after one batch while markers flood the buffer.
    agent = configured({"events": [], "buffer_size_kb": 8}, auto_credit=False)
    assert agent.request(protocol.START, credits=0)["t"] == protocol.OK
    fd = os.open(f"{tracefs}/instances/{agent.instance}/trace_marker", os.O_WRONLY)
    try:
        for i in range(20000):
            os.write(fd, b"flood %d" % i)
    finally:
        os.close(fd)
    agent.send(protocol.CREDIT, frames=10000)
    assert agent.request(protocol.STOP)["t"] == protocol.OK
    end = agent.stream[-1]
    assert end["t"] == protocol.METADATA_END
    data = agent.data()
    items = decode(agent.stream[0], data)
    total_overrun = 0
    for cpu, stats in end["per_cpu"].items():
        from_pages = sum(it.count or 0 for it in lost(items) if it.cpu == int(cpu))
        assert stats["missed_unknown_pages"] == 0
        assert from_pages == stats["overrun"] == stats["missed_events"], (cpu, stats)
        total_overrun += stats["overrun"]
    assert total_overrun > 0, "the flood lost nothing: the test did not exercise loss"
