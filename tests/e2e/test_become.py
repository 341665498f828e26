"""A non-root login with ansible_become: fleet pushes the agent into that user's cache and runs it through sudo.

The host has its own root (an overlay over /) so the user, the sudo rule and the pushed agent stay inside it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from fleet.cli import main
from fleet.lab import Lab
from tests.conftest import have_lab, need

USER = "tester"


def ssh(lab: Lab, command: str) -> str:
    return subprocess.run(
        ["ssh", "-F", str(lab.ssh_config), "h1", command], capture_output=True, text=True, check=True, timeout=30
    ).stdout


@pytest.fixture(scope="module")
def user_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One overlay-rooted host with a user whose sudo rule allows everything without a password."""
    need(have_lab(), "needs root, iproute2 and OpenSSH (sshd) for the namespace lab")
    lab = Lab.up(f"u{os.getpid() % 1000000}", 1, tmp_path_factory.mktemp("become"), overlay=True)
    try:
        key = Path(f"{lab.client_key}.pub").read_text().strip()
        ssh(
            lab,
            f"chmod 711 /root && useradd -m {USER} && usermod -p '*' {USER} && "  # '*': no password, not locked
            f"mkdir -m 700 /home/{USER}/.ssh && echo '{key}' > /home/{USER}/.ssh/authorized_keys && "
            f"chown -R {USER} /home/{USER}/.ssh && "
            f"echo '{USER} ALL=(root) NOPASSWD: ALL' > /etc/sudoers.d/{USER} && chmod 440 /etc/sudoers.d/{USER}",
        )
        yield lab
    finally:
        lab.down()


def user_inventory(lab: Lab, dest: Path) -> Path:
    data = yaml.safe_load(lab.inventory_path.read_text())
    for host_vars in data["all"]["children"]["lab"]["hosts"].values():
        host_vars.update(ansible_user=USER, ansible_become=True)
    dest.write_text(yaml.safe_dump(data))
    return dest


@pytest.mark.lab
def test_a_user_with_sudo_records_through_an_agent_pushed_to_its_own_cache(
    user_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    inventory = user_inventory(user_lab, tmp_path / "inventory.yml")
    run = tmp_path / "run"
    argv = ["trace", "-i", str(inventory), "--hosts", "lab/*", "-e", "sched:sched_switch", "-m", "via sudo"]
    assert main([*argv, "--duration", "1", "--no-tui", "-o", str(run)]) == 0
    assert "agent-" in ssh(user_lab, f"ls /home/{USER}/.cache/fleet/")
    capsys.readouterr()
    assert main(["report", str(run), "-e", "print"]) == 0
    assert "tracing_mark_write: via sudo" in capsys.readouterr().out


@pytest.mark.lab
def test_become_without_a_sudo_rule_names_the_user_and_the_cause(user_lab: Lab, tmp_path: Path) -> None:
    ssh(user_lab, f"mv /etc/sudoers.d/{USER} /root/{USER}.sudoers")
    try:
        inventory = user_inventory(user_lab, tmp_path / "inventory.yml")
        argv = ["-m", "fleet.cli", "trace", "-i", str(inventory), "--hosts", "lab/*", "-e", "sched:sched_switch"]
        done = subprocess.run(
            ["python3", *argv, "--duration", "1", "--no-tui", "-o", str(tmp_path / "run")],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        ssh(user_lab, f"mv /root/{USER}.sudoers /etc/sudoers.d/{USER}")
    assert done.returncode == 1
    assert f"ansible_become is set but `sudo -n` asks for a password for {USER}" in done.stdout
