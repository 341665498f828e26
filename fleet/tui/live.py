"""The coordinator side of the live dashboard: a run writer that also reports every host's progress into a
StatusFeed, and LiveTrace, which runs the coordinator's fan-out in a thread while the dashboard owns the terminal.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from fleet.clocksync.samples import SyncSample
from fleet.errors import FleetError
from fleet.ftrace.events import Decoder, Event, Lost
from fleet.ftrace.render import render_line
from fleet.ftrace.ringbuf import split_pages
from fleet.record.manifest import HostEntry
from fleet.record.payload import frame_pages_blob
from fleet.record.reader import HostRun
from fleet.record.writer import HostWriter, RunWriter
from fleet.tui.status import Controls, HostStatus, StatusFeed, TailEvent

if TYPE_CHECKING:
    from fleet.commands.trace import TraceRequest

TAIL_PER_FRAME = 8
"""Newest events of each data frame that go to the live tail (the tail is a sample; the recording has all)."""


class HostTap:
    """One host's live figures, updated from what its session writes."""

    def __init__(self, name: str, feed: StatusFeed) -> None:
        self.status = HostStatus(name)
        self.feed = feed
        self.decoder: Optional[Decoder] = None
        self.best_rtt: Optional[int] = None

    def publish(self) -> None:
        self.feed.host(self.status)

    def data(self, frame: Dict[str, Any]) -> None:
        s = self.status
        s.bytes += len(frame.get("payload", b""))
        if self.decoder is None:
            self.publish()
            return
        cpu = int(frame.get("cpu", 0))
        try:
            pages = list(split_pages(frame_pages_blob(frame), self.decoder.header))
            items = list(self.decoder.decode_pages(cpu, pages))
        except FleetError as exc:
            s.errors.append(f"live decode: {exc}")
            self.publish()
            return
        events = [i for i in items if isinstance(i, Event)]
        s.events += len(events)
        s.per_cpu_events[cpu] = s.per_cpu_events.get(cpu, 0) + len(events)
        s.lost += sum(i.count or 0 for i in items if isinstance(i, Lost))
        self.feed.tail(
            [TailEvent(s.host, e.ts, cpu, e.name, render_line(e, ns=True)) for e in events[-TAIL_PER_FRAME:]]
        )
        self.publish()

    def sync(self, sample: SyncSample) -> None:
        # Host CLOCK_MONOTONIC against the coordinator's, from the tightest round trip so far (± half of it).
        rtt = sample.coord_recv - sample.coord_send
        if self.best_rtt is None or rtt < self.best_rtt:
            self.best_rtt = rtt
            host_mid = (sample.host_before + sample.host_after) / 2
            coord_mid = (sample.coord_send + sample.coord_recv) / 2
            self.status.offset_ns = host_mid - coord_mid
            self.status.uncertainty_ns = max(0.0, (rtt - (sample.host_after - sample.host_before)) / 2)
            self.publish()


class TapHostWriter(HostWriter):
    """Writes exactly what HostWriter writes, and tells the host's tap."""

    def __init__(self, run: RunWriter, entry: HostEntry, tap: HostTap) -> None:
        super().__init__(run, entry)
        self.tap = tap

    def frame(self, frame: Dict[str, Any]) -> None:
        super().frame(frame)
        if frame.get("t") == "capabilities":
            self.tap.status.kernel = str(frame.get("kernel", ""))
            self.tap.publish()

    def data(self, frame: Dict[str, Any], rx_ns: int) -> None:
        super().data(frame, rx_ns)
        self.tap.data(frame)

    def metadata(self, frame: Dict[str, Any]) -> None:
        super().metadata(frame)
        try:
            self.tap.decoder = Decoder(HostRun(self.run.path, self.entry).meta)
        except FleetError as exc:
            self.tap.status.errors.append(f"live view cannot decode: {exc}")
        self.tap.status.trace_clock = str(frame.get("trace_clock", ""))
        self.tap.publish()

    def sync(self, sample: SyncSample) -> None:
        super().sync(sample)
        self.tap.sync(sample)

    def state(self, state: str, detail: str = "") -> None:
        super().state(state, detail)
        self.tap.status.state, self.tap.status.detail = state, detail
        self.tap.publish()

    def error(self, message: str) -> None:
        super().error(message)
        self.tap.status.errors.append(message)
        self.tap.status.state = "error"
        self.tap.publish()


