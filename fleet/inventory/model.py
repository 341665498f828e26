"""An inventory as fleet sees it: groups with children and vars, and hosts with their merged vars and paths."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from fleet.errors import InventoryError

TRUE_WORDS = {"yes", "true", "on", "1", "y"}
FALSE_WORDS = {"no", "false", "off", "0", "n", ""}


@dataclass
class Group:
    """A group as written in the inventory: direct hosts and children in order, its own vars."""

    name: str
    hosts: List[str] = field(default_factory=list)
    children: List[str] = field(default_factory=list)
    vars: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Host:
    """One inventory host: `groups` are all groups it is in (ancestors too, `all` first), `paths` the group chains
    from `all` down to it ("all/lab/rack1/board3"), `vars` merged with Ansible's precedence."""

    name: str
    groups: Tuple[str, ...]
    paths: Tuple[str, ...]
    vars: Mapping[str, Any]

    @property
    def address(self) -> str:
        """Where to connect: ansible_host, else the inventory name."""
        return str(self.vars.get("ansible_host") or self.name)

    @property
    def port(self) -> Optional[int]:
        """ansible_port, or None (ssh config / 22 decide)."""
        return self._int("ansible_port")

    @property
    def user(self) -> Optional[str]:
        return self._str("ansible_user")

    @property
    def key_file(self) -> Optional[Path]:
        value = self._str("ansible_ssh_private_key_file")
        return Path(value).expanduser() if value else None

    @property
    def become(self) -> bool:
        return self._bool("ansible_become", False)

    @property
    def become_user(self) -> str:
        return self._str("ansible_become_user") or "root"

    @property
    def connection(self) -> str:
        """ "ssh" or "local" (Ansible's smart/paramiko count as ssh); anything else is an InventoryError."""
        value = (self._str("ansible_connection") or "ssh").lower()
        if value in ("ssh", "smart", "paramiko", "paramiko_ssh"):
            return "ssh"
        if value == "local":
            return "local"
        raise InventoryError(f"host {self.name}: ansible_connection {value!r} is not supported (use ssh or local)")

    @property
    def is_local(self) -> bool:
        return self.connection == "local"

    @property
    def python_interpreter(self) -> Optional[str]:
        return self._str("ansible_python_interpreter")

    @property
    def trace_clock(self) -> Optional[str]:
        return self._str("fleet_trace_clock")

    @property
    def known_hosts(self) -> Optional[Path]:
        value = self._str("fleet_known_hosts")
        return Path(value).expanduser() if value else None

    def _str(self, key: str) -> Optional[str]:
        value = self.vars.get(key)
        return None if value is None else str(value)

    def _int(self, key: str) -> Optional[int]:
        value = self.vars.get(key)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise InventoryError(f"host {self.name}: {key} must be a number, not {value!r}") from exc

    def _bool(self, key: str, default: bool) -> bool:
        value = self.vars.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise InventoryError(f"host {self.name}: {key} must be yes/no or true/false, not {value!r}")


def implicit_localhost() -> Host:
    """Ansible's implicit localhost: this machine, no SSH, this Python (which has msgpack and zstandard)."""
    return Host(
        name="localhost",
        groups=("all",),
        paths=("all/localhost",),
        vars={"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
    )
