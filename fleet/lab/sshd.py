"""One OpenSSH sshd per namespace host, started inside the host's own mount namespace.

`ip netns exec` unshares the mount namespace and remounts /sys, so tracefs must be mounted by the same process
that then execs sshd; every SSH session inherits that mount namespace. root's ~/.bashrc runs pyenv init on this
machine (0.5-1.7 s per SSH command): an empty file is bind-mounted over it, inside that namespace only.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterable, Optional

from fleet.lab.errors import LabError
from fleet.lab.rootfs import HostRoot
from fleet.lab.state import LabHost

SSHD = "/usr/sbin/sshd"
BASHRC = "/root/.bashrc"


def config_text(host: LabHost, host_key: Path, authorized_keys: Path, pid_file: Path) -> str:
    return f"""\
ListenAddress {host.address}:22
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized_keys} .ssh/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 200
MaxSessions 100
Subsystem sftp internal-sftp
"""


def start(
    host: LabHost, config: Path, log: Path, empty_file: Path, root: Optional[HostRoot] = None, root_script: str = ""
) -> subprocess.Popen[bytes]:
    """Start sshd -D in `host`'s namespace with tracefs mounted and ~/.bashrc masked; returns the sshd process.
    With `root`, `root_script` first mounts the host's own root (fleet.lab.rootfs) and sshd runs chrooted there."""
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    prefix = ""
    if root is None:
        script = "mount -t tracefs nodev /sys/kernel/tracing || exit 1; "
    else:
        script = root_script
        prefix = str(root.merged)
    if os.path.exists(BASHRC):
        script += f"mount --bind {shlex.quote(str(empty_file))} {shlex.quote(prefix + BASHRC)} || exit 1; "
    chroot = f"chroot {shlex.quote(prefix)} " if prefix else ""
    script += f"exec {chroot}{SSHD} -D -f {shlex.quote(str(config))} -E {shlex.quote(str(log))}"
    # `ip netns exec`, `sh` and `chroot` all exec, so the child's pid ends up being sshd's.
    with open(log, "ab") as err:
        return subprocess.Popen(
            ["ip", "netns", "exec", host.netns, "sh", "-c", script],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )


def wait_listening(hosts: Iterable[LabHost], procs: dict, log_dir: Path, timeout: float = 10.0) -> None:
    """Return once every host's sshd accepts TCP connections; raise LabError naming a host whose sshd died."""
    pending = list(hosts)
    deadline = time.monotonic() + timeout
    while pending:
        still = []
        for host in pending:
            proc: Optional[subprocess.Popen[bytes]] = procs.get(host.name)
            if proc is not None and proc.poll() is not None:
                log = log_dir / f"{host.name}.sshd.log"
                tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
                raise LabError(f"{host.name}: sshd exited with {proc.returncode}: {' / '.join(tail)}")
            try:
                with socket.create_connection((host.address, 22), timeout=0.2):
                    pass
            except OSError:
                still.append(host)
        pending = still
        if pending:
            if time.monotonic() > deadline:
                raise LabError(f"sshd not listening after {timeout:.0f} s on: {', '.join(h.name for h in pending)}")
            time.sleep(0.005)


def kill(pid: int) -> None:
    """SIGKILL `pid` if it is still alive (and reap it if it is our child)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
