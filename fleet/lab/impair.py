"""Putting a user-space forwarder (fleet.lab.forwarder) into one host's link, changing its settings, removing it.

Normal wiring: host eth0 <-veth-> fv-LAB-N (bridge port). Impaired: host eth0 <-veth-> fv-LAB-N <- forwarder ->
fx-LAB-N <-veth-> fy-LAB-N (bridge port). The forwarder is started and bound before fv-LAB-N leaves the bridge,
so the detour costs the link only the instant of the switch-over.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict

from fleet.lab.errors import LabError
from fleet.lab.naming import forwarder_pair
from fleet.lab.run import ip_batch, run
from fleet.lab.state import LabHost, LinkImpairment

DIRECTIONS = ("in", "out")


def write_control(path: Path, settings: Dict[str, LinkImpairment]) -> None:
    """Write the forwarder's settings atomically (it re-reads them on SIGHUP)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({d: dataclasses.asdict(s) for d, s in settings.items()}))
    os.replace(tmp, path)


def start_forwarder(lab: str, bridge: str, host: LabHost, control: Path, log: Path) -> int:
    """Wire the forwarder into `host`'s link; return its pid. `control` must already hold the settings."""
    fx, fy = forwarder_pair(lab, host.index)
    ip_batch(
        [
            f"link add {fx} type veth peer name {fy}",
            f"link set {fx} up",
            f"link set {fy} up",
            f"link set {host.veth} promisc on",
            f"link set {fx} promisc on",
        ]
    )
    cmd = [sys.executable, "-m", "fleet.lab.forwarder", "--host-side", host.veth, "--bridge-side", fx]
    with open(log, "ab") as err:
        proc = subprocess.Popen(
            cmd + ["--control", str(control)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            start_new_session=True,
        )
    assert proc.stdout is not None
    ready = proc.stdout.readline().strip()
    proc.stdout.close()
    if ready != b"ready":
        proc.kill()
        proc.wait()
        run(["ip", "link", "del", fx], check=False)
        raise LabError(f"{host.name}: link forwarder did not start (see {log})")
    ip_batch([f"link set {host.veth} nomaster", f"link set {fy} master {bridge}"])
    return proc.pid


def reload_forwarder(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError as exc:
        raise LabError(f"link forwarder {pid} is gone; clear the impairment and set it again") from exc


def stop_forwarder(lab: str, bridge: str, host: LabHost, pid: int, rewire: bool = True) -> None:
    """Kill the forwarder, delete its veth pair and (if `rewire`) put the host's veth back on the bridge."""
    try:
        os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    except ProcessLookupError:
        pass
    fx, _ = forwarder_pair(lab, host.index)
    run(["ip", "link", "del", fx], check=False)
    if rewire:
        ip_batch([f"link set {host.veth} promisc off", f"link set {host.veth} master {bridge}"])