class TapRunWriter(RunWriter):
    """A RunWriter whose hosts report into `feed` (set right after create())."""

    feed: StatusFeed
    config: Dict[str, Any]

    def add_host(self, entry: HostEntry) -> HostWriter:
        plain = super().add_host(entry)
        tap = HostTap(entry.name, self.feed)
        tap.status.config = dict(self.config)
        writer = TapHostWriter(self, plain.entry, tap)
        plain.frames.close()
        self.hosts[entry.name] = writer
        tap.publish()
        return writer


class LiveTrace:
    """`fleet trace` with the dashboard: the fan-out runs in a thread of its own, with its own event loop
    (no signal handlers there: the dashboard's q stops it)."""

    def __init__(self, req: TraceRequest, feed: StatusFeed) -> None:
        self.req = req
        self.feed = feed
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.fanout: Any = None
        self.thread = threading.Thread(target=self._main, name="fleet-coordinator", daemon=True)
        self.failure: Optional[BaseException] = None

    def start(self) -> None:
        self.thread.start()

    def join(self) -> None:
        self.thread.join()
        if self.failure is not None:
            raise self.failure

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def _main(self) -> None:
        from fleet.commands.trace import execute

        try:
            execute(self.req, _FeedProgress(self.feed), self._create_writer, on_fanout=self._attach, signals=False)
            self.feed.message(f"run recorded in {self.req.output}")
        except BaseException as exc:  # reported by join(); the dashboard shows the message meanwhile
            self.failure = exc
            self.feed.message(f"tracing failed: {exc}")
        finally:
            self.feed.finish()

    def _create_writer(self, *args: Any) -> RunWriter:
        writer = TapRunWriter.create(*args)
        assert isinstance(writer, TapRunWriter)
        writer.feed, writer.config = self.feed, self.req.config
        return writer

    def _attach(self, fanout: Any) -> None:
        """Called in the coordinator's loop once the sessions exist, so the dashboard's keys can reach them."""
        self.loop = asyncio.get_running_loop()
        self.fanout = fanout

    # --- controls (called from the dashboard's thread) -------------------------------------------------------
    def stop(self) -> None:
        if self.loop is not None and self.fanout is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.fanout.stop.set)

    def marker(self, text: str) -> None:
        if self.loop is None or self.fanout is None or self.loop.is_closed():
            return
        for s in self.fanout.sessions:
            if s.started and s.link is not None and s.state == "tracing":
                asyncio.run_coroutine_threadsafe(s.marker(text), self.loop)


class _FeedProgress:
    """Host states reach the dashboard through the tapped writer; run-wide lines become dashboard messages."""

    def __init__(self, feed: StatusFeed) -> None:
        self.feed = feed

    def __call__(self, host: str, state: str, detail: str = "") -> None:
        pass

    def line(self, message: str) -> None:
        self.feed.message(message)


def trace_with_dashboard(req: TraceRequest) -> Path:
    """Record `req` while the dashboard shows it; returns the run directory once tracing ended and q was pressed."""
    from fleet.tui.dashboard import run_dashboard

    feed = StatusFeed()
    live = LiveTrace(req, feed)
    live.start()
    run_dashboard(feed, Controls(stop=live.stop, marker=live.marker, quit=live.stop), title=f"fleet trace {req.output}")
    live.stop()
    live.join()
    return req.output


class Monitor:
    """`fleet monitor`: traces into scratch run directories that are removed at the end; T starts, X stops."""

    def __init__(self, req: TraceRequest, feed: StatusFeed) -> None:
        self.req = req
        self.feed = feed
        self.scratch = Path(tempfile.mkdtemp(prefix="fleet-monitor-"))
        self.live: Optional[LiveTrace] = None
        self.runs = 0

    def start(self) -> None:
        if self.live is not None and self.live.running:
            self.feed.message("already tracing")
            return
        from dataclasses import replace

        self.runs += 1
        req = replace(self.req, output=self.scratch / f"run{self.runs}", markers=list(self.req.markers))
        self.live = LiveTrace(req, self.feed)
        self.live.start()

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()

    def marker(self, text: str) -> None:
        if self.live is not None:
            self.live.marker(text)

    def close(self) -> None:
        self.stop()
        if self.live is not None:
            deadline = time.monotonic() + 120
            self.live.thread.join(max(0.0, deadline - time.monotonic()))
        shutil.rmtree(self.scratch, ignore_errors=True)

    def controls(self) -> Controls:
        return Controls(start=self.start, stop=self.stop, marker=self.marker, quit=self.stop)


__all__: List[str] = ["LiveTrace", "Monitor", "TapRunWriter", "trace_with_dashboard"]
