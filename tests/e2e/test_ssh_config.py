"""~/.ssh/config is honoured as OpenSSH reads it: an inventory host named only by an ssh_config alias is reached with
the config's HostName, User, IdentityFile and ProxyJump (through another lab host)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fleet.cli import main


def known_key(known_hosts: Path, address: str) -> str:
    """The key part of the lab's known_hosts line for `address` (lines are `addr,name,netns TYPE KEY`)."""
    for line in known_hosts.read_text().splitlines():
        names, _, key = line.partition(" ")
        if address in names.split(","):
            return key
    raise AssertionError(f"{address} not in {known_hosts}")


@pytest.mark.lab
def test_an_alias_from_ssh_config_is_reached_through_its_proxyjump(lab: Any, tmp_path: Path) -> None:
    jump, far = lab.hosts[0], lab.hosts[1]
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(
        f"Host boardx\n  HostName {far.address}\n  User root\n  IdentityFile {lab.client_key}\n  ProxyJump jump\n"
        f"Host jump\n  HostName {jump.address}\n  User root\n  IdentityFile {lab.client_key}\n"
    )
    # As OpenSSH does, host keys are looked up by the HostName the config resolves an alias to.
    (home / ".ssh" / "known_hosts").write_text(
        "".join(f"{h.address} {known_key(lab.known_hosts, h.address)}\n" for h in (far, jump))
    )
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(f"far:\n  hosts:\n    boardx:\n      ansible_python_interpreter: {sys.executable}\n")
    log = lab.directory / "run" / f"{far.name}.sshd.log"
    before = log.read_text() if log.exists() else ""
    run = tmp_path / "run"
    argv = ["-m", "fleet.cli", "trace", "-i", str(inventory), "--hosts", "far/*", "-e", "sched:sched_switch"]
    done = subprocess.run(
        [sys.executable, *argv, "--duration", "1", "--no-tui", "-o", str(run)],
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    accepted = [line for line in log.read_text()[len(before) :].splitlines() if "Accepted publickey for root" in line]
    assert accepted and all(f"from {jump.address} " in line for line in accepted)
    assert main(["report", str(run), "-e", "sched_switch"]) == 0


@pytest.mark.lab
def test_a_malformed_known_hosts_is_one_line_naming_the_file(lab: Any, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("not-a-known-hosts-line\n")
    inventory = tmp_path / "inventory.yml"
    h1 = lab.hosts[0]
    inventory.write_text(
        f"lab:\n  hosts:\n    h1:\n      ansible_host: {h1.address}\n      ansible_user: root\n"
        f"      ansible_ssh_private_key_file: {lab.client_key}\n      fleet_known_hosts: {known}\n"
        f"      ansible_python_interpreter: {sys.executable}\n"
    )
    argv = ["-m", "fleet.cli", "trace", "-i", str(inventory), "--hosts", "lab/*", "-e", "sched:sched_switch"]
    done = subprocess.run(
        [sys.executable, *argv, "--duration", "1", "--no-tui", "-o", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert f"{known} is not a valid known_hosts file" in done.stdout
