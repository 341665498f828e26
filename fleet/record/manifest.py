"""The run's manifest: what was traced where, with which versions and clocks, and how each host ended.

Written when the run starts and atomically replaced (temp file + rename) on every update, so a reader always sees
one complete version.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from fleet.errors import FleetError
from fleet.record import layout


@dataclass
class HostEntry:
    """One host of the run as the coordinator saw it."""

    name: str
    dir: str
    transport: str = "ssh"
    address: str = ""
    port: int = 22
    user: str = ""
    state: str = "connecting"
    error: Optional[str] = None
    agent_version: str = ""
    instance: str = ""
    trace_clock: str = ""
    boot_id: str = ""
    paths: List[str] = field(default_factory=list)
    """The inventory's group chains down to the host ("all/lab/h1"): `--hosts PATTERN` works on a run as on the
    inventory."""
    capabilities: Dict[str, Any] = field(default_factory=dict)
    started_ns: Optional[int] = None
    """Coordinator CLOCK_MONOTONIC when the host acknowledged start."""
    stopped_ns: Optional[int] = None


@dataclass
class Manifest:
    """Everything about a run except the trace data itself."""

    run_id: str
    session: str
    created: str
    """ISO 8601 wall-clock time the run was created (coordinator, UTC)."""
    fleet_version: str = ""
    protocol_version: int = 0
    command: List[str] = field(default_factory=list)
    config: Dict[str, Any] = field(default_factory=dict)
    """The agents' configure map (agent/protocol.py CONFIG_KEYS) plus "sync" (`auto` or `network`, how
    fleet.clocksync aligns the hosts) and "host_clocks" (host -> trace clock, where a host's differs)."""
    markers: List[str] = field(default_factory=list)
    coordinator: Dict[str, Any] = field(default_factory=dict)
    """hostname, boot_id (hosts with the same one share its CLOCK_MONOTONIC), and one (monotonic_ns, realtime_ns)
    pair that ties the coordinator's clocks together."""
    hosts: Dict[str, HostEntry] = field(default_factory=dict)
    started: Optional[str] = None
    stopped: Optional[str] = None
    complete: bool = False
    """True once the coordinator finished the run (false after a crash or kill)."""
    format: str = layout.FORMAT
    format_version: int = layout.FORMAT_VERSION

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: Dict[str, Any]) -> Manifest:
        fields = {f.name for f in dataclasses.fields(cls)}
        host_fields = {f.name for f in dataclasses.fields(HostEntry)}
        data = {k: v for k, v in raw.items() if k in fields}
        data["hosts"] = {
            name: HostEntry(**{k: v for k, v in h.items() if k in host_fields}) for name, h in raw["hosts"].items()
        }
        return cls(**data)

    def save(self, directory: Path, durable: bool = False) -> None:
        """Replace the manifest atomically; `durable` also fsyncs (survives power loss, not just a killed process)."""
        path = directory / layout.MANIFEST
        tmp = directory / (layout.MANIFEST + ".tmp")
        with open(tmp, "w") as f:
            json.dump(self.to_dict(), f, indent=1, sort_keys=False)
            f.write("\n")
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        path = directory / layout.MANIFEST
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise FleetError(f"{directory}: not a fleet run (no {layout.MANIFEST})") from None
        except ValueError as exc:
            raise FleetError(f"{path}: unreadable manifest ({exc})") from None
        if raw.get("format") != layout.FORMAT:
            raise FleetError(f"{path}: not a fleet run manifest (format {raw.get('format')!r})")
        if raw.get("format_version", 0) > layout.FORMAT_VERSION:
            raise FleetError(
                f"{path}: run format version {raw['format_version']} is newer than this fleet reads "
                f"({layout.FORMAT_VERSION}); upgrade fleet"
            )
        try:
            return cls.from_dict(raw)
        except (KeyError, TypeError) as exc:
            raise FleetError(f"{path}: malformed manifest ({exc})") from None
