"""Sync replies carry NTP's receive and transmit timestamps around the marker write (same kernel: comparable)."""

from __future__ import annotations

import time

from agent import protocol


def test_sync_reply_orders_request_arrival_marker_write_and_reply_departure(configured):
    agent = configured({"events": ["sched:sched_switch"]})
    assert agent.request(protocol.START)["t"] == protocol.OK
    for _ in range(20):
        sent = time.monotonic_ns()
        reply = agent.request(protocol.SYNC, marker=True)
        got = time.monotonic_ns()
        # This test and the agent share CLOCK_MONOTONIC, so the four stamps must nest exactly.
        assert sent <= reply["host_rx"] <= reply["mono_before"] <= reply["mono_after"] <= reply["host_tx"] <= got
    assert agent.request(protocol.STOP)["t"] == protocol.OK


def test_sync_without_marker_still_stamps_arrival_and_departure(configured):
    agent = configured({"events": []})
    reply = agent.request(protocol.SYNC, marker=False)
    assert reply["marker"] is None
    assert reply["host_rx"] <= reply["mono_before"] <= reply["mono_after"] <= reply["host_tx"]
