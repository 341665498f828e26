"""What the transport needs to know about one host, taken from an inventory host's Ansible vars."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Tuple


@dataclass(frozen=True)
class Target:
    """One host to trace: how to reach it and how to run the agent there."""

    name: str
    address: str
    connection: str = "ssh"  # "ssh" or "local"
    port: Optional[int] = None
    user: Optional[str] = None
    key_file: Optional[Path] = None
    known_hosts: Optional[Path] = None
    become: bool = False
    become_user: str = "root"
    python: Optional[str] = None
    paths: Tuple[str, ...] = ()
    """The inventory's group chains down to this host ("all/lab/h1"), kept so a run can be filtered by pattern."""

    @property
    def is_local(self) -> bool:
        return self.connection == "local"

    @classmethod
    def from_host(cls, host: Any) -> Target:
        """From a fleet.inventory Host (ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file,
        ansible_become[_user], ansible_connection, ansible_python_interpreter, fleet_known_hosts)."""
        return cls(
            name=host.name,
            address=host.address,
            connection=host.connection,
            port=host.port,
            user=host.user,
            key_file=host.key_file,
            known_hosts=host.known_hosts,
            become=host.become,
            become_user=host.become_user,
            python=host.python_interpreter,
            paths=tuple(host.paths),
        )


LOCALHOST = Target(name="localhost", address="localhost", connection="local")
