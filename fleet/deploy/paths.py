"""Finding the Ansible content fleet deploys with: ansible/ beside the fleet package (a checkout or an editable
install), or the directory FLEET_ANSIBLE_DIR names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from fleet.errors import FleetError


@dataclass(frozen=True)
class AnsibleContent:
    """The playbook, its configuration and fleet's callback plugin."""

    root: Path

    @property
    def playbook(self) -> Path:
        return self.root / "deploy.yml"

    @property
    def config(self) -> Path:
        return self.root / "ansible.cfg"

    @property
    def callback_plugins(self) -> Path:
        return self.root / "callback_plugins"


def find_ansible_content(override: Optional[Path] = None) -> AnsibleContent:
    """The ansible/ directory to use; FleetError saying where it looked when there is none."""
    candidates = [override] if override else []
    env = os.environ.get("FLEET_ANSIBLE_DIR")
    if env:
        candidates.append(Path(env))
    candidates.append(Path(__file__).resolve().parents[2] / "ansible")
    for c in candidates:
        if c is not None and (c / "deploy.yml").is_file():
            return AnsibleContent(c.resolve())
    where = ", ".join(str(c) for c in candidates if c is not None)
    raise FleetError(f"no ansible/deploy.yml found (looked in {where}); set FLEET_ANSIBLE_DIR to fleet's ansible/")
