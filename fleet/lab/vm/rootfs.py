"""The lab VMs' root filesystem: Debian minbase with OpenSSH and the agent's Python modules, as one ext4 image that
every VM boots read-only-shared (QEMU snapshot=on), with the lab's SSH client and host keys baked in."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

from fleet.lab.vm import scripts
from fleet.lab.vm.cache import cached
from fleet.lab.vm.errors import VmError
from fleet.lab.vm.run import run

SUITE = "bookworm"
PACKAGES = [
    "openssh-server",
    "python3",
    "python3-msgpack",
    "python3-zstandard",
    # debootstrap resolves no virtual packages: python3-zstandard needs the cffi backend named explicitly
    "python3-cffi-backend",
    "iproute2",
    "procps",
]
IMAGE_SIZE = "1G"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
BUILD_VERSION = 1  # bump when the build steps below change in a way the inputs do not show


@dataclass(frozen=True)
class RootFs:
    """A built root filesystem: the image and the keys a client needs to log in and verify the guests."""

    directory: Path

    @property
    def image(self) -> Path:
        return self.directory / "rootfs.ext4"

    @property
    def client_key(self) -> Path:
        return self.directory / "client_ed25519"

    @property
    def host_public_key(self) -> str:
        fields = (self.directory / "host_ed25519.pub").read_text().split()
        return f"{fields[0]} {fields[1]}"


def host_mirror() -> str:
    """The Debian mirror this machine's apt uses (the VMs' packages come from the same place)."""
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for line in path.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    sources = Path("/etc/apt/sources.list")
    if sources.is_file():
        for line in sources.read_text().splitlines():
            words = line.split()
            if len(words) >= 3 and words[0] == "deb" and "security" not in words[1]:
                return words[1]
    return DEFAULT_MIRROR


def candidate_versions(packages: List[str]) -> Dict[str, str]:
    """apt's candidate version of each package (part of the cache key: a new Debian point release rebuilds)."""
    out = run(["apt-cache", "policy", *packages])
    versions: Dict[str, str] = {}
    current = ""
    for line in out.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = line[:-1]
        elif line.strip().startswith("Candidate:") and current:
            versions[current] = line.split()[1]
    return versions


def rootfs_inputs() -> Dict[str, object]:
    scripts_text = scripts.GUEST_INIT + scripts.SSHD_CONFIG
    return {
        "suite": SUITE,
        "mirror": host_mirror(),
        "packages": candidate_versions(PACKAGES),
        "size": IMAGE_SIZE,
        "scripts": hashlib.sha256(scripts_text.encode()).hexdigest()[:16],
        "version": BUILD_VERSION,
    }


def build_rootfs(cache_root: Path) -> RootFs:
    """The cached root filesystem, built (debootstrap, keys, init, mkfs.ext4 -d) when missing."""
    inputs = rootfs_inputs()
    return RootFs(cached(cache_root, "rootfs", inputs, lambda d: _build(d, str(inputs["mirror"]))))


def _keygen(path: Path, comment: str) -> None:
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])


def _build(directory: Path, mirror: str) -> None:
    tree = directory / "tree"
    try:
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                SUITE,
                str(tree),
                mirror,
            ],
            timeout=1200,
        )
    except VmError as exc:
        log = tree / "debootstrap" / "debootstrap.log"
        tail = " | ".join(log.read_text(errors="replace").splitlines()[-3:]) if log.is_file() else ""
        raise VmError(f"building the VM root filesystem: {exc} {tail}") from None
    _keygen(directory / "client_ed25519", "fleet-vm-client")
    _keygen(directory / "host_ed25519", "fleet-vm-host")
    ssh = tree / "etc" / "ssh"
    for old in ssh.glob("ssh_host_*"):
        old.unlink()
    shutil.copy(directory / "host_ed25519", ssh / "ssh_host_ed25519_key")
    shutil.copy(directory / "host_ed25519.pub", ssh / "ssh_host_ed25519_key.pub")
    os.chmod(ssh / "ssh_host_ed25519_key", 0o600)
    (ssh / "sshd_config.d").mkdir(exist_ok=True)
    (ssh / "sshd_config.d" / "fleet.conf").write_text(scripts.SSHD_CONFIG)
    dot_ssh = tree / "root" / ".ssh"
    dot_ssh.mkdir(mode=0o700, exist_ok=True)
    auth = dot_ssh / "authorized_keys"
    auth.write_text((directory / "client_ed25519.pub").read_text())
    os.chmod(auth, 0o600)
    init = tree / "sbin" / "fleet-init"
    init.write_text(scripts.GUEST_INIT)
    os.chmod(init, 0o755)
    (tree / "etc" / "hostname").write_text("fleetvm\n")
    # Package caches are dead weight in the image.
    shutil.rmtree(tree / "var" / "cache" / "apt" / "archives", ignore_errors=True)
    run(["mkfs.ext4", "-q", "-F", "-L", "fleetroot", "-d", str(tree), str(directory / "rootfs.ext4"), IMAGE_SIZE])
    subprocess.run(["rm", "-rf", "--one-file-system", str(tree)], check=False)
