"""The streaming merge: aligned order across hosts and CPUs, stable ties, one pending item per stream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List

from fleet.clocksync.line import LineFit, identity
from fleet.clocksync.model import ClockModel
from fleet.merge import merge_hosts


@dataclass
class Rec:
    ts: int
    label: str


def shifted(offset: int) -> ClockModel:
    """A model that adds `offset` ns (host trace clock runs `offset` behind the coordinator)."""
    line = LineFit(x0=0, y0=float(offset), rate=1.0, rate_lo=1.0, rate_hi=1.0, x_lo=0, x_hi=0, halfwidth=0.0)
    return ClockModel(trace_clock="local", to_host=line, to_coord=identity(0.0))


def recs(label: str, *ts: int) -> List[Rec]:
    return [Rec(t, f"{label}@{t}") for t in ts]


def test_hosts_and_cpus_interleave_in_aligned_time() -> None:
    streams = {"a": [recs("a0", 10, 40), recs("a1", 20)], "b": [recs("b0", 1, 25)]}
    models = {"a": shifted(0), "b": shifted(10)}
    out = [(h, ts, r.label) for h, ts, r in merge_hosts(streams, models)]
    assert out == [("a", 10, "a0@10"), ("b", 11, "b0@1"), ("a", 20, "a1@20"), ("b", 35, "b0@25"), ("a", 40, "a0@40")]


def test_equal_times_keep_host_then_cpu_then_stream_order() -> None:
    streams = {"b": [recs("b0", 5, 5)], "a": [recs("a0", 5), recs("a1", 5)]}
    out = [r.label for _, _, r in merge_hosts(streams)]
    assert out == ["b0@5", "b0@5", "a0@5", "a1@5"]


def test_hosts_without_a_model_keep_raw_timestamps_and_empty_streams_are_fine() -> None:
    out = [(h, ts) for h, ts, _ in merge_hosts({"a": [[], recs("a1", 3)], "b": []})]
    assert out == [("a", 3)]


def test_memory_is_one_pending_item_per_stream() -> None:
    pulled = {"a": 0, "b": 0}

    def endless(host: str, step: int) -> Iterator[Rec]:
        t = 0
        while True:
            pulled[host] += 1
            t += step
            yield Rec(t, host)

    merged = merge_hosts({"a": [endless("a", 3)], "b": [endless("b", 5)]})
    first = [next(merged) for _ in range(8)]
    assert [ts for _, ts, _ in first] == [3, 5, 6, 9, 10, 12, 15, 15]
    # What was yielded plus the other stream's pending item; the last yielder refills only when asked for more.
    assert pulled["a"] + pulled["b"] == 8 + 1
