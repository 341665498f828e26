"""One lab VM as a QEMU process: TCG (this machine's /dev/kvm is nested PVM, where stock kernels hang), user-mode
networking with SSH forwarded to a loopback port, the shared root image opened with snapshot=on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List

from fleet.lab.vm.errors import VmError

QEMU = "qemu-system-x86_64"


@dataclass(frozen=True)
class MachineSpec:
    """What one VM boots and how it is reached."""

    name: str
    vmlinuz: Path
    initrd: Path
    image: Path
    ssh_port: int
    console_log: Path
    pidfile: Path
    cpus: int = 1
    memory_mb: int = 512
    die_with_parent: bool = False
    """Kill QEMU when the process that started it dies (tests: a killed pytest leaves no VM behind)."""


def free_port() -> int:
    """A loopback TCP port nobody listens on now (QEMU binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def qemu_argv(spec: MachineSpec) -> List[str]:
    append = f"console=ttyS0 root=/dev/vda rw panic=-1 quiet loglevel=4 fleet.host={spec.name}"
    return [
        QEMU,
        "-name",
        f"fleet-vm-{spec.name}",
        "-nodefaults",
        "-no-user-config",
        "-accel",
        "tcg,tb-size=128",
        "-cpu",
        "max",
        "-smp",
        str(spec.cpus),
        "-m",
        str(spec.memory_mb),
        "-kernel",
        str(spec.vmlinuz),
        "-initrd",
        str(spec.initrd),
        "-append",
        append,
        # snapshot=on: guest writes go to a throw-away overlay, so every VM shares the one cached image.
        "-drive",
        f"file={spec.image},if=virtio,format=raw,snapshot=on",
        "-netdev",
        f"user,id=n0,hostfwd=tcp:127.0.0.1:{spec.ssh_port}-:22",
        "-device",
        "virtio-net-pci,netdev=n0,romfile=",  # no option ROM: no network boot, no ipxe-qemu needed
        "-display",
        "none",
        "-serial",
        f"file:{spec.console_log}",
        "-monitor",
        "none",
        "-no-reboot",
        "-pidfile",
        str(spec.pidfile),
    ]


def start(spec: MachineSpec) -> int:
    """Start the VM in its own session (so a Ctrl-C of the caller does not reach it); returns QEMU's pid."""
    spec.console_log.unlink(missing_ok=True)
    log = open(spec.console_log.with_suffix(".qemu.log"), "wb")
    try:
        proc = subprocess.Popen(
            qemu_argv(spec),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            preexec_fn=_die_with_parent if spec.die_with_parent else None,
        )
    except FileNotFoundError:
        raise VmError(f"{QEMU} is not installed (scripts/vm-deps installs it)") from None
    finally:
        log.close()
    time.sleep(0.2)
    if proc.poll() is not None:
        text = spec.console_log.with_suffix(".qemu.log").read_text(errors="replace").strip()
        raise VmError(f"{spec.name}: qemu exited at once: {text[-300:]}")
    return proc.pid


def _die_with_parent() -> None:
    """In the child before exec: PR_SET_PDEATHSIG, SIGKILL."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


def is_qemu(pid: int) -> bool:
    """True when `pid` is alive and is a QEMU process (not a recycled pid of something else)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
    except OSError:
        return False
    return state != "Z" and bool(cmdline) and os.path.basename(cmdline[0].decode(errors="replace")) == QEMU


def stop(pid: int, timeout: float = 5.0) -> None:
    """Kill the QEMU process `pid` (SIGTERM, then SIGKILL) and reap it when it is our child."""
    if not is_qemu(pid):
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:
                pass
            if not is_qemu(pid):
                return
            time.sleep(0.05)
