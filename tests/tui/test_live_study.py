"""The dashboard's live latency study, fed from real recorded lab frames (tests/tui/data/run-requests: 40 UDP
requests h1 -> h2 marked `req N sent` / `req N recv`) replayed in their arrival order across hosts through the
same TapHostWriters `fleet trace` uses: the panel finds every pair `fleet latency` finds, and the key l toggles it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import msgpack
import pytest

from agent import protocol
from fleet.clocksync.samples import SyncSample
from fleet.latency.histogram import histogram_lines
from fleet.latency.sides import Side
from fleet.latency.stats import human
from fleet.latency.study import StudySpec, run_study
from fleet.latency.timeline import clock_models
from fleet.record import layout
from fleet.record.frames import ScanEnd, scan_frames
from fleet.record.manifest import HostEntry
from fleet.record.reader import Run
from fleet.tui.dashboard import DashboardApp
from fleet.tui.live import TapHostWriter, TapRunWriter
from fleet.tui.status import StatusFeed
from fleet.tui.study import StudyTap
from tests.tui.conftest import screen_text

REQUESTS = Path(__file__).parent / "data" / "run-requests"
SPEC = StudySpec(
    Side("print", ["h1"], match=r"req (\d+) sent"),
    Side("print", ["h2"], match=r"req (\d+) recv"),
)


def arrival(frame: Dict) -> int:
    """When the coordinator received a frame (its monotonic clock): data frames' rx, sync samples' receive time,
    state records' stamp."""
    return int(frame.get(layout.RX) or frame.get("coord_recv") or frame.get("mono") or 0)


def replay(recorded: Path, tmp_path: Path, study: StudyTap, late: Optional[Dict[str, int]] = None) -> StatusFeed:
    """Every host's recorded frames through a TapHostWriter each, all hosts interleaved in arrival order (`late`:
    host -> ns added to its frames' arrival times)."""
    manifest = Run.open(recorded).manifest
    run = TapRunWriter.create(tmp_path / "run", {"events": ["ftrace:print"]}, [], ["fleet"], "s", 1)
    assert isinstance(run, TapRunWriter)
    feed = StatusFeed(tail_limit=100_000)
    run.feed, run.config, run.study = feed, {}, study
    run.manifest.coordinator["boot_id"] = manifest.coordinator.get("boot_id", "")
    timeline: List[Tuple[int, int, TapHostWriter, Dict]] = []
    for name in Run.open(recorded).host_names:
        host = run.add_host(HostEntry(name, name))
        assert isinstance(host, TapHostWriter)
        directory = recorded / layout.HOSTS_DIR / name
        frames = [f for _, f in scan_frames(directory / layout.FRAMES, ScanEnd())]
        host.frame(next(f for f in frames if f.get("t") == protocol.CAPABILITIES))
        host.metadata(msgpack.unpackb((directory / layout.METADATA).read_bytes(), raw=False))
        timeline += [
            (arrival(f), len(timeline), host, f) for f in frames if f.get("t") in (protocol.DATA, layout.REC_SYNC)
        ]
    for _, _, host, f in sorted(timeline, key=lambda x: (x[0], x[1])):
        if f["t"] == protocol.DATA:
            host.data(f, f[layout.RX])
        else:
            host.sync(SyncSample.from_dict(f))
    run.close()
    return feed


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> StudyTap:
    tap = StudyTap(SPEC)
    replay(REQUESTS, tmp_path_factory.mktemp("replay"), tap)
    tap.flush()  # what LiveTrace does when the run ends
    return tap


def recorded_study() -> List[Tuple[str, int]]:
    """(key, latency) of every pair `fleet latency` finds in the recording."""
    run = Run.open(REQUESTS)
    return [(p.key, p.latency_ns) for p in run_study(run, SPEC, clock_models(run, None)).pairs]


def test_live_study_pairs_every_request_fleet_latency_pairs(replayed: StudyTap) -> None:
    view = replayed.view()
    assert (view.count, view.unmatched, view.open) == (40, 0, 0)
    assert sorted(int(p.key) for p in replayed.pairs()) == list(range(40))


def test_live_latencies_are_the_recorded_study_within_alignment(replayed: StudyTap) -> None:
    """The live clock model is the offline fit on fewer samples: each latency agrees within a microsecond."""
    live = {p.key: p.latency_ns for p in replayed.pairs()}
    offline = dict(recorded_study())
    assert live.keys() == offline.keys()
    assert max(abs(live[k] - offline[k]) for k in live) < 1000


def test_a_host_whose_frames_arrive_half_a_second_late_still_pairs_every_request(tmp_path: Path) -> None:
    """h1's `sent` frames reach the coordinator 0.5 s after h2's `recv` frames of the same time: the reorder buffer
    holds each event until one a second later (aligned) has arrived, so pairing still sees them in time order."""
    tap = StudyTap(SPEC, clock=lambda: 0.0)
    replay(REQUESTS, tmp_path, tap, late={"h1": 500_000_000})
    tap.flush()
    view = tap.view()
    assert (view.count, view.unmatched, view.open) == (40, 0, 0)


def panel(app: DashboardApp) -> Optional[str]:
    text = screen_text(app)
    return text if "pairs " in text else None


async def test_dashboard_panel_shows_count_percentiles_and_histogram(replayed: StudyTap) -> None:
    view = replayed.view()
    app = DashboardApp(StatusFeed(), title="fleet trace run", study=replayed)
    async with app.run_test(size=(160, 60)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "pairs 40  unmatched 0  open 0" in text
        assert f"p50 {human(view.summary.p50_ns)}  p99 {human(view.summary.p99_ns)}" in text
        assert view.histogram == histogram_lines([ns for _, ns in recorded_study()])
        assert all(row in text for row in view.histogram)
        assert "print ~ /req (\\d+) sent/ on h1 -> print ~ /req (\\d+) recv/ on h2" in text
        await pilot.press("l")
        await pilot.pause()
        assert panel(app) is None
        await pilot.press("l")
        await pilot.pause()
        assert panel(app) is not None


async def test_help_lists_the_study_key_and_l_without_a_study_says_how_to_start_one() -> None:
    app = DashboardApp(StatusFeed(), title="fleet trace run")
    async with app.run_test(size=(160, 60)) as pilot:
        await pilot.press("l")
        await pilot.pause()
        assert app.note == "no latency study: start with --study-from EVENT --study-to EVENT"
        await pilot.press("question_mark")
        await pilot.pause()
        assert re.search(r"│ l +live latency study panel on/off +│", screen_text(app))


def test_trace_and_monitor_take_fleet_latencys_side_flags_with_a_study_prefix() -> None:
    from fleet.cli import build_parser
    from fleet.commands.latency import study_spec
    from fleet.errors import UsageError

    for command in ("trace", "monitor"):
        args = build_parser().parse_args(
            [command, "-e", "ftrace:print", "--study-from", "print", "--study-from-hosts", "h1",
             "--study-from-match", r"req (\d+) sent", "--study-to", "print", "--study-to-hosts", "h2",
             "--study-to-match", r"req (\d+) recv"]
        )  # fmt: skip
        assert study_spec(args, ["h1", "h2", "h3"], None, "study-") == SPEC
        half = build_parser().parse_args([command, "-e", "ftrace:print", "--study-from", "print"])
        with pytest.raises(UsageError, match="a study needs both --study-from EVENT and --study-to EVENT"):
            study_spec(half, ["h1"], None, "study-")
        assert study_spec(build_parser().parse_args([command]), ["h1"], None, "study-") is None
