"""Per-CPU readers of per_cpu/cpuN/trace_pipe_raw: pages truncated to their used part, batched, compressed,
sequence-numbered and sent against credits.

Reading follows the lab-measured behaviour: poll() wakes only when the instance's buffer_percent is reached (so
pages arrive nearly full), a periodic non-blocking drain (which returns partial pages) keeps a live view fresh,
and a final drain after tracing_on=0 collects the rest.
"""

from __future__ import annotations

import os
import select
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Literal

from agent import protocol
from agent.cleanup import start_worker
from agent.codec import Codec
from agent.credits import Credits
from agent.wire import Writer

# Flags the kernel keeps in the high bits of a page's commit field (kernel/trace/ring_buffer.c).
RB_MISSED_EVENTS = 1 << 31  # events were lost before this page
RB_MISSED_STORED = 1 << 30  # ... and their count is stored as a long right after the data
RB_COMMIT_MASK = RB_MISSED_STORED - 1


@dataclass
class PageLayout:
    """Where a page's header fields are (from events/header_page) and how big a page is."""

    commit_offset: int = 8
    commit_size: int = 8
    data_offset: int = 16
    subbuf_size: int = 4096
    long_size: int = 8
    byteorder: Literal["little", "big"] = "little"


@dataclass
class CpuTally:
    """What one reader sent and what the page headers said was lost."""

    frames: int = 0
    pages: int = 0
    raw_bytes: int = 0
    sent_bytes: int = 0
    missed_events: int = 0
    missed_unknown_pages: int = 0  # pages flagged RB_MISSED_EVENTS without a stored count

    def as_dict(self) -> Dict[str, int]:
        return {
            "sent_frames": self.frames,
            "sent_pages": self.pages,
            "sent_raw_bytes": self.raw_bytes,
            "sent_bytes": self.sent_bytes,
            "missed_events": self.missed_events,
            "missed_unknown_pages": self.missed_unknown_pages,
        }


@dataclass
class ReaderOptions:
    batch_pages: int = 64  # pages per data frame at most
    flush_interval: float = 0.2  # seconds: the longest a page waits in the kernel or a batch while tracing


@dataclass
class CpuReader:
    """Reads one CPU's raw pages in its own thread until told to finish (final drain) or abort."""

    cpu: int
    path: str
    layout: PageLayout
    writer: Writer
    credits: Credits
    codec: Codec
    options: ReaderOptions
    on_error: Callable[[int, str], None]
    tally: CpuTally = field(default_factory=CpuTally)
    seq: int = 0
    finishing: bool = False
    aborted: bool = False

    def __post_init__(self) -> None:
        self.wake_r, self.wake_w = os.pipe()
        self.thread = threading.Thread(target=self.run, name=f"reader-cpu{self.cpu}", daemon=True)

    def start(self) -> None:
        start_worker(self.thread)

    def finish(self) -> None:
        """Tracing has stopped: drain what is left, send it, and end."""
        self.finishing = True
        os.write(self.wake_w, b"f")

    def abort(self) -> None:
        self.aborted = True
        os.write(self.wake_w, b"a")

    def join(self, timeout: float = 10.0) -> None:
        if self.thread.ident is not None:  # a signal may land between creation and start
            self.thread.join(timeout)
        for fd in (self.wake_r, self.wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def run(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            self.on_error(self.cpu, f"open {self.path}: {exc.strerror}")
            return
        try:
            self.loop(fd)
        except Exception as exc:  # a reader must report, never die silently
            if not self.aborted:
                self.on_error(self.cpu, f"{self.path}: {exc}")
        finally:
            os.close(fd)

    def loop(self, fd: int) -> None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.register(self.wake_r, select.POLLIN)
        batch: List[bytes] = []
        last_flush = time.monotonic()
        interval = self.options.flush_interval
        while not self.aborted:
            finishing = self.finishing  # read before draining: a finish() after this drain loops once more
            self.drain(fd, batch)
            if self.aborted:
                return
            if finishing:
                self.flush(batch)
                return
            now = time.monotonic()
            if batch and now - last_flush >= interval:
                self.flush(batch)
                last_flush = now
            elif not batch:
                last_flush = now
            poller.poll(max(1, int((interval - (time.monotonic() - last_flush)) * 1000)))

    def drain(self, fd: int, batch: List[bytes]) -> None:
        """Read pages until the kernel has none ready (EAGAIN), flushing full batches on the way."""
        size = self.layout.subbuf_size
        while not self.aborted:
            try:
                page = os.read(fd, size)
            except BlockingIOError:
                return
            if not page:
                return
            used = self.account(page)
            if used:
                batch.append(page[:used] if used < len(page) else page)
            if len(batch) >= self.options.batch_pages:
                self.flush(batch)

    def account(self, page: bytes) -> int:
        """Bytes of `page` worth sending (header + commit [+ stored missed count]); tallies lost events."""
        lay = self.layout
        if len(page) < lay.data_offset:
            return 0
        raw = int.from_bytes(page[lay.commit_offset : lay.commit_offset + lay.commit_size], lay.byteorder)
        commit = raw & RB_COMMIT_MASK
        used = lay.data_offset + commit
        if raw & RB_MISSED_EVENTS:
            if raw & RB_MISSED_STORED:
                self.tally.missed_events += int.from_bytes(page[used : used + lay.long_size], lay.byteorder)
                used += lay.long_size
            else:
                self.tally.missed_unknown_pages += 1
        elif commit == 0:
            return 0
        return min(used, len(page))

    def flush(self, batch: List[bytes]) -> None:
        if not batch:
            return
        if not self.credits.take():
            self.aborted = True
            return
        payload = b"".join(batch)
        packed = self.codec.compress(payload)
        frame: Dict[str, Any] = protocol.frame(
            protocol.DATA,
            cpu=self.cpu,
            seq=self.seq,
            codec=self.codec.name,
            payload=packed,
            pages=len(batch),
            raw_bytes=len(payload),
        )
        self.writer.send(frame)
        self.seq += 1
        self.tally.frames += 1
        self.tally.pages += len(batch)
        self.tally.raw_bytes += len(payload)
        self.tally.sent_bytes += len(packed)
        batch.clear()
