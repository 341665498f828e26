"""The agent as a local subprocess (`python3 -m agent serve`): for hosts with ansible_connection local."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import List, Optional

from fleet.errors import HostError
from fleet.transport.channel import Channel

EXIT_WAIT = 10.0  # seconds the agent gets to restore tracefs after its input closes


def agent_command(python: Optional[str] = None, become: bool = False) -> List[str]:
    """The argv that starts a local agent; `become` (as a non-root user) goes through `sudo -n`."""
    argv = [python or sys.executable, "-m", "agent", "serve"]
    if become and os.geteuid() != 0:
        argv = ["sudo", "-n", "--", *argv]
    return argv


async def open_local(host: str, python: Optional[str] = None, become: bool = False) -> Channel:
    """Start a local agent. Its own session, so a Ctrl-C at the terminal reaches the coordinator only, which then
    stops the agent cleanly through the protocol."""
    argv = agent_command(python, become)
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise HostError(host, f"cannot start the local agent ({argv[0]}: {exc.strerror})") from None
    assert proc.stdin is not None and proc.stdout is not None

    async def closer() -> Optional[int]:
        try:
            return await asyncio.wait_for(proc.wait(), EXIT_WAIT)
        except asyncio.TimeoutError:
            proc.kill()
            return await proc.wait()

    return Channel(host, proc.stdin, proc.stdout, proc.stderr, closer, "local")
