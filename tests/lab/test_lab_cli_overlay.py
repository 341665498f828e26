"""`fleet lab up --overlay`: the command line brings up hosts with their own root, and `fleet lab down` removes them."""

from __future__ import annotations

import os
from pathlib import Path

from labtools import lab_traces, ssh

from fleet.cli import main
from fleet.lab import Lab
from tests.conftest import have_lab, need


def test_lab_up_overlay_gives_each_host_its_own_root(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    need(have_lab(), "needs root, iproute2 and OpenSSH (sshd) for the namespace lab")
    name = f"c{os.getpid() % 10**7}"
    directory = tmp_path / "lab"
    assert main(["lab", "up", "--overlay", "-n", "1", "--name", name, "--dir", str(directory)]) == 0
    try:
        assert ", each with its own root (overlay) up in " in capsys.readouterr().out
        lab = Lab.load(directory)
        marker = f"/etc/fleet-cli-overlay-{os.getpid()}"
        result = ssh(lab, "h1", f"echo h1 > {marker}")
        assert result.returncode == 0, result.stderr
        root = lab.root("h1")
        assert root is not None
        assert (root.upper / marker.lstrip("/")).read_text() == "h1\n"
        assert not Path(marker).exists()
    finally:
        assert main(["lab", "down", "--dir", str(directory)]) == 0
    assert lab_traces(name, directory) == []
