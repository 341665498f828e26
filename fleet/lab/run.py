"""Running the system tools the lab is built from (ip, ss, ssh-keygen) with errors that name the command."""

from __future__ import annotations

import subprocess
from typing import Sequence

from fleet.lab.errors import LabError


def run(cmd: Sequence[str], *, stdin: str | None = None, check: bool = True) -> str:
    """Run `cmd`, return its stdout; raise LabError with its stderr when it fails and `check` is set."""
    try:
        proc = subprocess.run(list(cmd), input=stdin, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise LabError(f"{cmd[0]} is not installed (needed by the namespace lab)") from exc
    if check and proc.returncode != 0:
        raise LabError(f"`{' '.join(cmd)}` failed: {proc.stderr.strip() or f'exit {proc.returncode}'}")
    return proc.stdout


def ip_batch(lines: Sequence[str], netns: str | None = None, force: bool = False) -> None:
    """Run many `ip` commands in one process (`ip -batch -`); with `force`, go on past errors and ignore them."""
    if not lines:
        return
    cmd = ["ip"] + (["-n", netns] if netns else []) + (["-force"] if force else []) + ["-batch", "-"]
    run(cmd, stdin="\n".join(lines) + "\n", check=not force)
