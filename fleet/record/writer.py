"""Writing a run directory while tracing: frames appended as they arrive, the manifest replaced atomically."""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import msgpack

from agent.probe import boot_id  # the coordinator compares its own boot id with the hosts' (shared kernel)
from fleet import __version__
from fleet.clocksync.samples import SyncSample
from fleet.errors import FleetError
from fleet.record import layout
from fleet.record.frames import FrameFile
from fleet.record.manifest import HostEntry, Manifest


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class HostWriter:
    """One host's part of the run: its frames file, its metadata file and its manifest entry."""

    def __init__(self, run: RunWriter, entry: HostEntry) -> None:
        self.run = run
        self.entry = entry
        self.directory = run.path / layout.HOSTS_DIR / entry.dir
        self.directory.mkdir(parents=True, exist_ok=True)
        self.frames = FrameFile(self.directory / layout.FRAMES)
        self.data_frames = 0
        self.data_bytes = 0

    @property
    def name(self) -> str:
        return self.entry.name

    def frame(self, frame: Dict[str, Any]) -> None:
        """Append an agent frame as received."""
        self.frames.append(frame)

    def data(self, frame: Dict[str, Any], rx_ns: int) -> None:
        """Append a data frame (payload stored as received, compressed) with its arrival time."""
        frame[layout.RX] = rx_ns
        self.frames.append(frame)
        self.data_frames += 1
        self.data_bytes += len(frame.get("payload", b""))

    def metadata(self, frame: Dict[str, Any]) -> None:
        """Store the agent's metadata frame (header texts, formats, kallsyms) once, atomically."""
        tmp = self.directory / (layout.METADATA + ".tmp")
        tmp.write_bytes(msgpack.packb(frame, use_bin_type=True))
        os.replace(tmp, self.directory / layout.METADATA)
        self.entry.trace_clock = str(frame.get("trace_clock", ""))

    def sync(self, sample: SyncSample) -> None:
        self.frames.append({"t": layout.REC_SYNC, **sample.to_dict()})

    def marker(self, text: str, coord_send: int, coord_recv: int) -> None:
        self.frames.append({"t": layout.REC_MARKER, "text": text, "coord_send": coord_send, "coord_recv": coord_recv})

    def state(self, state: str, detail: str = "") -> None:
        """Record a state change in the frames file and the manifest."""
        self.frames.append(
            {
                "t": layout.REC_STATE,
                "state": state,
                "detail": detail,
                "mono": time.monotonic_ns(),
                "realtime": time.time_ns(),
            }
        )
        self.entry.state = state
        self.run.save()

    def error(self, message: str) -> None:
        """The host failed: keep the cause in both places a reader looks."""
        self.frames.append({"t": layout.REC_ERROR, "message": message})
        self.entry.error = message
        self.entry.state = "error"
        self.run.save()

    def close(self) -> None:
        try:
            self.frames.sync()
        finally:
            self.frames.close()


class RunWriter:
    """A new run directory; create it with `RunWriter.create`, add hosts, close at the end."""

    def __init__(self, path: Path, manifest: Manifest) -> None:
        self.path = path
        self.manifest = manifest
        self.hosts: Dict[str, HostWriter] = {}

    @classmethod
    def create(
        cls,
        path: Path,
        config: Dict[str, Any],
        markers: List[str],
        command: List[str],
        session: str,
        protocol_version: int,
    ) -> RunWriter:
        """Make the run directory (it must not exist or be empty) and write the first manifest."""
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise FleetError(f"{path}: already exists; choose another -o or remove it")
        try:
            (path / layout.HOSTS_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FleetError(f"{path}: cannot create the run directory ({exc.strerror})") from None
        manifest = Manifest(
            run_id=path.name,
            session=session,
            created=utc_now(),
            fleet_version=__version__,
            protocol_version=protocol_version,
            command=command,
            config=config,
            markers=markers,
            coordinator={
                "hostname": socket.gethostname(),
                "boot_id": boot_id(),
                "monotonic_ns": time.monotonic_ns(),
                "realtime_ns": time.time_ns(),
            },
        )
        writer = cls(path, manifest)
        writer.save()
        return writer

    def add_host(self, entry: HostEntry) -> HostWriter:
        taken = {h.dir for h in self.manifest.hosts.values()}
        base, n = entry.dir or layout.host_dir_name(entry.name), 1
        entry.dir = base
        while entry.dir in taken:
            n += 1
            entry.dir = f"{base}-{n}"
        self.manifest.hosts[entry.name] = entry
        writer = HostWriter(self, entry)
        self.hosts[entry.name] = writer
        self.save()
        return writer

    def save(self, durable: bool = False) -> None:
        self.manifest.save(self.path, durable)

    def mark_started(self) -> None:
        self.manifest.started = utc_now()
        self.save()

    def close(self, stopped: Optional[str] = None) -> None:
        """Finish the run: sync every frames file, then mark the manifest complete."""
        for host in self.hosts.values():
            host.close()
        self.manifest.stopped = stopped or utc_now()
        self.manifest.complete = True
        self.save(durable=True)
