"""SSH keys of a lab: one client key, one host key per host (generated once, cached in the lab directory)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Dict, List, Sequence

from fleet.lab.errors import LabError
from fleet.lab.state import LabHost


def generate_keys(paths: Sequence[Path], comment: str) -> None:
    """Create the ed25519 keys among `paths` that do not exist yet, all ssh-keygen runs in parallel."""
    procs: List[subprocess.Popen[bytes]] = []
    for path in paths:
        if path.exists() and path.with_suffix(".pub").exists():
            continue
        path.unlink(missing_ok=True)
        cmd = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)]
        procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise LabError(f"ssh-keygen failed: {err.decode(errors='replace').strip()}")


def public_key(private: Path) -> str:
    """The `type base64` part of the public key beside `private`."""
    fields = private.with_suffix(".pub").read_text().split()
    return f"{fields[0]} {fields[1]}"


def known_hosts_text(hosts: Sequence[LabHost], host_keys: Dict[str, Path]) -> str:
    """known_hosts lines naming each host by address, inventory name and namespace name."""
    return "".join(f"{h.address},{h.name},{h.netns} {public_key(host_keys[h.name])}\n" for h in hosts)
