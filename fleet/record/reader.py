"""Reading a run directory back: per host its TraceMeta, raw pages per CPU, sync samples, stats and errors.

Tolerates a run whose coordinator was killed: the manifest is always whole (atomic replace), and a frames file
is read up to its last complete frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import msgpack

from fleet.clocksync.samples import SyncSample
from fleet.errors import FleetError
from fleet.ftrace.meta import TraceMeta
from fleet.ftrace.ringbuf import PageHeader, parse_header_page, split_pages
from fleet.record import layout
from fleet.record.frames import ScanEnd, read_frame_at, scan_frames
from fleet.record.manifest import HostEntry, Manifest
from fleet.record.payload import decompress, frame_pages_blob


@dataclass
class MarkerRecord:
    """A -m marker the coordinator asked the host to write (coordinator CLOCK_MONOTONIC around the request)."""

    text: str
    coord_send: int
    coord_recv: int


@dataclass
class StateRecord:
    state: str
    detail: str
    mono: int
    realtime: int


@dataclass
class HostIndex:
    """What one pass over a frames file found; data frames are kept as file offsets and read on demand."""

    data: Dict[int, List[int]] = field(default_factory=dict)
    """CPU -> offsets of its data frames, in seq order."""
    data_frames: int = 0
    data_bytes: int = 0
    raw_bytes: int = 0
    pages: int = 0
    first_rx: Optional[int] = None
    capabilities: Dict[str, Any] = field(default_factory=dict)
    metadata_end: Optional[Dict[str, Any]] = None
    sync: List[SyncSample] = field(default_factory=list)
    markers: List[MarkerRecord] = field(default_factory=list)
    states: List[StateRecord] = field(default_factory=list)
    events: List[Dict[str, Any]] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    stats: List[Dict[str, Any]] = field(default_factory=list)
    seq_gaps: List[Tuple[int, int, int]] = field(default_factory=list)
    """(cpu, expected seq, seq found): data frames missing from the recording (should never happen)."""
    end: ScanEnd = field(default_factory=ScanEnd)


def index_frames(path: Path) -> HostIndex:
    idx = HostIndex()
    if not path.exists():
        return idx
    next_seq: Dict[int, int] = {}
    for offset, frame in scan_frames(path, idx.end):
        kind = frame.get("t")
        if kind == "data":
            cpu = int(frame["cpu"])
            seq = int(frame.get("seq", 0))
            expected = next_seq.get(cpu, 0)
            if seq != expected:
                idx.seq_gaps.append((cpu, expected, seq))
            next_seq[cpu] = seq + 1
            idx.data.setdefault(cpu, []).append(offset)
            idx.data_frames += 1
            idx.data_bytes += len(frame.get("payload", b""))
            idx.raw_bytes += int(frame.get("raw_bytes", 0))
            idx.pages += int(frame.get("pages", 0))
            if idx.first_rx is None and layout.RX in frame:
                idx.first_rx = int(frame[layout.RX])
        elif kind == "capabilities":
            idx.capabilities = {k: v for k, v in frame.items() if k not in ("t", "id")}
        elif kind == "metadata_end":
            idx.metadata_end = frame
        elif kind == layout.REC_SYNC:
            idx.sync.append(SyncSample.from_dict(frame))
        elif kind == layout.REC_MARKER:
            idx.markers.append(MarkerRecord(str(frame["text"]), int(frame["coord_send"]), int(frame["coord_recv"])))
        elif kind == layout.REC_STATE:
            idx.states.append(
                StateRecord(
                    str(frame["state"]), str(frame.get("detail", "")), int(frame["mono"]), int(frame["realtime"])
                )
            )
        elif kind == "event":
            idx.events.append(frame)
        elif kind == "error":
            idx.errors.append(f"agent: {frame.get('code', '?')}: {frame.get('message', '')}")
        elif kind == layout.REC_ERROR:
            idx.errors.append(str(frame.get("message", "")))
        elif kind == "stats":
            idx.stats.append(frame)
    return idx


class HostRun:
    """One host of a recorded run."""

    def __init__(self, run_path: Path, entry: HostEntry) -> None:
        self.entry = entry
        self.name = entry.name
        self.directory = run_path / layout.HOSTS_DIR / entry.dir
        self.frames_path = self.directory / layout.FRAMES
        self._index: Optional[HostIndex] = None
        self._meta: Optional[TraceMeta] = None
        self._raw_meta: Optional[Dict[str, Any]] = None
        self._header: Optional[PageHeader] = None

    def __repr__(self) -> str:
        return f"HostRun({self.name!r})"

    # --- what the frames file holds -------------------------------------------------------------------------
    @property
    def index(self) -> HostIndex:
        if self._index is None:
            self._index = index_frames(self.frames_path)
        return self._index

    @property
    def cpus(self) -> List[int]:
        """CPUs that recorded at least one data frame."""
        return sorted(self.index.data)

    @property
    def capabilities(self) -> Dict[str, Any]:
        return self.index.capabilities or dict(self.entry.capabilities)

    @property
    def sync_samples(self) -> List[SyncSample]:
        return list(self.index.sync)

    @property
    def markers(self) -> List[MarkerRecord]:
        return list(self.index.markers)

    @property
    def events(self) -> List[Dict[str, Any]]:
        """The agent's "event" frames (trigger fired, reader failed, ...)."""
        return list(self.index.events)

    @property
    def errors(self) -> List[str]:
        """Why this host failed or what went wrong, coordinator and agent accounts, without duplicates."""
        out: List[str] = []
        for e in ([self.entry.error] if self.entry.error else []) + self.index.errors:
            if e not in out:
                out.append(e)
        return out

    @property
    def stats(self) -> Dict[int, Dict[str, Any]]:
        """Per-CPU end-of-run stats from metadata_end (empty when the run was cut off before stop)."""
        end = self.index.metadata_end or {}
        return {int(cpu): dict(v) for cpu, v in (end.get("per_cpu") or {}).items()}

    @property
    def lost_events(self) -> int:
        """Events the kernel dropped or overwrote, per the page flags and the per-CPU stats (a lower bound)."""
        total = 0
        for s in self.stats.values():
            total += max(int(s.get("missed_events", 0)), int(s.get("overrun", 0)) + int(s.get("dropped_events", 0)))
        return total

    @property
    def complete(self) -> bool:
        """True when the host reached the end of its stop (metadata_end recorded) and the file ends cleanly."""
        return self.index.metadata_end is not None and self.index.end.complete

    @property
    def truncated(self) -> bool:
        """The frames file ends in a cut-off frame (the coordinator was killed while writing it)."""
        return not self.index.end.complete

    # --- metadata and pages -----------------------------------------------------------------------------------
    @property
    def raw_metadata(self) -> Dict[str, Any]:
        if self._raw_meta is None:
            path = self.directory / layout.METADATA
            try:
                self._raw_meta = msgpack.unpackb(path.read_bytes(), raw=False)
            except FileNotFoundError:
                raise FleetError(f"{self.name}: no trace metadata recorded (it failed before configure)") from None
            except ValueError as exc:
                raise FleetError(f"{path}: unreadable ({exc})") from None
        return self._raw_meta

    @property
    def has_metadata(self) -> bool:
        return (self.directory / layout.METADATA).exists()

    @property
    def meta(self) -> TraceMeta:
        """What the decoder needs: header texts, formats, kallsyms, plus saved_cmdlines/tgids from the stop."""
        if self._meta is None:
            raw = self.raw_metadata
            kallsyms = raw.get("kallsyms", b"")
            if isinstance(kallsyms, bytes):
                kallsyms = decompress(str(raw.get("kallsyms_codec", "")), kallsyms).decode("utf-8", "replace")
            end = self.index.metadata_end or {}
            self._meta = TraceMeta(
                header_page=raw.get("header_page", ""),
                header_event=raw.get("header_event", ""),
                ftrace_formats=list(raw.get("ftrace_formats", [])),
                event_formats={k: list(v) for k, v in (raw.get("event_formats") or {}).items()},
                kallsyms=kallsyms,
                printk_formats=raw.get("printk_formats", ""),
                saved_cmdlines=end.get("saved_cmdlines", ""),
                saved_tgids=end.get("saved_tgids", ""),
                big_endian=bool(raw.get("big_endian", False)),
                long_size=int(raw.get("long_size", 8)),
                page_size=int(raw.get("page_size", 4096)),
                cpus=int(raw.get("cpus", 1)),
                trace_clock=str(raw.get("trace_clock", "local")),
                uname=str(raw.get("uname", "")),
                buffer_name=str(raw.get("buffer_name", "")),
            )
        return self._meta

    @property
    def page_header(self) -> PageHeader:
        if self._header is None:
            m = self.meta
            self._header = parse_header_page(m.header_page, m.big_endian, m.long_size, m.page_size)
        return self._header

    def data_frames(self, cpu: int) -> Iterator[Dict[str, Any]]:
        """The recorded data frames of `cpu` in seq order, as the agent sent them (payload still compressed)."""
        offsets = self.index.data.get(cpu, [])
        if not offsets:
            return
        with open(self.frames_path, "rb") as f:
            for off in offsets:
                yield read_frame_at(f, off)

    def pages(self, cpu: int) -> Iterator[bytes]:
        """The ring-buffer pages of `cpu` in order, each truncated to its used part (header + commit bytes)."""
        header = self.page_header
        for frame in self.data_frames(cpu):
            yield from split_pages(frame_pages_blob(frame), header)


class Run:
    """A recorded run directory; `Run.open(path)`."""

    def __init__(self, path: Path, manifest: Manifest) -> None:
        self.path = path
        self.manifest = manifest
        self.hosts: List[HostRun] = [HostRun(path, e) for e in manifest.hosts.values()]

    @classmethod
    def open(cls, path: Path) -> Run:
        path = Path(path)
        if not path.is_dir():
            raise FleetError(f"{path}: no such run directory")
        return cls(path, Manifest.load(path))

    @staticmethod
    def is_run(path: Path) -> bool:
        """True when `path` looks like a run directory (for commands that accept a run or a trace.dat)."""
        return (Path(path) / layout.MANIFEST).is_file()

    def host(self, name: str) -> HostRun:
        for h in self.hosts:
            if h.name == name:
                return h
        raise FleetError(f"{self.path}: no host {name!r} in this run (hosts: {', '.join(self.host_names)})")

    @property
    def host_names(self) -> List[str]:
        return [h.name for h in self.hosts]

    @property
    def complete(self) -> bool:
        """The coordinator finished the run (false when it was killed)."""
        return self.manifest.complete
