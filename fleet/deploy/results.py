"""Per-host results of a deploy, folded from the fleet_events callback's JSON lines (ansible/callback_plugins)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

# Worst first: the status a host shows is the worst its tasks reached.
STATUS_ORDER = ("unreachable", "failed", "changed", "ok", "not run")


@dataclass
class HostResult:
    """One host's outcome: counts from Ansible's stats, the first failure's task and message, its capabilities."""

    name: str
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    failed_task: Optional[str] = None
    cause: Optional[str] = None
    capabilities: Optional[Dict[str, Any]] = None
    seen: bool = False

    @property
    def status(self) -> str:
        if self.unreachable:
            return "unreachable"
        if self.failed:
            return "failed"
        if not self.seen:
            return "not run"
        return "changed" if self.changed else "ok"

    @property
    def succeeded(self) -> bool:
        return self.status in ("ok", "changed")


@dataclass
class DeployOutcome:
    """All hosts asked for (in order), and what ansible-playbook exited with."""

    hosts: List[HostResult]
    returncode: int
    log: Optional[str] = None
    tasks: List[str] = field(default_factory=list)

    @property
    def failed_hosts(self) -> List[HostResult]:
        return [h for h in self.hosts if not h.succeeded]

    def host(self, name: str) -> HostResult:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)


class ResultFolder:
    """Feed it events one by one (live progress sees each); `outcome()` gives the per-host results."""

    def __init__(self, host_names: Sequence[str]) -> None:
        self.results = {name: HostResult(name) for name in host_names}
        self.tasks: List[str] = []

    def _host(self, name: str) -> HostResult:
        if name not in self.results:  # delegate_to localhost and the like
            self.results[name] = HostResult(name)
        return self.results[name]

    def feed(self, event: Dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "task":
            self.tasks.append(str(event.get("name", "")))
        elif kind == "result":
            h = self._host(str(event["host"]))
            h.seen = True
            if event.get("status") in ("failed", "unreachable") and h.cause is None:
                h.failed_task = str(event.get("task", ""))
                h.cause = str(event.get("msg") or event.get("status"))
        elif kind == "capabilities":
            self._host(str(event["host"])).capabilities = event.get("capabilities")
        elif kind == "stats":
            for name, counts in event.get("hosts", {}).items():
                h = self._host(name)
                h.seen = True
                h.ok = int(counts.get("ok", 0))
                h.changed = int(counts.get("changed", 0))
                h.failed = int(counts.get("failures", 0))
                h.unreachable = int(counts.get("unreachable", 0))
                h.skipped = int(counts.get("skipped", 0))
                h.rescued = int(counts.get("rescued", 0))

    def outcome(self, returncode: int, log: Optional[str] = None) -> DeployOutcome:
        return DeployOutcome(list(self.results.values()), returncode, log, list(self.tasks))


def parse_line(line: str) -> Optional[Dict[str, Any]]:
    """One event from a line of the callback's output, None for anything else."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
