"""Merging already rendered per-CPU lines onto one time line, in this process or with one worker process per lane.

A lane is one CPU of one stream yielding (timestamps, lines) chunks in its own order. The output order is exactly
fleet.merge.merged's (a heap merge by timestamp; ties: lane order, then each lane's order) but is produced in
batches: every line older than the newest timestamp all unfinished lanes have reached is sorted at once. If a
lane's timestamps ever go backwards, the rest is merged item by item as heapq.merge would.

With workers (fork), each lane decodes and renders in its own process and sends bounded chunks through a pipe;
the calling process only merges and writes, so a trace of two CPUs renders on two cores.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import pickle
import queue
import signal
import threading
from bisect import bisect_left
from multiprocessing.connection import Connection
from typing import Any, Callable, Iterator, List, Optional, Tuple

from fleet.errors import FleetError

Chunk = Tuple[List[int], List[str], int]
"""(timestamps, lines, events among them): see fleet.ftrace.lines."""
LaneFactory = Callable[[], Iterator[Chunk]]
"""Builds a lane's chunk iterator; called in the worker process (after fork) when running in parallel."""

CHUNK_ITEMS = 4096
"""Items per chunk a worker sends: big enough to amortise pickling, small enough to keep memory bounded."""
CHUNK_BYTES = 600_000
"""About what a chunk of CHUNK_ITEMS lines weighs pickled."""
QUEUE_BYTES = 64_000_000
"""Chunks received but not merged yet, all lanes together, at most about this many bytes."""


class _Lane:
    """A lane's unmerged items and where more come from; `ordered` turns False once its timestamps go back."""

    __slots__ = ("ts", "lines", "more", "done", "ordered", "tally")

    def __init__(self, more: Callable[[], Optional[Chunk]], tally: List[int]) -> None:
        self.tally = tally
        self.ts: List[int] = []
        self.lines: List[str] = []
        self.more = more
        self.done = False
        self.ordered = True

    def pull(self) -> None:
        """Append the next chunk (or mark the lane done)."""
        chunk = self.more()
        if chunk is None:
            self.done = True
            return
        ts, lines, events = chunk
        self.tally[0] += events
        if not ts:
            return
        if self.ordered and ((self.ts and ts[0] < self.ts[-1]) or ts != sorted(ts)):
            self.ordered = False
        self.ts += ts
        self.lines += lines


def _iter_source(it: Iterator[Chunk]) -> Callable[[], Optional[Chunk]]:
    def more() -> Optional[Chunk]:
        return next(it, None)

    return more


def merge_lanes(lanes: List[Callable[[], Optional[Chunk]]], tally: Optional[List[int]] = None) -> Iterator[List[str]]:
    """Batches of lines in time-line order from lanes given as `more()` callables (None when a lane ends);
    `tally[0]` counts the events read so far."""
    tally = tally if tally is not None else [0]
    state = [_Lane(m, tally) for m in lanes]
    while True:
        for lane in state:
            while not lane.done and not lane.ts:
                lane.pull()
        if not all(lane.ordered for lane in state):
            yield from _exact(state)
            return
        open_ = [lane for lane in state if not lane.done]
        full = [lane for lane in state if lane.ts]
        if not full:
            return
        if len(full) == 1 and len(open_) <= 1:
            # One lane left with data (and nothing else will arrive elsewhere): pass its lines straight through.
            lane = full[0]
            batch = lane.lines
            lane.ts, lane.lines = [], []
            yield batch
            if not lane.done:
                lane.pull()
            continue
        horizon = min(lane.ts[-1] for lane in open_) if open_ else None
        keys: List[int] = []
        lines: List[str] = []
        parts = 0
        for lane in full:
            k = len(lane.ts) if horizon is None else bisect_left(lane.ts, horizon)
            if not k:
                continue
            parts += 1
            keys += lane.ts[:k]
            lines += lane.lines[:k]
            del lane.ts[:k]
            del lane.lines[:k]
        if parts > 1:
            order = sorted(range(len(keys)), key=keys.__getitem__)  # stable: ties keep lane order, then lane order
            lines = [lines[i] for i in order]
        if lines:
            yield lines
        for lane in open_:  # a lane holding only items at the horizon needs its next chunk to move it on
            if lane.ts and lane.ts[-1] == horizon:
                lane.pull()


