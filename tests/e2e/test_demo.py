"""`fleet demo`, the README's first set-up command after bootstrap: the installed command brings up three namespace
hosts, traces them over SSH, shows the merged report with each host's marker, and tears the lab down."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import have_lab, have_tracefs, need


def test_fleet_demo_traces_three_hosts_shows_their_markers_and_leaves_no_namespace(tmp_path: Path) -> None:
    need(have_lab() and have_tracefs(), "needs root, tracefs, iproute2 and OpenSSH (sshd) for the namespace lab")
    fleet = shutil.which("fleet")
    need(fleet is not None, "needs the `fleet` command (pip install -e .)")
    proc = subprocess.run(
        [str(fleet), "demo", "--duration", "1", "-o", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "tracing sched:sched_switch on h1, h2, h3 for 1 s" in out
    assert f"first 20 lines of `fleet report {tmp_path / 'run'}`:" in out
    marks = out.split("... and the marker, as each host recorded it:\n")[1].splitlines()
    assert sorted(line.split(":")[0] for line in marks if "hello from fleet demo" in line) == ["h1", "h2", "h3"]
    assert "tearing down the lab" in out and proc.stderr == ""
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert "demo" not in namespaces
