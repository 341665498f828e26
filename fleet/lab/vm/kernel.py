"""Lab VM kernels: Debian's packaged kernels (stock and PREEMPT_RT) with a busybox initrd that loads the virtio and
ext4 modules they need to boot the root disk; cached by package version and initrd inputs."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

from fleet.lab.vm import debs, scripts
from fleet.lab.vm.cache import cached
from fleet.lab.vm.errors import VmError
from fleet.lab.vm.run import run

# flavour -> Debian metapackage. "custom" (irqsoff/preemptoff need IRQSOFF_TRACER/PREEMPT_TRACER, which no Debian
# kernel has) is built from linux-source: see custom.py.
FLAVOURS: Dict[str, str] = {"stock": "linux-image-amd64", "rt": "linux-image-rt-amd64"}
# What the initrd loads, dependencies first (modules.dep supplies them); crc32c is ext4's soft dependency.
BOOT_MODULES = ["crc32c_generic", "ext4", "virtio_pci", "virtio_blk", "virtio_net"]
BUSYBOX = Path("/bin/busybox")
BUILD_VERSION = 1


@dataclass(frozen=True)
class Kernel:
    """A bootable kernel: bzImage, initrd, the flavour and the release it reports (uname -r)."""

    directory: Path
    flavour: str
    release: str

    @property
    def vmlinuz(self) -> Path:
        return self.directory / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.directory / "initrd.gz"

    @property
    def config(self) -> Path:
        return self.directory / "config"


def resolve_package(flavour: str) -> Dict[str, str]:
    """{'package', 'version'}: the versioned image package the flavour's metapackage depends on now."""
    if flavour not in FLAVOURS:
        raise VmError(f"unknown kernel flavour {flavour!r} (known: {', '.join(sorted(FLAVOURS))}, custom)")
    pkg, version = debs.resolve(FLAVOURS[flavour], "linux-image-")
    return {"package": pkg, "version": version}


def kernel_inputs_init() -> str:
    """Hash of the initrd's init script (part of every kernel's cache key)."""
    return hashlib.sha256(scripts.INITRD_INIT.encode()).hexdigest()[:16]


def kernel_inputs(flavour: str) -> Dict[str, object]:
    return {
        "flavour": flavour,
        **resolve_package(flavour),
        "modules": BOOT_MODULES,
        "init": kernel_inputs_init(),
        "version": BUILD_VERSION,
    }


def build_kernel(cache_root: Path, flavour: str) -> Kernel:
    """The cached kernel of `flavour` ("stock" or "rt"), downloaded and given an initrd when missing."""
    inputs = kernel_inputs(flavour)
    directory = cached(cache_root, f"kernel-{flavour}", inputs, lambda d: _build(d, str(inputs["package"])))
    return Kernel(directory, flavour, (directory / "release").read_text().strip())


def _build(directory: Path, package: str) -> None:
    with tempfile.TemporaryDirectory(prefix="fleet-kernel-") as tmp:
        work = Path(tmp)
        tree = debs.unpack(package, work, timeout=600)
        releases = [p.name for p in (tree / "lib" / "modules").iterdir()]
        if len(releases) != 1:
            raise VmError(f"{package}: expected one module tree, found {releases}")
        release = releases[0]
        run(["depmod", "-b", str(tree), release])
        boot = tree / "boot"
        shutil.copy(boot / f"vmlinuz-{release}", directory / "vmlinuz")
        shutil.copy(boot / f"config-{release}", directory / "config")
        shutil.copy(boot / f"System.map-{release}", directory / "System.map")
        moddir = tree / "lib" / "modules" / release
        order = module_order(moddir, BOOT_MODULES)
        (directory / "initrd.gz").write_bytes(make_initrd(moddir, order))
        (directory / "release").write_text(release + "\n")


def module_order(moddir: Path, wanted: List[str]) -> List[str]:
    """Paths (relative to `moddir`) of `wanted` and their dependencies, each after what it depends on."""
    deps: Dict[str, List[str]] = {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        path, _, rest = line.partition(":")
        deps[path] = rest.split()
    by_name = {os.path.basename(p).split(".ko")[0].replace("-", "_"): p for p in deps}
    order: List[str] = []

    def visit(path: str) -> None:
        if path in order:
            return
        # modules.dep lists a module's dependencies closest first; load the farthest first.
        for dep in reversed(deps.get(path, [])):
            visit(dep)
        order.append(path)

    for name in wanted:
        if name not in by_name:
            raise VmError(f"kernel module {name} not found under {moddir}")
        visit(by_name[name])
    return order


def make_initrd(moddir: Path, order: List[str]) -> bytes:
    """A gzip'd newc cpio with static busybox, the modules (flat, uncompressed) and the init script."""
    if not BUSYBOX.is_file():
        raise VmError(f"{BUSYBOX} is missing (apt-get install busybox-static)")
    files: List[tuple] = [("bin", None, 0o40755), ("modules", None, 0o40755)]
    files.append(("bin/busybox", BUSYBOX.read_bytes(), 0o100755))
    names = []
    for rel in order:
        data = (moddir / rel).read_bytes()
        name = os.path.basename(rel)
        if name.endswith(".xz"):
            import lzma

            data, name = lzma.decompress(data), name[:-3]
        elif name.endswith(".zst"):
            import zstandard

            data, name = zstandard.ZstdDecompressor().decompressobj().decompress(data), name[:-4]
        files.append((f"modules/{name}", data, 0o100644))
        names.append(name)
    files.append(("modules.order", ("\n".join(names) + "\n").encode(), 0o100644))
    files.append(("init", scripts.INITRD_INIT.encode(), 0o100755))
    return gzip.compress(cpio_newc(files), 6)


def cpio_newc(files: List[tuple]) -> bytes:
    """A cpio archive in the kernel's initramfs format (newc) of (name, data or None for a directory, mode)."""
    out = io.BytesIO()

    def entry(ino: int, name: str, data: bytes, mode: int) -> None:
        encoded = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0]
        out.write(b"070701" + b"".join(b"%08X" % f for f in fields) + encoded)
        out.write(b"\0" * (-out.tell() % 4))
        out.write(data)
        out.write(b"\0" * (-out.tell() % 4))

    for ino, (name, data, mode) in enumerate(files, start=1):
        entry(ino, name, data or b"", mode)
    entry(0, "TRAILER!!!", b"", 0)
    return out.getvalue()
