"""A lab of N QEMU guests on this machine, each reachable over SSH on a loopback port, listed in an Ansible
inventory (group `vm`). State lives in a directory (default /tmp/fleet-vm) so any process can tear it down."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import List, Optional, Type

from fleet.lab.files import LabDirectory
from fleet.lab.vm import files, machine
from fleet.lab.vm.cache import DEFAULT_ROOT
from fleet.lab.vm.errors import VmError
from fleet.lab.vm.kernel import Kernel, build_kernel
from fleet.lab.vm.rootfs import RootFs, build_rootfs
from fleet.lab.vm.state import VmHost, VmState

DEFAULT_DIR = Path("/tmp/fleet-vm")
BOOT_TIMEOUT = 180.0  # TCG boots in ~12 s alone; two guests on a busy 2-core machine take several times that
MAX_VMS = 4


def build(flavour: str = "stock", cache_root: Path = DEFAULT_ROOT) -> tuple:
    """Build (or find cached) the root filesystem and the kernel of `flavour`; returns (RootFs, Kernel)."""
    if flavour == "custom":
        from fleet.lab.vm.custom import build_custom_kernel

        return build_rootfs(cache_root), build_custom_kernel(cache_root)
    return build_rootfs(cache_root), build_kernel(cache_root, flavour)


class VmLab(LabDirectory):
    """A running VM lab; create with VmLab.up(...) or VmLab.load(directory), end with down() (or as a context)."""

    def __init__(self, directory: Path, state: VmState) -> None:
        self.directory = directory
        self.state = state

    @property
    def hosts(self) -> List[VmHost]:
        return list(self.state.hosts)

    def host(self, name: str) -> VmHost:
        for h in self.state.hosts:
            if h.name == name:
                return h
        raise VmError(f"no VM {name!r} in this lab (VMs: {', '.join(h.name for h in self.state.hosts)})")

    def console_log(self, name: str) -> Path:
        return self.directory / f"{name}.console.log"

    # --- bring-up ----------------------------------------------------------------------------------------------
    @classmethod
    def up(
        cls,
        count: int = 2,
        flavour: str = "stock",
        directory: Path = DEFAULT_DIR,
        cache_root: Path = DEFAULT_ROOT,
        cpus: int = 1,
        memory_mb: int = 512,
        prefix: str = "vm",
        die_with_parent: bool = False,
    ) -> VmLab:
        """Boot `count` VMs named <prefix>1..N with the `flavour` kernel and wait until each answers SSH;
        `die_with_parent` ties the VMs' lives to this process (for tests)."""
        if not 1 <= count <= MAX_VMS:
            raise VmError(f"a VM lab has 1 to {MAX_VMS} VMs on this machine, not {count}")
        directory = Path(directory).resolve()
        if VmState.load(directory) is not None:
            raise VmError(f"a VM lab is already up in {directory}; `fleet lab vm down --dir {directory}`")
        directory.mkdir(parents=True, exist_ok=True)
        rootfs, kernel = build(flavour, cache_root)
        state = VmState(
            flavour=flavour,
            release=kernel.release,
            image=str(rootfs.image),
            client_key=str(rootfs.client_key),
            host_public_key=rootfs.host_public_key,
        )
        lab = cls(directory, state)
        try:
            lab._boot(rootfs, kernel, count, cpus, memory_mb, prefix, die_with_parent)
        except BaseException:
            lab.down()
            raise
        return lab

    def _boot(
        self, rootfs: RootFs, kernel: Kernel, count: int, cpus: int, memory_mb: int, prefix: str, orphan_kill: bool
    ) -> None:
        for i in range(1, count + 1):
            name = f"{prefix}{i}"
            spec = machine.MachineSpec(
                name=name,
                vmlinuz=kernel.vmlinuz,
                initrd=kernel.initrd,
                image=rootfs.image,
                ssh_port=machine.free_port(),
                console_log=self.console_log(name),
                pidfile=self.directory / f"{name}.pid",
                cpus=cpus,
                memory_mb=memory_mb,
                die_with_parent=orphan_kill,
            )
            host = VmHost(name, spec.ssh_port)
            self.state.hosts.append(host)
            self.state.save(self.directory)  # from here on `down` finds this VM whatever happens
            host.pid = machine.start(spec)
            self.state.save(self.directory)
        self.known_hosts.write_text(files.known_hosts_text(self.state.hosts, self.state.host_public_key))
        key = Path(self.state.client_key)
        self.ssh_config.write_text(files.ssh_config_text(self.state.hosts, key, self.known_hosts))
        for h in self.state.hosts:
            self.wait_ssh(h.name)
        files.write_inventory(self.inventory_path, self.state.hosts, key, self.known_hosts, self.state.flavour)

    def wait_ssh(self, name: str, timeout: float = BOOT_TIMEOUT) -> None:
        """Wait until the VM runs a command over SSH; VmError with the console's last lines if it does not."""
        h = self.host(name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not machine.is_qemu(h.pid):
                raise VmError(f"{name}: qemu exited while booting; console: {self._console_tail(name)}")
            if "fleet-vm: ready" in self._console_text(name):
                try:
                    self.run(name, "true", timeout=20)
                    return
                except VmError:
                    pass
            time.sleep(0.5)
        raise VmError(f"{name}: no SSH within {timeout:g} s; console: {self._console_tail(name)}")

    def _console_text(self, name: str) -> str:
        try:
            return self.console_log(name).read_text(errors="replace")
        except OSError:
            return ""

    def _console_tail(self, name: str) -> str:
        return " | ".join(self._console_text(name).strip().splitlines()[-4:]) or "(empty)"

    # --- guest commands ----------------------------------------------------------------------------------------
    def ssh_argv(self, name: str) -> List[str]:
        self.host(name)
        return ["ssh", "-F", str(self.ssh_config), name]

    def run(self, name: str, command: str, timeout: float = 60.0, stdin: Optional[bytes] = None) -> str:
        """Run a shell command on VM `name` over SSH and return its stdout; VmError on failure or timeout
        (TCG guests are slow and a latency tracer switch once hung one: every guest command has a timeout)."""
        return self.run_bytes(name, command, timeout, stdin).decode(errors="replace")

    def run_bytes(self, name: str, command: str, timeout: float = 60.0, stdin: Optional[bytes] = None) -> bytes:
        """Like run(), but stdout as bytes (for binary dumps)."""
        argv = [*self.ssh_argv(name), command]
        try:
            proc = subprocess.run(argv, input=stdin or b"", capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise VmError(f"{name}: `{command[:60]}` did not finish within {timeout:g} s") from None
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise VmError(f"{name}: `{command[:60]}` exited {proc.returncode}: {err[-1] if err else 'no message'}")
        return proc.stdout

    # --- tear-down ---------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path = DEFAULT_DIR) -> VmLab:
        directory = Path(directory).resolve()
        state = VmState.load(directory)
        if state is None:
            raise VmError(f"no VM lab is up in {directory} (start one with `fleet lab vm up --dir {directory}`)")
        return cls(directory, state)

    def down(self) -> List[str]:
        """Stop every VM of the lab and remove its files; returns what is still running afterwards."""
        for h in self.state.hosts:
            if h.pid:
                machine.stop(h.pid)
            pidfile = self.directory / f"{h.name}.pid"
            if pidfile.is_file():
                try:
                    machine.stop(int(pidfile.read_text().split()[0]))
                except (ValueError, IndexError):
                    pass
                pidfile.unlink(missing_ok=True)
        left = [f"qemu pid {h.pid} ({h.name})" for h in self.state.hosts if h.pid and machine.is_qemu(h.pid)]
        for path in (self.inventory_path, self.known_hosts, self.ssh_config, self.directory / "state.json"):
            path.unlink(missing_ok=True)
        return left

    def remove_logs(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> VmLab:
        return self

    def __exit__(
        self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.down()
