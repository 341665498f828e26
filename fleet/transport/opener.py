"""Opening the agent's channel for a target: a local subprocess, or SSH + check/push + remote start."""

from __future__ import annotations

from typing import Callable, Optional

from fleet.transport import deploy, ssh
from fleet.transport.channel import Channel
from fleet.transport.local import open_local
from fleet.transport.target import Target

StateCallback = Callable[[str, str], None]
"""(state, detail) for progress: "connecting", "pushing"."""


async def open_channel(
    target: Target,
    options: ssh.SshOptions,
    build: Optional[deploy.AgentBuild],
    on_state: StateCallback,
) -> Channel:
    """The agent's frame channel on `target`; HostError with the cause when it cannot be had."""
    if target.is_local:
        return await open_local(target.name, target.python, target.become)
    if build is None:
        raise ValueError("an SSH target needs an agent build")
    conn = await ssh.connect(target, options)
    try:
        on_state("pushing", "checking python3, msgpack, zstandard and the agent")
        argv, pushed, notices = await deploy.prepare_host(conn, target, build)
        how = "pushed" if pushed else "installed" if deploy.WRAPPER in argv else "cached"
        detail = f"agent {build.sha256[:12]} {how}"
        on_state("pushing", "; ".join([detail, *notices]))
        return await ssh.open_agent(conn, target.name, argv)
    except BaseException:
        conn.close()
        raise
