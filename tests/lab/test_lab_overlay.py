"""Lab hosts with their own root (overlay=True): writes stay in that host's upper directory, tracefs and the
network namespace are the host's own, the seed files appear in every root."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from labtools import ssh

from fleet.lab import Lab
from tests.conftest import have_lab, need


@pytest.fixture(scope="module")
def overlay_lab(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    need(have_lab(), "needs root, iproute2 and OpenSSH (sshd) for the namespace lab")
    seed = tmp_path_factory.mktemp("seed")
    (seed / "etc").mkdir()
    (seed / "etc" / "fleet-seeded").write_text("seeded\n")
    directory = tmp_path_factory.mktemp("olab")
    with Lab.up(f"o{os.getpid() % 10**7}", 2, directory, overlay=True, overlay_seed=[seed]) as lab:
        yield lab


def test_writes_land_in_the_hosts_own_upper_directory_only(overlay_lab: Lab) -> None:
    marker = f"/etc/fleet-overlay-test-{os.getpid()}"
    result = ssh(overlay_lab, "h1", f"echo h1 > {marker} && cat {marker}")
    assert (result.returncode, result.stdout) == (0, "h1\n"), result.stderr
    root = overlay_lab.root("h1")
    assert root is not None
    assert (root.upper / marker.lstrip("/")).read_text() == "h1\n"
    assert not Path(marker).exists()
    other = ssh(overlay_lab, "h2", f"test -e {marker}; echo $?")
    assert other.stdout == "1\n"


def test_seed_files_appear_in_every_root(overlay_lab: Lab) -> None:
    for h in ("h1", "h2"):
        assert ssh(overlay_lab, h, "cat /etc/fleet-seeded").stdout == "seeded\n"


def test_each_root_has_tracefs_proc_and_its_own_interfaces(overlay_lab: Lab) -> None:
    result = ssh(overlay_lab, "h2", "test -f /sys/kernel/tracing/trace_marker && ls /sys/class/net && test -d /proc/1")
    assert (result.returncode, result.stdout) == (0, "eth0\nlo\n"), result.stderr


def test_sshd_restarts_into_the_same_root(overlay_lab: Lab) -> None:
    ssh(overlay_lab, "h2", "echo kept > /root/fleet-restart-test")
    overlay_lab.stop_sshd("h2")
    overlay_lab.start_sshd("h2")
    assert ssh(overlay_lab, "h2", "cat /root/fleet-restart-test").stdout == "kept\n"


def test_default_lab_hosts_share_this_machines_root(lab: Lab) -> None:
    assert lab.root("h1") is None
    probe = f"/tmp/fleet-shared-root-{os.getpid()}"
    try:
        assert ssh(lab, "h1", f"touch {probe}").returncode == 0
        assert Path(probe).exists()
    finally:
        subprocess.run(["rm", "-f", probe])
