"""Getting the agent onto a host: check python3, msgpack and zstandard in one command, use the agent `fleet deploy`
installed when it is this exact build, else push the zipapp over SFTP only when the host lacks that build
(content-addressed by sha256), and the argv that starts it."""

from __future__ import annotations

import hashlib
import secrets
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import asyncssh

from fleet.deploy.installed import INSTALL_DIR, SHA_FILE, WRAPPER
from fleet.errors import FleetError, HostError
from fleet.transport.ssh import run_command
from fleet.transport.target import Target

REMOTE_DIR = ".cache/fleet"  # relative to the login user's home
MIN_PYTHON = (3, 8)
TAG = "fleet-check"


@dataclass(frozen=True)
class AgentBuild:
    """The zipapp built on the coordinator and its content hash."""

    path: Path
    sha256: str

    @property
    def remote_name(self) -> str:
        return f"agent-{self.sha256}.pyz"


def build_agent(directory: Optional[Path] = None) -> AgentBuild:
    """Build the agent zipapp (reproducible: same sources, same hash) into `directory` (default: a temp dir)."""
    try:
        from agent.build import build_zipapp
    except ImportError as exc:
        raise FleetError(f"cannot build the agent zipapp ({exc})") from None
    target = Path(directory or tempfile.mkdtemp(prefix="fleet-agent-")) / "agent.pyz"
    sha = build_zipapp(target)
    if sha != hashlib.sha256(target.read_bytes()).hexdigest():
        raise FleetError(f"{target}: the zipapp's hash does not match what the build reported")
    return AgentBuild(target, sha)


@dataclass
class HostCheck:
    """What the one check command found on a host."""

    home: str = ""
    uid: int = -1
    python: Optional[str] = None
    version: Optional[tuple] = None
    missing: List[str] = field(default_factory=list)
    cached: bool = False
    sudo_ok: Optional[bool] = None
    installed: Optional[str] = None
    """sha256 of the agent build `fleet deploy` installed (its wrapper, sha file and zipapp all present)."""


def check_script(python: str, build: AgentBuild, become: bool) -> str:
    """A POSIX sh script printing `fleet-check KEY VALUE` lines: home, uid, python version, missing modules,
    whether this agent build is already there, whether sudo works without a password."""
    probe = (
        "import sys\n"
        f"print('{TAG} python', sys.version_info[0], sys.version_info[1])\n"
        "for m in ('msgpack', 'zstandard'):\n"
        "    try:\n"
        "        __import__(m)\n"
        "    except ImportError:\n"
        f"        print('{TAG} missing', m)\n"
    )
    py = shlex.quote(python)
    lines = [
        f'echo "{TAG} home $HOME"',
        f'echo "{TAG} uid $(id -u)"',
        f"if command -v {py} >/dev/null 2>&1; then {py} -c {shlex.quote(probe)}; else echo '{TAG} nopython'; fi",
        f'test -f "$HOME/{REMOTE_DIR}/{build.remote_name}" && echo "{TAG} cached"',
        # $s stays set only when the deployed agent is complete (wrapper, sha file, the zipapp it names).
        f"s=; [ -x {WRAPPER} ] && read s _ < {SHA_FILE} && [ -f {INSTALL_DIR}/agent-$s.pyz ] "
        f'&& echo "{TAG} installed $s" || s=',
    ]
    if become:
        # The fleet user's sudo rule allows the wrapper and nothing else: ask sudo about exactly that command.
        lines.append(
            f'if [ -n "$s" ]; then sudo -n -l {WRAPPER} serve >/dev/null 2>&1; else sudo -n true 2>/dev/null; fi '
            f"&& echo '{TAG} sudo ok' || echo '{TAG} sudo no'"
        )
    lines.append("true")
    return "sh -c " + shlex.quote("\n".join(lines))


def parse_check(output: str) -> HostCheck:
    check = HostCheck()
    for line in output.splitlines():
        words = line.split()
        if len(words) < 2 or words[0] != TAG:
            continue
        key, rest = words[1], words[2:]
        if key == "home" and rest:
            check.home = " ".join(rest)
        elif key == "uid" and rest:
            check.uid = int(rest[0])
        elif key == "python" and len(rest) == 2:
            check.version = (int(rest[0]), int(rest[1]))
        elif key == "missing" and rest:
            check.missing.append(rest[0])
        elif key == "cached":
            check.cached = True
        elif key == "sudo" and rest:
            check.sudo_ok = rest[0] == "ok"
        elif key == "installed" and rest:
            check.installed = rest[0]
    return check


