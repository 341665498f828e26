"""Random access into a run's merged event stream without holding decoded events: one pass records, per merged
row, its timestamp, its (host, CPU) stream and its event id, plus page positions and checkpoints; rows are
decoded again on demand from the nearest checkpoint.

The order is `fleet report`'s: items come from fleet.report's per-CPU generator and are merged on the same
(timestamp, stream, cpu, seq) tuples.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional, Sequence, Tuple

from fleet.errors import FleetError
from fleet.ftrace.events import Decoder, Event
from fleet.ftrace.render import format_ts
from fleet.ftrace.ringbuf import split_pages
from fleet.merge import Stream, cpu_items
from fleet.record.frames import read_frame_at
from fleet.record.payload import frame_pages_blob
from fleet.record.reader import HostRun
from fleet.sources import RunSource

CHECKPOINT = 256
"""Merged rows between checkpoints: a row is decoded after skipping at most this many rows of its stream."""
NO_EVENT = 0xFFFF
"""Event id of a row that only reports lost events at the end of a CPU's data."""
SYNC_TEXT = b"fleet-sync "


@dataclass
class Row:
    """One merged row, decoded for display."""

    row: int
    ts: int
    host: str
    cpu: int
    lost: Optional[int]
    """Events lost just before this row: -1 when the kernel did not say how many, None when nothing was lost."""
    event: Optional[Event]
    counter: bool = False

    @property
    def name(self) -> str:
        return self.event.name if self.event is not None else "[lost]"

    @property
    def comm(self) -> str:
        return self.event.comm if self.event is not None else ""

    @property
    def pid(self) -> int:
        return self.event.pid if self.event is not None else 0

    @property
    def body(self) -> str:
        if self.event is None:
            return ""
        return self.event.text().rstrip("\n")

    @property
    def time(self) -> str:
        return format_ts(self.ts, ns=True, counter=self.counter).strip()

    def line(self) -> str:
        """What text search and the text filter match against: host, comm-pid, cpu, event and its body."""
        return f"{self.host} {self.comm}-{self.pid} [{self.cpu:03d}] {self.name}: {self.body}"


