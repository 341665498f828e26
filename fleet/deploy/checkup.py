"""Running the doctor script on many hosts at once: over SSH as the coordinator connects (asyncssh, the
inventory's keys and known_hosts), or as a local process for ansible_connection=local."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import List, Optional, Sequence

from fleet.deploy.doctor import Finding, diagnose, doctor_script, parse_doctor
from fleet.errors import HostError
from fleet.transport.ssh import SshOptions, connect, run_command
from fleet.transport.target import Target


@dataclass
class HostReport:
    """A host's findings, or the reason it could not be checked at all."""

    host: str
    findings: List[Finding]
    error: Optional[str] = None

    @property
    def healthy(self) -> bool:
        return self.error is None and all(f.ok for f in self.findings)


async def _output(target: Target, script: str, options: SshOptions) -> str:
    if target.is_local:
        proc = await asyncio.create_subprocess_shell(
            script, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, _ = await proc.communicate()
        return out.decode(errors="replace")
    conn = await connect(target, options)
    try:
        return await run_command(conn, target.name, script)
    finally:
        conn.close()


async def check_host(target: Target, expected_sha: str, options: SshOptions) -> HostReport:
    try:
        out = await _output(target, doctor_script(target.python or "python3"), options)
    except HostError as exc:
        return HostReport(target.name, [], exc.cause)
    facts = parse_doctor(out)
    if facts.uid < 0:
        return HostReport(target.name, [], "the check printed nothing (is the login shell POSIX sh?)")
    return HostReport(target.name, diagnose(target.name, facts, expected_sha, target.become))


async def check_hosts(targets: Sequence[Target], expected_sha: str, options: SshOptions) -> List[HostReport]:
    """Every host checked concurrently, reports in the order of `targets`."""
    return list(await asyncio.gather(*(check_host(t, expected_sha, options) for t in targets)))
