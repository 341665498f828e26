"""Real Ansible reaches the lab through the inventory `fleet lab up` writes, host keys checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from fleet.lab import Lab
from tests.conftest import need


def test_ansible_ping_reaches_every_lab_host(lab: Lab) -> None:
    need(shutil.which("ansible") is not None, "needs ansible-core (pip install ansible-core)")
    env = dict(
        os.environ,
        ANSIBLE_SSH_ARGS="-o ControlMaster=no",  # no ControlPersist masters left behind
        ANSIBLE_HOST_KEY_CHECKING="True",
        ANSIBLE_LOCAL_TEMP=str(lab.directory / "ansible-tmp"),
    )
    result = subprocess.run(
        ["ansible", "-o", "-i", str(lab.inventory_path), "lab", "-m", "ping"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # One line per host: `h1 | SUCCESS => {"changed": false, "ping": "pong"}`.
    replies = {}
    for line in result.stdout.splitlines():
        name, _, rest = line.partition(" | ")
        status, _, body = rest.partition(" => ")
        replies[name] = (status, json.loads(body).get("ping"))
    assert replies == {h.name: ("SUCCESS", "pong") for h in lab.hosts}