class _FrameCache:
    """Decompressed data frames (lists of pages), least recently used dropped first; one per reading thread."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.items: OrderedDict[Tuple[int, int, int], List[bytes]] = OrderedDict()
        self.files: Dict[int, IO[bytes]] = {}

    def pages(self, stream: int, host: HostRun, cpu: int, frame_no: int) -> List[bytes]:
        key = (stream, cpu, frame_no)
        hit = self.items.get(key)
        if hit is not None:
            self.items.move_to_end(key)
            return hit
        f = self.files.get(stream)
        if f is None:
            f = self.files[stream] = open(host.frames_path, "rb")
        frame = read_frame_at(f, host.index.data[cpu][frame_no])
        pages = list(split_pages(frame_pages_blob(frame), host.page_header))
        self.items[key] = pages
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return pages

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self.files.clear()


class _Pages:
    """The pages of one (stream, cpu) from a (frame, page) position on; `at` is the position of the last one."""

    def __init__(self, cache: _FrameCache, stream: int, host: HostRun, cpu: int, frame: int, page: int) -> None:
        self.cache, self.stream, self.host, self.cpu = cache, stream, host, cpu
        self.start = (frame, page)
        self.at = (frame, page - 1)

    def __iter__(self) -> Iterator[bytes]:
        frame, page = self.start
        nframes = len(self.host.index.data.get(self.cpu, []))
        while frame < nframes:
            pages = self.cache.pages(self.stream, self.host, self.cpu, frame)
            while page < len(pages):
                self.at = (frame, page)
                yield pages[page]
                page += 1
            frame, page = frame + 1, 0


class RunIndex:
    """A run directory opened for browsing; call build() (in a worker thread) and read rows while it grows."""

    def __init__(self, path: Path, hosts: Optional[Sequence[str]] = None) -> None:
        self.source = RunSource(Path(path), hosts)
        self.run = self.source.run
        self.streams: List[Stream] = list(self.source.streams())
        if not self.streams:
            raise FleetError(f"{path}: no host of this run recorded trace data")
        self.hostruns = [self.run.host(s.host or "") for s in self.streams]
        self.hosts = [s.host or "" for s in self.streams]
        self.decoders = [Decoder(s.meta) for s in self.streams]
        self.keys: List[Tuple[int, int]] = [(i, cpu) for i, s in enumerate(self.streams) for cpu in sorted(s.pages)]
        self._key_of = {k: n for n, k in enumerate(self.keys)}
        # Per merged row.
        self.ts = array("q")
        self.key = array("H")
        self.evid = array("H")
        # Per stream (host), its rows' timestamps (ascending, as the merge is) for the time-axis lanes.
        self.host_ts: List[array] = [array("q") for _ in self.streams]
        self.lost_rows = array("q")
        self.lost_counts = array("q")
        self.marker_rows = array("q")
        # Per key: (frame, page, first seq on that page) of every page holding an item.
        self.page_frame: List[array] = [array("l") for _ in self.keys]
        self.page_no: List[array] = [array("l") for _ in self.keys]
        self.page_seq: List[array] = [array("q") for _ in self.keys]
        # Items each key emitted before row n*CHECKPOINT.
        self.checkpoints: List[array] = []
        self.done = False
        self.error: Optional[str] = None
        self._cache = _FrameCache()
        self._stop = False

    # --- the indexing pass -----------------------------------------------------------------------------------
    def build(self) -> None:
        """One pass over the merged stream; rows become readable as they are indexed. Once built, does nothing
        (an index built beforehand can be handed to the viewer, which builds on mount)."""
        if self.done:
            return
        try:
            self._build()
        except FleetError as exc:
            self.error = str(exc)
        finally:
            self.done = True

    def cancel(self) -> None:
        self._stop = True

    def _build(self) -> None:
        cache = _FrameCache(8)
        decoders = [Decoder(s.meta) for s in self.streams]
        its = []
        cursors: List[_Pages] = []
        for k, (i, cpu) in enumerate(self.keys):
            pages = _Pages(cache, i, self.hostruns[i], cpu, 0, 0)
            cursors.append(pages)
            stream = Stream(self.hosts[i], self.streams[i].meta, {cpu: pages}, self.streams[i].timestamp)
            its.append(self._track(k, pages, cpu_items(i, stream, cpu, decoders[i])))
        counts = array("q", bytes(8 * len(self.keys)))
        is_marker: Dict[Tuple[int, int], bool] = {}
        for n, (ts, i, cpu, _seq, lost, event) in enumerate(heapq.merge(*its)):
            if self._stop:
                break
            k = self._key_of[(i, cpu)]
            if n % CHECKPOINT == 0:
                self.checkpoints.append(array("q", counts))
            counts[k] += 1
            if lost is not None:
                self.lost_rows.append(n)
                self.lost_counts.append(-1 if lost.count is None else lost.count)
            if event is None:
                self.evid.append(NO_EVENT)
            else:
                self.evid.append(event.id)
                mk = is_marker.get((i, event.id))
                if mk is None:
                    mk = is_marker[(i, event.id)] = event.name in ("print", "bprint")
                if mk and SYNC_TEXT not in event.data:
                    self.marker_rows.append(n)
            self.host_ts[i].append(ts)
            self.key.append(k)
            self.ts.append(ts)  # last: a row counts as indexed once its timestamp is there
        cache.close()

    def _track(self, k: int, pages: _Pages, items: Iterator[Any]) -> Iterator[Any]:
        """Records, for each page that yields items, where it is and the seq of its first item."""
        last: Tuple[int, int] = (-1, -1)
        for item in items:
            if pages.at != last:
                last = pages.at
                self.page_frame[k].append(last[0])
                self.page_no[k].append(last[1])
                self.page_seq[k].append(item[3])
            yield item

    # --- reading rows ----------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ts)

    def host_of(self, row: int) -> str:
        return self.hosts[self.keys[self.key[row]][0]]

    def event_name(self, row: int) -> str:
        """The event name of a row without decoding it (from its id and its stream's formats)."""
        evid = self.evid[row]
        if evid == NO_EVENT:
            return "[lost]"
        fmt = self.decoders[self.keys[self.key[row]][0]].event_format(evid)
        return fmt.name if fmt else f"ftrace-id-{evid}"

    def _consumed(self, k: int, row: int) -> int:
        """Items key k emitted before `row`."""
        c = row // CHECKPOINT
        base = self.checkpoints[c][k]
        start = c * CHECKPOINT
        return base + self.key[start:row].count(k)

    def _resume(self, k: int, consumed: int, cache: _FrameCache) -> Iterator[Any]:
        """Key k's items from its item number `consumed` on (0-based)."""
        i, cpu = self.keys[k]
        seq = consumed + 1
        p = bisect.bisect_right(self.page_seq[k], seq) - 1
        if p < 0:
            return iter(())
        pages = _Pages(cache, i, self.hostruns[i], cpu, self.page_frame[k][p], self.page_no[k][p])
        stream = Stream(self.hosts[i], self.streams[i].meta, {cpu: pages}, self.streams[i].timestamp)
        items = cpu_items(i, stream, cpu, self.decoders[i])
        return itertools.islice(items, seq - self.page_seq[k][p], None)

    def iter_rows(self, start: int, stop: Optional[int] = None, cache: Optional[_FrameCache] = None) -> Iterator[Row]:
        """Decoded rows start..stop-1 in merged order (stop: the rows indexed so far). A thread other than the
        UI's passes its own `cache` (frame caches hold open files and are not shared between threads)."""
        cache = cache or self._cache
        end = len(self) if stop is None else min(stop, len(self))
        its: Dict[int, Iterator[Any]] = {}
        lost_at = bisect.bisect_left(self.lost_rows, start)
        for row in range(max(0, start), end):
            k = self.key[row]
            it = its.get(k)
            if it is None:
                it = its[k] = self._resume(k, self._consumed(k, row), cache)
            item = next(it, None)
            if item is None:
                raise FleetError(f"row {row}: the run's data changed while it was open")
            lost: Optional[int] = None
            while lost_at < len(self.lost_rows) and self.lost_rows[lost_at] < row:
                lost_at += 1
            if lost_at < len(self.lost_rows) and self.lost_rows[lost_at] == row:
                lost = self.lost_counts[lost_at]
            i = self.keys[k][0]
            yield Row(row, self.ts[row], self.hosts[i], self.keys[k][1], lost, item[5], self.streams[i].raw_counts)

    def new_cache(self) -> _FrameCache:
        """A frame cache for a thread of its own (searching, filtering)."""
        return _FrameCache(16)

    def rows(self, start: int, count: int) -> List[Row]:
        return list(self.iter_rows(start, start + count))

    def row(self, row: int) -> Row:
        rows = self.rows(row, 1)
        if not rows:
            raise IndexError(row)
        return rows[0]

    def row_at_time(self, ts: int) -> int:
        """The first row at or after time `ts` (the last row when `ts` is past the end)."""
        return min(bisect.bisect_left(self.ts, ts), max(0, len(self) - 1))

    def close(self) -> None:
        self.cancel()
        self._cache.close()


def lost_label(lost: Optional[int]) -> str:
    if lost is None:
        return ""
    return "LOST ?" if lost < 0 else f"LOST {lost}"
