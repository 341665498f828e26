"""The live tap on a recorded host's real frames, replayed in their arrival order through TapHostWriter: the
dashboard's offset and tail times come from the same clock model `fleet report` fits, and a latency tracer's
max_latency event frame becomes the host's max latency."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import msgpack

from agent import protocol
from fleet.clocksync.recorded import run_models
from fleet.clocksync.samples import SyncSample
from fleet.ftrace.render import render_line
from fleet.record import layout
from fleet.record.frames import ScanEnd, scan_frames
from fleet.record.manifest import HostEntry
from fleet.record.reader import Run
from fleet.tui.live import TapHostWriter, TapRunWriter
from fleet.tui.run_index import RunIndex
from fleet.tui.status import StatusFeed, TailEvent


def tap_writer(tmp_path: Path, coord_boot_id: str = "") -> Tuple[TapRunWriter, TapHostWriter, StatusFeed]:
    run = TapRunWriter.create(tmp_path / "run", {"events": ["sched:sched_switch"]}, [], ["fleet"], "s", 1)
    assert isinstance(run, TapRunWriter)
    feed = StatusFeed(tail_limit=100_000)
    run.feed, run.config = feed, {}
    run.manifest.coordinator["boot_id"] = coord_boot_id
    host = run.add_host(HostEntry("localhost", "localhost"))
    assert isinstance(host, TapHostWriter)
    return run, host, feed


def replay(recorded: Path, host: TapHostWriter, feed: StatusFeed) -> List[Tuple[bool, TailEvent]]:
    """Feeds one recorded host's frames to `host`; returns each tail event, marked True when the host's clock
    model had already taken in its last sync sample and marker when the event was published."""
    directory = recorded / layout.HOSTS_DIR / "localhost"
    frames = [f for _, f in scan_frames(directory / layout.FRAMES, ScanEnd())]
    caps = next(f for f in frames if f.get("t") == protocol.CAPABILITIES)
    host.frame(caps)
    host.metadata(msgpack.unpackb((directory / layout.METADATA).read_bytes(), raw=False))
    published: List[Tuple[int, int, TailEvent]] = []
    for f in frames:
        if f.get("t") == protocol.DATA:
            host.data(f, f[layout.RX])
        elif f.get("t") == layout.REC_SYNC:
            host.sync(SyncSample.from_dict(f))
        published += [(len(host.tap.samples), len(host.tap.found), t) for t in feed.take(0.0).tail]
    n_samples, n_found = len(host.tap.samples), len(host.tap.found)
    return [(s == n_samples and m == n_found, t) for s, m, t in published]


def cpu_on(line: str) -> str:
    return line[line.index(" [") :]


def test_live_offset_is_the_report_clock_model(small_run: Path, tmp_path: Path) -> None:
    coord_boot = Run.open(small_run).manifest.coordinator.get("boot_id", "")
    run, host, feed = tap_writer(tmp_path, coord_boot)
    replay(small_run, host, feed)
    model = run_models(Run.open(small_run))["localhost"]
    assert host.tap.model is not None and host.tap.model.markers == model.markers > 0
    assert host.tap.status.offset_ns == model.offset_ns
    assert host.tap.status.uncertainty_ns == model.uncertainty_ns
    run.close()


def test_live_tail_times_are_the_report_times_once_the_model_is_final(small_run: Path, tmp_path: Path) -> None:
    coord_boot = Run.open(small_run).manifest.coordinator.get("boot_id", "")
    run, host, feed = tap_writer(tmp_path, coord_boot)
    tail = replay(small_run, host, feed)
    index = RunIndex(small_run)
    index.build()
    # From the CPU column on (the live decoder may not know a task's comm yet and prints <...>).
    report = {cpu_on(render_line(r.event, r.ts, ns=True)) for r in index.rows(0, len(index)) if r.event is not None}
    final = [t for is_final, t in tail if is_final]
    assert final, "no tail event was published after the last sync sample"
    assert [t.line for t in final if cpu_on(t.line) not in report] == []
    run.close()


def test_max_latency_event_frame_sets_the_host_max_latency(tmp_path: Path) -> None:
    run, host, feed = tap_writer(tmp_path)
    assert host.tap.status.max_latency_us is None
    for usecs in (57, 212):
        sent = protocol.frame(
            protocol.EVENT, kind=protocol.EV_MAX_LATENCY, message=f"new maximum latency {usecs} us", at=1, usecs=usecs
        )
        host.frame(msgpack.unpackb(msgpack.packb(sent, use_bin_type=True), raw=False))
    assert host.tap.status.max_latency_us == 212.0
    assert feed.take(0.0).hosts[-1].max_latency_us == 212.0
    run.close()


def test_the_host_table_shows_the_tracer_and_its_max_latency() -> None:
    from fleet.tui.dashboard import host_line
    from fleet.tui.dashboard_model import HostRow
    from fleet.tui.status import HostStatus

    status = HostStatus("vm1", state="tracing", config={"tracer": "wakeup_rt"}, max_latency_us=212.0)
    line = host_line(HostRow(status, 0), "green").plain
    assert line.split()[-2:] == ["212us", "wakeup_rt"]
