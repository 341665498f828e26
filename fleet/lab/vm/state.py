"""What a running VM lab leaves on disk so another process (`fleet lab vm down`) can find and stop it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional


@dataclass
class VmHost:
    """One VM: inventory name, forwarded SSH port on 127.0.0.1, QEMU pid."""

    name: str
    ssh_port: int
    pid: int = 0


@dataclass
class VmState:
    """The lab: flavour and kernel release it boots, its VMs, where its root image and client key are."""

    flavour: str
    release: str
    image: str
    client_key: str
    host_public_key: str
    hosts: List[VmHost] = field(default_factory=list)

    def save(self, directory: Path) -> None:
        tmp = directory / "state.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=1) + "\n")
        tmp.rename(directory / "state.json")

    @classmethod
    def load(cls, directory: Path) -> Optional[VmState]:
        path = directory / "state.json"
        if not path.is_file():
            return None
        raw = json.loads(path.read_text())
        raw["hosts"] = [VmHost(**h) for h in raw.get("hosts", [])]
        return cls(**raw)
