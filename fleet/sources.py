"""Where merged events come from: a trace.dat file, or a recorded run with each host aligned on one time line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, Optional, Sequence

from fleet.clocksync.model import ClockModel
from fleet.clocksync.recorded import run_models
from fleet.errors import UsageError
from fleet.merge import Source, Stream
from fleet.record.hosts import select_hosts
from fleet.record.reader import Run
from fleet.tracedat.reader import TraceDat

COUNTER_CLOCKS = ("x86-tsc", "counter")


class TraceDatSource:
    """A trace.dat file: one stream per buffer (top level first), host None, times as trace-cmd shows them."""

    def __init__(self, path: str) -> None:
        self.dat = TraceDat.open(path)

    def streams(self) -> Iterator[Stream]:
        for buf in self.dat.buffers:
            pages: Dict[int, Iterable[bytes]] = {cpu: buf.pages(cpu) for cpu in buf.cpus}
            conv = None if buf.timestamp_is_identity else buf.timestamp
            size = sum(ref.size for ref in buf.cpu_data.values())
            yield Stream(None, buf.meta, pages, conv, raw_counts=not buf.in_usecs, size=size)

    def close(self) -> None:
        self.dat.close()


class RunSource:
    """A run directory: one stream per host that recorded metadata; `hosts` limits it to those names.

    With `aligned` (the default) every host's timestamps go through its clock model onto the coordinator's
    CLOCK_MONOTONIC time line (ns); a host whose model knows nothing (no sync marker found) keeps its raw values.
    `sync` overrides the recorded sync mode (`auto` or `network`).
    """

    def __init__(
        self, path: Path, hosts: Optional[Sequence[str]] = None, aligned: bool = True, sync: Optional[str] = None
    ) -> None:
        self.run = Run.open(Path(path))
        self.hosts = list(hosts) if hosts is not None else None
        self.models: Dict[str, ClockModel] = run_models(self.run, sync) if aligned else {}

    def streams(self) -> Iterator[Stream]:
        for host in self.run.hosts:
            if self.hosts is not None and host.name not in self.hosts:
                continue
            if not host.has_metadata:
                continue
            pages: Dict[int, Iterable[bytes]] = {cpu: host.pages(cpu) for cpu in host.cpus}
            model = self.models.get(host.name)
            size = host.frames_path.stat().st_size if host.frames_path.exists() else 0
            if model is not None and model.aligned_ok:
                yield Stream(host.name, host.meta, pages, _aligner(model), size=size)
            else:
                counts = host.meta.trace_clock in COUNTER_CLOCKS
                yield Stream(host.name, host.meta, pages, None, raw_counts=counts, size=size)

    def close(self) -> None:
        pass


def _aligner(model: ClockModel) -> Callable[[int, int], int]:
    aligned = model.aligned
    return lambda ts, cpu: aligned(ts)


def open_source(path: str, hosts: Optional[str] = None, aligned: bool = True) -> Source:
    """A run directory (`fleet trace -o DIR`; `hosts` a host pattern over its hosts) or a trace.dat file."""
    if os.path.isdir(path):
        if not Run.is_run(Path(path)):
            raise UsageError(f"{path} is a directory but not a fleet run (no manifest.json)")
        names = select_hosts(Run.open(Path(path)), hosts) if hosts else None
        return RunSource(Path(path), names, aligned)
    if hosts:
        raise UsageError("--hosts selects hosts of a run directory; a trace.dat file holds one host")
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file or run directory")
    return TraceDatSource(path)
