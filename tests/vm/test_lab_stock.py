"""The VM lab itself, on one guest with Debian's stock kernel: boot, SSH with verified keys, inventory, tear-down.
(Runs before the rt lab of the other tests is up: at most two VMs at once on this machine.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from fleet.cli import main
from fleet.lab.vm import machine
from fleet.lab.vm.lab import VmLab
from tests.vm.conftest import need_vm_tools


def test_a_stock_guest_boots_answers_ssh_lists_its_tracers_and_leaves_nothing(tmp_path: Path, capsys) -> None:
    need_vm_tools()
    lab = VmLab.up(1, "stock", directory=tmp_path / "lab", die_with_parent=True)
    try:
        (host,) = lab.hosts
        out = lab.run("vm1", "hostname; uname -r; cat /sys/kernel/tracing/available_tracers", timeout=60)
        name, release, tracers = out.splitlines()
        assert (name, release) == ("vm1", lab.state.release)
        assert release.endswith("-amd64") and "-rt-" not in release
        assert {"function", "function_graph", "nop"} <= set(tracers.split())
        assert "wakeup_rt" not in tracers.split()
        # OpenSSH itself, strict host key checking against the lab's known_hosts
        ssh = subprocess.run(
            ["ssh", "-F", str(lab.ssh_config), "vm1", "echo", "ok"], capture_output=True, text=True, timeout=60
        )
        assert (ssh.returncode, ssh.stdout) == (0, "ok\n")
        inventory = yaml.safe_load(lab.inventory_path.read_text())
        vars_ = inventory["all"]["children"]["vm"]["hosts"]["vm1"]
        assert (vars_["ansible_host"], vars_["ansible_port"]) == ("127.0.0.1", host.ssh_port)
        assert vars_["ansible_python_interpreter"] == "/usr/bin/python3"
        assert main(["hosts", "-i", str(lab.inventory_path), "vm/*"]) == 0
        assert "vm1" in capsys.readouterr().out
    finally:
        left = lab.down()
    assert left == []
    assert not machine.is_qemu(host.pid)
    assert not lab.inventory_path.exists() and not (tmp_path / "lab" / "state.json").exists()