def needs_sudo(target: Target, check: HostCheck) -> bool:
    return target.become and check.uid != 0


def verdict(target: Target, python: str, check: HostCheck, installed: bool = False) -> List[str]:
    """Problems that stop the agent from running on this host (empty when it can run). An `installed` agent runs
    with the python and modules its wrapper names, so the login python is not judged then."""
    problems = []
    if installed:
        pass
    elif check.version is None:
        problems.append(f"no {python} (set ansible_python_interpreter, or install python3 >= 3.8)")
    elif check.version < MIN_PYTHON:
        problems.append(f"{python} is {check.version[0]}.{check.version[1]}; the agent needs 3.8 or newer")
    elif "msgpack" in check.missing:
        problems.append(f"python module msgpack is missing for {python} (apt install python3-msgpack)")
    if needs_sudo(target, check) and check.sudo_ok is False:
        problems.append(f"ansible_become is set but `sudo -n` asks for a password for {target.user or 'the user'}")
    if check.uid != 0 and not target.become:
        problems.append("not root and ansible_become is not set: tracefs needs root (set ansible_become: true)")
    return problems


def installed_argv(target: Target, check: HostCheck) -> List[str]:
    """Start the deployed agent through its wrapper: directly as root, else via the fleet user's sudo rule (which
    allows exactly `sudo -n WRAPPER serve`, hence no -u and no --)."""
    return ["sudo", "-n", WRAPPER, "serve"] if needs_sudo(target, check) else [WRAPPER, "serve"]


async def prepare_host(conn: asyncssh.SSHClientConnection, target: Target, build: AgentBuild) -> tuple:
    """Check the host; use the deployed agent when it is this build, else push the agent if the host lacks this
    build; returns (argv to start it, pushed?, notices)."""
    python = target.python or "python3"
    check = parse_check(await run_command(conn, target.name, check_script(python, build, target.become)))
    if not check.home:
        raise HostError(target.name, "the host check printed nothing (is the login shell POSIX?)")
    notices = []
    if check.installed is not None and check.installed != build.sha256:
        differs = (
            f"installed agent build {check.installed[:12]} differs from this fleet's {build.sha256[:12]}: "
            f"run `fleet deploy --hosts {target.name}`"
        )
        if check.uid != 0:  # a least-privilege login may run only the installed build
            raise HostError(target.name, differs)
        notices.append(f"{differs} (pushed this fleet's agent for this run)")
    use_installed = check.installed == build.sha256
    problems = verdict(target, python, check, installed=use_installed)
    if problems:
        raise HostError(target.name, "; ".join(problems))
    if use_installed:
        return installed_argv(target, check), False, notices
    if "zstandard" in check.missing:
        notices.append(f"python module zstandard is missing for {python}: the agent compresses with zlib (slower)")
    remote_dir = f"{check.home.rstrip('/')}/{REMOTE_DIR}"
    remote_path = f"{remote_dir}/{build.remote_name}"
    pushed = False
    if not check.cached:
        await push(conn, target.name, build, remote_dir, remote_path)
        pushed = True
    argv = [python, remote_path, "serve"]
    if needs_sudo(target, check):
        argv = ["sudo", "-n", "-u", target.become_user, "--", *argv]
    return argv, pushed, notices


async def push(conn: asyncssh.SSHClientConnection, host: str, build: AgentBuild, remote_dir: str, path: str) -> None:
    """Copy the zipapp over SFTP to a temporary name, then rename, so a half-copied file is never used."""
    tmp = f"{path}.tmp-{secrets.token_hex(4)}"  # hosts may share a home (NFS, the namespace lab)
    try:
        async with conn.start_sftp_client() as sftp:
            await sftp.makedirs(remote_dir, exist_ok=True)
            await sftp.put(str(build.path), tmp)
            await sftp.chmod(tmp, 0o755)
            try:
                await sftp.posix_rename(tmp, path)
            except asyncssh.SFTPError:
                await sftp.rename(tmp, path)
    except (asyncssh.Error, OSError) as exc:
        raise HostError(host, f"pushing the agent to {path} failed: {exc}") from None
