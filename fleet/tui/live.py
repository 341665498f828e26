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

from agent.protocol import EV_MAX_LATENCY, EVENT
from fleet.clocksync.align import SYNC_AUTO, align_host, attach_markers, shares_kernel
from fleet.clocksync.model import ClockModel
from fleet.clocksync.recorded import SYNC_PREFIX, marker_text, tsc_rate
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
from fleet.tui.study import StudyTap

if TYPE_CHECKING:
    from fleet.commands.trace import TraceRequest
    from fleet.latency.study import StudySpec

TAIL_PER_FRAME = 8
"""Newest events of each data frame that go to the live tail (the tail is a sample; the recording has all)."""


class HostTap:
    """One host's live figures, updated from what its session writes. Tail timestamps go through the host's clock
    model fitted (as `fleet report` fits it) on the sync samples and sync markers seen so far."""

    def __init__(
        self, name: str, feed: StatusFeed, shared_kernel: bool = False, study: Optional[StudyTap] = None
    ) -> None:
        self.status = HostStatus(name)
        self.feed = feed
        self.study = study
        """The live latency study this host's events also go to (fleet trace/monitor --study-from ...)."""
        self.decoder: Optional[Decoder] = None
        self.shared_kernel = shared_kernel
        self.samples: List[SyncSample] = []
        self.found: Dict[str, int] = {}
        """Sync-marker text -> trace timestamp, from the data decoded so far."""
        self.model: Optional[ClockModel] = None

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
        self._find_markers(events)
        s.events += len(events)
        s.per_cpu_events[cpu] = s.per_cpu_events.get(cpu, 0) + len(events)
        s.lost += sum(i.count or 0 for i in items if isinstance(i, Lost))
        if self.study is not None:
            self.study.add(s.host, events, self.aligned)
        tail = []
        for e in events[-TAIL_PER_FRAME:]:
            ts = self.aligned(e.ts)
            tail.append(TailEvent(s.host, ts, cpu, e.name, render_line(e, ts, ns=True)))
        self.feed.tail(tail)
        self.publish()

    def aligned(self, ts: int) -> int:
        """`ts` on the run's time line when the model knows this host's clock, else the raw trace timestamp."""
        model = self.model
        return model.aligned(ts) if model is not None and model.aligned_ok else ts

    def _find_markers(self, events: List[Event]) -> None:
        new = False
        for e in events:
            if e.name == "print" and SYNC_PREFIX in e.data:
                text = marker_text(e.data)
                if text not in self.found:
                    self.found[text] = e.ts
                    new = True
        if new:
            self.refit()

    def sync(self, sample: SyncSample) -> None:
        self.samples.append(sample)
        self.refit()

    def refit(self) -> None:
        """The clock model from the samples so far (the offline fit, run again: a few ms for hundreds of
        samples), shown as the host's offset ± uncertainty."""
        clock = self.status.trace_clock or "local"
        rate = tsc_rate(self.decoder.meta.tsc2nsec) if self.decoder is not None else None
        model = align_host(attach_markers(self.samples, self.found), clock, self.shared_kernel, rate)
        self.model = model
        if model.aligned_ok:
            self.status.offset_ns = model.offset_ns
            self.status.uncertainty_ns = model.uncertainty_ns
        self.publish()

    def event(self, frame: Dict[str, Any]) -> None:
        """An agent `event` frame: a latency tracer's new maximum becomes the host's max latency."""
        if frame.get("kind") == EV_MAX_LATENCY and frame.get("usecs") is not None:
            self.status.max_latency_us = float(frame["usecs"])
            self.publish()


class TapHostWriter(HostWriter):
    """Writes exactly what HostWriter writes, and tells the host's tap."""

    def __init__(self, run: RunWriter, entry: HostEntry, tap: HostTap) -> None:
        super().__init__(run, entry)
        self.tap = tap

    def frame(self, frame: Dict[str, Any]) -> None:
        super().frame(frame)
        kind = frame.get("t")
        if kind == "capabilities":
            self.tap.status.kernel = str(frame.get("kernel", ""))
            coord = str(self.run.manifest.coordinator.get("boot_id", ""))
            mode = str(self.run.manifest.config.get("sync", SYNC_AUTO))
            self.tap.shared_kernel = shares_kernel(str(frame.get("boot_id", "")), coord, mode)
            self.tap.publish()
        elif kind == EVENT:
            self.tap.event(frame)

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
    study: Optional[StudyTap] = None

    def add_host(self, entry: HostEntry) -> HostWriter:
        plain = super().add_host(entry)
        tap = HostTap(entry.name, self.feed, study=self.study)
        tap.status.config = dict(self.config)
        writer = TapHostWriter(self, plain.entry, tap)
        plain.frames.close()
        self.hosts[entry.name] = writer
        tap.publish()
        return writer


class LiveTrace:
    """`fleet trace` with the dashboard: the fan-out runs in a thread of its own, with its own event loop
    (no signal handlers there: the dashboard's q stops it)."""

    def __init__(self, req: TraceRequest, feed: StatusFeed, study: Optional[StudyTap] = None) -> None:
        self.req = req
        self.feed = feed
        self.study = study
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
            if self.study is not None:
                self.study.flush()
            self.feed.finish()

    def _create_writer(self, *args: Any) -> RunWriter:
        writer = TapRunWriter.create(*args)
        assert isinstance(writer, TapRunWriter)
        writer.feed, writer.config, writer.study = self.feed, self.req.config, self.study
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


def trace_with_dashboard(req: TraceRequest, study: Optional[StudySpec] = None) -> Path:
    """Record `req` while the dashboard shows it (and the live `study`, if any); returns the run directory once
    tracing ended and q was pressed."""
    from fleet.tui.dashboard import run_dashboard

    feed = StatusFeed()
    tap = StudyTap(study) if study is not None else None
    live = LiveTrace(req, feed, tap)
    live.start()
    controls = Controls(stop=live.stop, marker=live.marker, quit=live.stop)
    run_dashboard(feed, controls, title=f"fleet trace {req.output}", study=tap)
    live.stop()
    live.join()
    return req.output


class Monitor:
    """`fleet monitor`: traces into scratch run directories that are removed at the end; T starts, X stops."""

    def __init__(self, req: TraceRequest, feed: StatusFeed, study: Optional[StudyTap] = None) -> None:
        self.req = req
        self.feed = feed
        self.study = study
        """One study across every start/stop: pairs accumulate until the monitor closes."""
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
        self.live = LiveTrace(req, self.feed, self.study)
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
