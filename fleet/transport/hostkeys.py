"""Host key checking as OpenSSH does it with StrictHostKeyChecking yes (or accept-new when asked), but with a
message that tells an unknown key from a changed one and names the host."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import asyncssh

from fleet.errors import HostError


def default_known_hosts() -> Path:
    return Path("~/.ssh/known_hosts").expanduser()


def known_host_pattern(host: str, port: Optional[int]) -> str:
    """How known_hosts names `host` (OpenSSH writes [host]:port for a port other than 22)."""
    return host if not port or port == 22 else f"[{host}]:{port}"


class HostKeyPolicy:
    """Decides on a host key not already trusted by the known_hosts file and remembers why it refused."""

    def __init__(self, name: str, path: Path, accept_new: bool) -> None:
        self.name = name
        self.path = path
        self.accept_new = accept_new
        self.refusal: Optional[str] = None
        self.known = self._load()

    def _load(self) -> asyncssh.SSHKnownHosts:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            text = ""
        except OSError as exc:
            self.refusal = f"cannot read {self.path} ({exc.strerror})"
            text = ""
        try:
            return asyncssh.import_known_hosts(text)
        except ValueError as exc:  # a malformed line: OpenSSH would skip it, but a silent skip could hide a key
            raise HostError(self.name, f"{self.path} is not a valid known_hosts file: {exc}") from None

    def decide(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        """Called for a key known_hosts does not list for this host: refuse a changed key, accept a new one only
        with accept_new (and record it in the file, as OpenSSH's accept-new does)."""
        trusted = self.known.match(host, addr, port if port != 22 else None)[0]
        fingerprint = key.get_fingerprint()
        if trusted:
            self.refusal = (
                f"host key CHANGED: {host} presented {key.get_algorithm()} {fingerprint}, which {self.path} does not "
                "list for it (someone may be intercepting, or the host was reinstalled: check, then fix known_hosts)"
            )
            return False
        if not self.accept_new:
            self.refusal = (
                f"host key unknown: {host} ({key.get_algorithm()} {fingerprint}) is not in {self.path}; "
                "add it (ssh-keyscan) or run with --accept-new"
            )
            return False
        line = f"{known_host_pattern(host, port)} {key.export_public_key('openssh').decode().strip()}\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as f:
            f.write(line)
        return True
