"""The namespace lab: hosts reachable over real SSH with strict host keys, tracefs inside, nothing left after."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import asyncssh
import pytest
from labtools import lab_traces, ssh

from fleet.inventory import load_inventory
from fleet.lab import Lab, LabError
from tests.conftest import have_lab, need


def test_inventory_lists_every_host_in_group_lab(lab: Lab) -> None:
    inventory = load_inventory([lab.inventory_path])
    hosts = inventory.select("lab/*")
    assert [(h.name, h.address, h.port, h.user) for h in hosts] == [(h.name, h.address, 22, "root") for h in lab.hosts]
    assert {h.key_file for h in hosts} == {lab.client_key}
    assert {h.known_hosts for h in hosts} == {lab.known_hosts}
    assert {h.python_interpreter for h in hosts} == {sys.executable}


def test_hosts_have_their_own_address_and_namespace(lab: Lab) -> None:
    assert [h.name for h in lab.hosts] == ["h1", "h2", "h3"]
    assert [h.netns for h in lab.hosts] == [f"fleet-{lab.name}-h{i}" for i in (1, 2, 3)]
    for h in lab.hosts:
        out = subprocess.run(["ip", "-n", h.netns, "-4", "-o", "addr", "show", "eth0"], capture_output=True, text=True)
        assert f"inet {h.address}/24" in out.stdout


def test_openssh_client_reaches_each_host_with_strict_host_key_checking(lab: Lab) -> None:
    for h in lab.hosts:
        result = ssh(lab, h.name, "cat /proc/self/net/dev | grep -c eth0; id -un")
        assert (result.returncode, result.stdout) == (0, "1\nroot\n"), result.stderr


def test_tracefs_is_mounted_inside_each_host(lab: Lab) -> None:
    for h in lab.hosts:
        result = ssh(lab, h.name, "test -e /sys/kernel/tracing/trace_marker && echo yes")
        assert result.stdout == "yes\n", result.stderr


def test_root_bashrc_is_empty_inside_hosts_only(lab: Lab) -> None:
    result = ssh(lab, "h1", "wc -c < /root/.bashrc")
    assert result.stdout.strip() == "0"
    assert Path("/root/.bashrc").stat().st_size > 0 or not Path("/root/.bashrc").exists()


def test_wrong_host_key_is_refused(lab: Lab, tmp_path: Path) -> None:
    # h2's key listed under h1's address: ssh must refuse h1.
    lines = lab.known_hosts.read_text().splitlines()
    h1 = lab.host("h1")
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"{h1.address} {lines[1].split(' ', 1)[1]}\n")
    result = subprocess.run(
        ["ssh", "-F", str(lab.ssh_config), "-o", f"UserKnownHostsFile={wrong}", h1.address, "true"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 255
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in result.stderr


async def test_asyncssh_connects_with_lab_known_hosts(lab: Lab) -> None:
    async def run_on(address: str) -> str:
        async with asyncssh.connect(
            address,
            username="root",
            client_keys=[str(lab.client_key)],
            known_hosts=str(lab.known_hosts),
        ) as conn:
            result = await conn.run("cat /proc/sys/kernel/hostname >/dev/null; ip -4 -o addr show eth0", check=True)
            return str(result.stdout)

    outputs = await asyncio.gather(*(run_on(h.address) for h in lab.hosts))
    for h, out in zip(lab.hosts, outputs):
        assert f"inet {h.address}/24" in out


def test_stopped_sshd_refuses_then_restarts(lab: Lab) -> None:
    lab.stop_sshd("h3")
    try:
        result = ssh(lab, "h3", "true")
        assert result.returncode == 255
        assert "Connection refused" in result.stderr
    finally:
        lab.start_sshd("h3")
    assert ssh(lab, "h3", "echo back").stdout == "back\n"


def test_unknown_host_name_is_a_lab_error(lab: Lab) -> None:
    with pytest.raises(LabError, match="no host 'h9' in lab"):
        lab.host("h9")


def test_down_leaves_no_namespace_link_or_process(tmp_path: Path) -> None:
    need(have_lab(), "needs root, iproute2 and OpenSSH (sshd) for the namespace lab")
    name = "d" + str(abs(hash(tmp_path)) % 10**6)
    lab = Lab.up(name, 2, tmp_path)
    ssh_session = subprocess.Popen(["ssh", "-F", str(lab.ssh_config), "h1", "sleep 60"])
    try:
        assert ssh(lab, "h2", "echo up").stdout == "up\n"
        assert lab_traces(name, tmp_path) != []
        left = lab.down()
    finally:
        ssh_session.kill()
        ssh_session.wait()
    assert [item for item in left if not item.startswith("tracefs")] == []
    assert lab_traces(name, tmp_path) == []
    assert not (tmp_path / "state.json").exists()


def test_second_lab_with_same_name_is_refused(lab: Lab, tmp_path: Path) -> None:
    with pytest.raises(LabError, match=f"a lab named {lab.name} is already up"):
        Lab.up(lab.name, 1, tmp_path)


def test_load_finds_a_running_lab_by_directory(lab: Lab) -> None:
    again = Lab.load(lab.directory)
    assert (again.name, again.hosts, again.subnet) == (lab.name, lab.hosts, lab.subnet)
