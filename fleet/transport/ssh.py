"""SSH connections with asyncssh: verified host keys, ~/.ssh/config honoured, keepalive, and the agent's channel.

Only what the inventory sets is passed to asyncssh; everything else (User, Port, IdentityFile, ProxyJump) comes
from ~/.ssh/config as OpenSSH would read it, with the inventory winning as Ansible's vars do.
"""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass
from typing import Any, Dict, Optional

import asyncssh

from fleet.errors import HostError
from fleet.transport.channel import Channel
from fleet.transport.hostkeys import HostKeyPolicy, default_known_hosts
from fleet.transport.target import Target

EXIT_WAIT = 10.0


@dataclass(frozen=True)
class SshOptions:
    """Per-run SSH settings: a dead link is noticed after about keepalive_interval * (keepalive_count_max + 1) s."""

    connect_timeout: float = 10.0
    keepalive_interval: float = 5.0
    keepalive_count_max: int = 2
    accept_new: bool = False


class _Client(asyncssh.SSHClient):
    def __init__(self, policy: HostKeyPolicy) -> None:
        self.policy = policy

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        return self.policy.decide(host, addr, port, key)


def connect_kwargs(target: Target, options: SshOptions, policy: HostKeyPolicy) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = {
        "known_hosts": policy.known,
        "connect_timeout": options.connect_timeout,
        "keepalive_interval": options.keepalive_interval,
        "keepalive_count_max": options.keepalive_count_max,
        "client_factory": lambda: _Client(policy),
    }
    if target.port:
        kwargs["port"] = target.port
    if target.user:
        kwargs["username"] = target.user
    if target.key_file:
        kwargs["client_keys"] = [str(target.key_file)]
    return kwargs


async def connect(target: Target, options: SshOptions) -> asyncssh.SSHClientConnection:
    """Open an SSH connection to `target` or raise HostError saying why (refused key, auth, timeout, refused)."""
    policy = HostKeyPolicy(target.name, target.known_hosts or default_known_hosts(), options.accept_new)
    where = f"{target.address}:{target.port}" if target.port else target.address
    try:
        return await asyncssh.connect(target.address, **connect_kwargs(target, options, policy))
    except asyncssh.HostKeyNotVerifiable as exc:
        raise HostError(target.name, policy.refusal or f"host key refused ({exc.reason})") from None
    except asyncssh.PermissionDenied:
        user = target.user or "the ssh config's user"
        key = f" with key {target.key_file}" if target.key_file else ""
        raise HostError(target.name, f"ssh login refused for {user} at {where}{key}") from None
    except asyncssh.DisconnectError as exc:
        raise HostError(target.name, f"ssh to {where} disconnected: {exc.reason}") from None
    except asyncio.TimeoutError:
        raise HostError(target.name, f"ssh to {where}: no answer within {options.connect_timeout:g} s") from None
    except ConnectionRefusedError:
        raise HostError(target.name, f"ssh to {where}: connection refused (is sshd running?)") from None
    except OSError as exc:
        raise HostError(target.name, f"ssh to {where}: {exc.strerror or exc}") from None
    except (asyncssh.Error, ValueError) as exc:  # config and key-file problems
        raise HostError(target.name, f"ssh to {where}: {exc}") from None


async def run_command(conn: asyncssh.SSHClientConnection, host: str, command: str, timeout: float = 30.0) -> str:
    """Run a short command and return its stdout; HostError with its stderr when it fails."""
    try:
        result = await asyncio.wait_for(conn.run(command, check=False), timeout)
    except asyncio.TimeoutError:
        raise HostError(host, f"command did not finish within {timeout:g} s: {command[:60]}") from None
    except (asyncssh.Error, OSError) as exc:
        raise HostError(host, f"ssh command failed: {exc}") from None
    if result.exit_status not in (0, None):
        err = str(result.stderr or "").strip().splitlines()
        raise HostError(host, f"`{command[:60]}` exited {result.exit_status}: {err[-1] if err else 'no message'}")
    return str(result.stdout or "")


async def open_agent(conn: asyncssh.SSHClientConnection, host: str, argv: list) -> Channel:
    """Start the agent with `argv` on the connection and return its frame channel."""
    command = " ".join(shlex.quote(a) for a in argv)
    try:
        proc = await conn.create_process(command, encoding=None)
    except (asyncssh.Error, OSError) as exc:
        raise HostError(host, f"cannot start the agent: {exc}") from None

    async def closer() -> Optional[int]:
        try:
            await asyncio.wait_for(proc.wait_closed(), EXIT_WAIT)
        except (asyncio.TimeoutError, asyncssh.Error, OSError):
            proc.close()
        status = proc.exit_status
        conn.close()
        return status

    return Channel(host, proc.stdin, proc.stdout, proc.stderr, closer, "ssh")
