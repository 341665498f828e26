"""The run directory: manifest replaced atomically, frames appended, a cut-off last frame tolerated."""

from __future__ import annotations

import json
from pathlib import Path

import msgpack
import pytest

from fleet.clocksync.samples import SyncSample
from fleet.errors import FleetError
from fleet.record import layout
from fleet.record.manifest import HostEntry
from fleet.record.reader import Run
from fleet.record.writer import RunWriter


def new_run(path: Path) -> RunWriter:
    return RunWriter.create(path, {"events": ["sched:sched_switch"]}, ["hello"], ["fleet", "trace"], "s1", 1)


def test_manifest_is_written_at_creation_and_marks_completion(tmp_path: Path) -> None:
    writer = new_run(tmp_path / "run")
    first = json.loads((tmp_path / "run" / layout.MANIFEST).read_text())
    writer.add_host(HostEntry("lab/h1", ""))
    writer.close()
    run = Run.open(tmp_path / "run")
    assert (first["format"], first["complete"], first["config"]) == (
        "fleet-run",
        False,
        {"events": ["sched:sched_switch"]},
    )
    assert run.complete is True
    assert run.host_names == ["lab/h1"]
    assert run.manifest.hosts["lab/h1"].dir == "lab_h1"
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["hosts", "manifest.json"]


def test_an_existing_nonempty_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "x").write_text("")
    with pytest.raises(FleetError, match="already exists"):
        new_run(tmp_path / "run")


def test_a_directory_without_manifest_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match="not a fleet run"):
        Run.open(tmp_path)


def test_records_come_back_in_order(tmp_path: Path) -> None:
    writer = new_run(tmp_path / "run")
    host = writer.add_host(HostEntry("h1", ""))
    host.frame({"t": "capabilities", "id": 1, "boot_id": "b"})
    host.sync(SyncSample(0, 10, 20, 12, 13, 99, "fleet-sync s1 0"))
    host.marker("hello", 30, 40)
    host.error("h1: link lost")
    writer.close()
    h = Run.open(tmp_path / "run").host("h1")
    assert h.capabilities == {"boot_id": "b"}
    assert h.sync_samples == [SyncSample(0, 10, 20, 12, 13, 99, "fleet-sync s1 0")]
    assert [(m.text, m.coord_send, m.coord_recv) for m in h.markers] == [("hello", 30, 40)]
    assert h.errors == ["h1: link lost"]
    assert h.entry.state == "error"


def test_a_cut_off_last_frame_is_skipped_and_reported(tmp_path: Path) -> None:
    writer = new_run(tmp_path / "run")
    host = writer.add_host(HostEntry("h1", ""))
    for seq in range(3):
        host.data({"t": "data", "cpu": 0, "seq": seq, "codec": "zlib", "payload": b"x" * 100, "pages": 1}, seq)
    frames = host.frames.path
    whole = frames.stat().st_size
    # A SIGKILL mid-write leaves part of a frame: append half of a fourth one.
    partial = msgpack.packb({"t": "data", "cpu": 0, "seq": 3, "payload": b"y" * 100}, use_bin_type=True)
    with open(frames, "ab") as f:
        f.write(partial[: len(partial) // 2])
    h = Run.open(tmp_path / "run").host("h1")
    assert [f["seq"] for f in h.data_frames(0)] == [0, 1, 2]
    assert (h.truncated, h.index.end.bytes_read, h.complete) == (True, whole, False)
