"""Helpers for the lab tests: run a command over the real ssh client, list what a lab leaves on the machine."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import List

from fleet.lab import Lab


def ssh(lab: Lab, host: str, command: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ssh", "-F", str(lab.ssh_config), host, command], capture_output=True, text=True, timeout=timeout
    )


def lab_traces(name: str, directory: Path) -> List[str]:
    """Namespaces, links and processes (sshd, forwarders: their arguments name `directory`) of lab `name`."""
    found = [
        n
        for n in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
        if n.startswith(f"fleet-{name}-")
    ]
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    found += [line.split(":")[1].strip() for line in links.splitlines() if f"-{name}-" in line or f"fb-{name}:" in line]
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    found += [line for line in ps.splitlines() if str(directory) in line]
    return found
