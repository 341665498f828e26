"""Rendered-line merging: the batched merge and the worker processes print exactly what the item-by-item merge
(fleet.merge.merged + render_line) prints, in the same order, for a real trace.dat and for adversarial lanes."""

from __future__ import annotations

import fnmatch
import heapq
import io
import random
import struct
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from fleet.errors import DecodeError, FleetError
from fleet.ftrace.events import Decoder
from fleet.ftrace.render import render_line
from fleet.ftrace.ringbuf import RB_MISSED_EVENTS, RB_MISSED_STORED
from fleet.linemerge import Chunk, merge_lanes, merged_lines
from fleet.merge import Stream, merged
from fleet.report import ReportOptions, report
from fleet.sources import TraceDatSource

FIXTURES = Path(__file__).parent.parent / "tracedat" / "fixtures"


def reference(path: Path, ns: bool = False) -> str:
    """The text report as the item-by-item merge renders it (the order fleet.merge defines)."""
    source = TraceDatSource(str(path))
    streams = list(source.streams())
    decoders = [Decoder(s.meta) for s in streams]
    lines = []
    for ts, index, _cpu, _seq, lost, event in merged(streams, decoders):
        assert lost is None
        assert event is not None
        lines.append(render_line(event, ts, ns, streams[index].raw_counts) + "\n")
    source.close()
    return "".join(lines)


def text_report(path: Path, **options: object) -> Tuple[str, int]:
    out = io.StringIO()
    source = TraceDatSource(str(path))
    try:
        printed = report(source, ReportOptions(**options), out)  # type: ignore[arg-type]
    finally:
        source.close()
    return out.getvalue(), printed


@pytest.mark.parametrize("name", ["small.dat", "small-tsc.dat"])
@pytest.mark.parametrize("workers", [0, 1])
def test_report_text_equals_the_item_by_item_merge(name: str, workers: int) -> None:
    expected = reference(FIXTURES / name)
    text, printed = text_report(FIXTURES / name, workers=workers)
    assert text == expected
    assert printed == expected.count("\n")


def test_workers_print_the_same_nanosecond_text_and_event_filter() -> None:
    path = FIXTURES / "small.dat"
    assert text_report(path, workers=1, ns=True) == text_report(path, workers=0, ns=True)
    one, n_one = text_report(path, workers=1, events=["sched_switch"])
    zero, n_zero = text_report(path, workers=0, events=["sched_switch"])
    assert one == zero
    assert n_one == n_zero == one.count("\n") > 0


def lanes_of(data: List[List[Tuple[int, str]]], size: int) -> List[Callable[[], Optional[Chunk]]]:
    """Lanes that hand out their items `size` at a time."""

    def lane(items: List[Tuple[int, str]]) -> Callable[[], Optional[Chunk]]:
        chunks: Iterator[Chunk] = iter(
            ([t for t, _ in items[i : i + size]], [s for _, s in items[i : i + size]], 0)
            for i in range(0, len(items), size)
        )
        return lambda: next(chunks, None)

    return [lane(items) for items in data]


def heap_order(data: List[List[Tuple[int, str]]]) -> List[str]:
    """heapq.merge on (ts, lane, seq): fleet.merge.merged's order."""
    keyed = [[(t, i, seq, s) for seq, (t, s) in enumerate(items)] for i, items in enumerate(data)]
    return [s for _t, _i, _seq, s in heapq.merge(*keyed)]


@pytest.mark.parametrize("seed", range(40))
def test_batched_merge_matches_heap_merge_with_ties_and_backward_times(seed: int) -> None:
    rng = random.Random(seed)
    data = []
    for lane in range(rng.randint(1, 4)):
        ts = sorted(rng.randint(0, 30) for _ in range(rng.randint(0, 60)))
        if seed % 3 == 0 and ts:  # a clock step back somewhere in the lane
            cut = rng.randrange(len(ts))
            ts = ts[:cut] + [t - 20 for t in ts[cut:]]
        data.append([(t, f"{lane}.{n}") for n, t in enumerate(ts)])
    got = [s for batch in merge_lanes(lanes_of(data, rng.randint(1, 9))) for s in batch]
    assert got == heap_order(data)


def failing_lane() -> Iterator[Chunk]:
    yield [1], ["a\n"], 1
    raise DecodeError("page 3: record runs past the page's data")


def good_lane() -> Iterator[Chunk]:
    for i in range(5000):
        yield [i], ["b\n"], 1


def test_a_worker_error_reaches_the_caller_with_its_message() -> None:
    with pytest.raises(FleetError, match="record runs past"):
        for _ in merged_lines([failing_lane, good_lane], workers=True):
            pass


class LossySource:
    """small.dat's pages with losses marked as the kernel marks them: a stored count, no count, and a last empty
    page that reports a loss after every event of its CPU; `label` names the stream like a host."""

    def __init__(self, label: Optional[str]) -> None:
        self.label = label
        self.dat = TraceDatSource(str(FIXTURES / "small.dat"))

    def streams(self) -> Iterator[Stream]:
        for stream in self.dat.streams():
            pages: Dict[int, List[bytes]] = {}
            for cpu, cpu_pages in stream.pages.items():
                out = [bytearray(p) for p in cpu_pages]
                for i, page in enumerate(out):
                    commit = struct.unpack_from("<Q", page, 8)[0]
                    if i == 1:
                        struct.pack_into("<Q", page, 8, commit | RB_MISSED_EVENTS | RB_MISSED_STORED)
                        page[16 + commit :] = struct.pack("<Q", 1234)  # the stored count follows the data
                    elif i == 2:
                        struct.pack_into("<Q", page, 8, commit | RB_MISSED_EVENTS)
                last = bytearray(out[-1][:16])
                struct.pack_into("<Q", last, 8, RB_MISSED_EVENTS)
                out.append(last)
                pages[cpu] = [bytes(p) for p in out]
            yield Stream(self.label, stream.meta, dict(pages.items()), stream.timestamp, stream.raw_counts, 10**9)

    def close(self) -> None:
        self.dat.close()


def lossy_reference(label: Optional[str], events: List[str]) -> str:
    """What report() printed before lines were rendered per CPU: merged items, loss lines, render_line."""
    source = LossySource(label)
    streams = list(source.streams())
    decoders = [Decoder(s.meta) for s in streams]
    out = []
    prefix = f"{label}: " if label else ""
    for ts, _index, cpu, _seq, lost, event in merged(streams, decoders):
        if lost is not None:
            count = f"LOST {lost.count} EVENTS" if lost.count else "LOST EVENTS"
            out.append(f"{prefix}CPU:{cpu} [{count}]\n")
        if event is None:
            continue
        if events and not any(fnmatch.fnmatchcase(event.name, g) for g in events):
            continue
        out.append(render_line(event, ts, False, False, label) + "\n")
    source.close()
    return "".join(out)


@pytest.mark.parametrize("label", [None, "h1"])
@pytest.mark.parametrize("events", [[], ["sched_switch"]])
@pytest.mark.parametrize("workers", [0, 1])
def test_lost_events_print_where_the_item_merge_put_them(label: Optional[str], events: List[str], workers: int) -> None:
    expected = lossy_reference(label, events)
    assert "[LOST 1234 EVENTS]" in expected and "[LOST EVENTS]" in expected
    out = io.StringIO()
    source = LossySource(label)
    printed = report(source, ReportOptions(events=events, workers=workers), out)
    source.close()
    assert out.getvalue() == expected
    assert printed == sum(1 for line in expected.splitlines() if "[LOST" not in line)
