"""Streaming through the real protocol: sched events and markers arrive, in order, on the trace clock."""

from __future__ import annotations

import os
import time
from typing import List

from agent import protocol
from tests.agent.pages import decode, events, lost, markers


def test_markers_and_sched_events_stream_in_order_with_mono_timestamps(configured, tracefs):
    agent = configured({"events": ["sched:sched_switch"], "trace_clock": "mono", "buffer_size_kb": 512})
    meta = agent.stream[0]
    assert meta["t"] == protocol.METADATA
    assert meta["events"] == ["sched:sched_switch"]
    assert meta["trace_clock"] == "mono"
    assert set(protocol.METADATA_KEYS) <= set(meta)
    assert agent.request(protocol.START)["t"] == protocol.OK
    syncs = []
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        syncs.append(agent.request(protocol.SYNC, marker=True))
        with open(f"{tracefs}/trace_marker", "w") as f:  # a program's marker, copied by copy_trace_marker
            f.write(f"app-{os.getpid()}-{len(syncs)}")
        time.sleep(0.05)
    assert agent.request(protocol.MARKER, text="last words")["t"] == protocol.OK
    assert agent.request(protocol.STOP)["t"] == protocol.OK
    assert agent.stream[-1]["t"] == protocol.METADATA_END

    data = agent.data()
    for cpu in {f["cpu"] for f in data}:
        assert [f["seq"] for f in data if f["cpu"] == cpu] == list(range(sum(1 for f in data if f["cpu"] == cpu)))
    items = decode(meta, data)
    assert lost(items) == []
    # Other programs' top-level markers are copied too (copy_trace_marker): keep this test's own.
    ours = {s["marker"] for s in syncs} | {f"app-{os.getpid()}-{i}" for i in range(1, len(syncs) + 1)} | {"last words"}
    marks = [(ts, text) for ts, text in markers(items) if text in ours]
    expected: List[str] = []
    for i, s in enumerate(syncs, 1):
        expected += [s["marker"], f"app-{os.getpid()}-{i}"]
    assert [text for _, text in marks] == expected + ["last words"]
    by_text = {text: ts for ts, text in marks}
    for s in syncs:  # trace clock "mono" is CLOCK_MONOTONIC: the marker lies between the two clock reads
        assert s["mono_before"] <= by_text[s["marker"]] <= s["mono_after"]

    assert {e.name for e in events(items)} == {"print", "sched_switch"}


def test_sync_without_marker_reads_clocks_only(configured):
    agent = configured({"events": []})
    reply = agent.request(protocol.SYNC, marker=False)
    assert reply["marker"] is None
    assert reply["mono_before"] <= reply["mono_after"]
    assert reply["realtime_before"] <= reply["realtime"] <= reply["realtime_after"]


def test_zlib_fallback_is_announced_and_used(configured):
    agent = configured({"events": ["sched:sched_switch"], "copy_trace_marker": False}, env={"FLEET_AGENT_NO_ZSTD": "1"})
    assert agent.caps["codec"] == protocol.CODEC_ZLIB
    assert any("zlib" in n for n in agent.caps["notices"])
    assert agent.stream[0]["kallsyms_codec"] == protocol.CODEC_ZLIB
    agent.request(protocol.START)
    agent.request(protocol.MARKER, text="through zlib")
    agent.request(protocol.STOP)
    data = agent.data()
    assert {f["codec"] for f in data} == {protocol.CODEC_ZLIB}
    assert [text for _, text in markers(decode(agent.stream[0], data))] == ["through zlib"]