def _exact(state: List[_Lane]) -> Iterator[List[str]]:
    """The rest of every lane merged item by item (heapq.merge's order, for timestamps that go backwards)."""

    def items(index: int, lane: _Lane) -> Iterator[Tuple[int, int, int, str]]:
        seq = 0
        while True:
            for ts, line in zip(lane.ts, lane.lines):
                seq += 1
                yield ts, index, seq, line
            lane.ts, lane.lines = [], []
            if lane.done:
                return
            lane.pull()

    batch: List[str] = []
    for item in heapq.merge(*(items(i, lane) for i, lane in enumerate(state))):
        batch.append(item[3])
        if len(batch) >= CHUNK_ITEMS:
            yield batch
            batch = []
    if batch:
        yield batch


def merged_lines(
    factories: List[LaneFactory], workers: bool = False, tally: Optional[List[int]] = None
) -> Iterator[List[str]]:
    """Batches of every lane's lines in time-line order; with `workers`, each lane renders in a forked process.
    `tally[0]` counts the events (not loss lines, not filtered placeholders) read so far."""
    if not workers or len(factories) < 2:
        yield from merge_lanes([_iter_source(f()) for f in factories], tally)
        return
    ctx = multiprocessing.get_context("fork")
    procs: List[Any] = []
    conns: List[Connection] = []
    readers: List[_Reader] = []
    try:
        for factory in factories:
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, args=(factory, send), daemon=True)
            proc.start()
            send.close()
            procs.append(proc)
            conns.append(recv)
        depth = max(2, QUEUE_BYTES // (CHUNK_BYTES * len(conns)))
        readers = [_Reader(c, depth) for c in conns]
        yield from merge_lanes([r.more for r in readers], tally)
    finally:
        for reader in readers:
            reader.stopped.set()
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join()
        for reader in readers:  # their workers are gone: a blocked read ends with EOF
            reader.thread.join()
        for conn in conns:
            conn.close()


class _Reader:
    """Drains one worker's pipe into a bounded queue on a thread, so a worker can run ahead of the merge (the lane
    the merge needs next is not always the one that rendered fastest) while memory stays bounded."""

    def __init__(self, conn: Connection, depth: int) -> None:
        self.queue: queue.Queue[Optional[bytes]] = queue.Queue(depth)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(conn,), daemon=True)
        self.thread.start()

    def _run(self, conn: Connection) -> None:
        data: Optional[bytes] = None
        while not self.stopped.is_set():
            try:
                data = conn.recv_bytes()
            except (EOFError, OSError):
                data = None
            while not self.stopped.is_set():
                try:
                    self.queue.put(data, timeout=0.2)
                    break
                except queue.Full:
                    pass
            if data is None:
                return

    def more(self) -> Optional[Chunk]:
        data = self.queue.get()
        if data is None:
            raise FleetError("a report worker process ended without finishing its CPU")
        msg = pickle.loads(data)
        if msg is None or isinstance(msg[0], list):
            return msg
        raise msg[1]


def _worker(factory: LaneFactory, conn: Connection) -> None:
    """Runs in the forked process: render the lane, send it in chunks of CHUNK_ITEMS, then None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers itself
    try:
        ts: List[int] = []
        lines: List[str] = []
        events = 0
        try:
            for a, b, n in factory():
                ts += a
                lines += b
                events += n
                if len(ts) >= CHUNK_ITEMS:
                    conn.send((ts, lines, events))
                    ts, lines, events = [], [], 0
            if ts:
                conn.send((ts, lines, events))
            conn.send(None)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # handed to the parent, which raises it where the lane is read
            error = exc if isinstance(exc, FleetError) else FleetError(f"{type(exc).__name__}: {exc}")
            try:
                pickle.loads(pickle.dumps(error))  # an exception class that cannot travel becomes a FleetError
            except Exception:
                error = FleetError(str(exc))
            conn.send(("error", error))
        conn.close()
    finally:
        os._exit(0)
