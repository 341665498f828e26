"""A recorded run as a `fleet report` source: one stream per host (that recorded metadata), raw timestamps.

Clock alignment (fleet.clocksync) will replace the identity timestamp mapping; until then hosts merge on their
raw trace-clock values, which is exact for hosts sharing one kernel clock (the namespace lab).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, Optional, Sequence

from fleet.record.reader import Run

COUNTER_CLOCKS = ("x86-tsc", "counter")


def _identity(ts: int, cpu: int) -> int:
    return ts


class RunSource:
    """Streams of a run directory for fleet.report.report(); `hosts` limits it to those names."""

    def __init__(self, path: Path, hosts: Optional[Sequence[str]] = None) -> None:
        self.run = Run.open(Path(path))
        self.hosts = list(hosts) if hosts is not None else None

    def streams(self) -> Iterator[Any]:
        from fleet.report import Stream  # the report engine is a layer above recordings; imported when used

        for host in self.run.hosts:
            if self.hosts is not None and host.name not in self.hosts:
                continue
            if not host.has_metadata:
                continue
            pages: Dict[int, Iterable[bytes]] = {cpu: host.pages(cpu) for cpu in host.cpus}
            yield Stream(host.name, host.meta, pages, _identity, raw_counts=host.meta.trace_clock in COUNTER_CLOCKS)

    def close(self) -> None:
        pass
