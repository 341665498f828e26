"""What a lab is made of, saved as JSON in the lab directory so another process (`fleet lab down`) finds it all."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from fleet.lab.errors import LabError

STATE_FILE = "state.json"


@dataclass(frozen=True)
class LabHost:
    """One namespace host: inventory name (h1), network namespace, address, and its root-side veth."""

    name: str
    index: int
    netns: str
    address: str
    veth: str


@dataclass
class LinkImpairment:
    """Impairment of one direction of one host's link; `loss` is a percentage (0-100)."""

    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss: float = 0.0
    partition: bool = False

    def is_clear(self) -> bool:
        return self == LinkImpairment()


@dataclass
class LabState:
    """Everything tear-down needs: names, subnet, pids of sshd and forwarders, current impairments."""

    name: str
    subnet: str
    gateway: str
    bridge: str
    hosts: List[LabHost]
    sshd_pids: Dict[str, int] = field(default_factory=dict)
    forwarder_pids: Dict[str, int] = field(default_factory=dict)
    impairments: Dict[str, Dict[str, LinkImpairment]] = field(default_factory=dict)
    overlay: bool = False  # each host has its own root (fleet.lab.rootfs) under <lab dir>/roots/<host>
    overlay_seed: List[str] = field(default_factory=list)

    def save(self, directory: Path) -> None:
        tmp = directory / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=1))
        os.replace(tmp, directory / STATE_FILE)

    @classmethod
    def load(cls, directory: Path) -> Optional[LabState]:
        """The state saved in `directory`, or None when no lab is up there."""
        path = directory / STATE_FILE
        if not path.exists():
            return None
        try:
            raw = json.loads(path.read_text())
            return cls(
                name=raw["name"],
                subnet=raw["subnet"],
                gateway=raw["gateway"],
                bridge=raw["bridge"],
                hosts=[LabHost(**h) for h in raw["hosts"]],
                sshd_pids={k: int(v) for k, v in raw.get("sshd_pids", {}).items()},
                forwarder_pids={k: int(v) for k, v in raw.get("forwarder_pids", {}).items()},
                impairments={
                    host: {d: LinkImpairment(**imp) for d, imp in dirs.items()}
                    for host, dirs in raw.get("impairments", {}).items()
                },
                overlay=bool(raw.get("overlay", False)),
                overlay_seed=[str(p) for p in raw.get("overlay_seed", [])],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise LabError(f"{path}: not a lab state file ({exc}); remove it and tear down by name") from exc
