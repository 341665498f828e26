"""The "custom" kernel flavour: irqsoff, preemptoff and preemptirqsoff need IRQSOFF_TRACER / PREEMPT_TRACER, which
no Debian kernel enables (the function profiler and stack tracer come with them). Built from Debian's linux-source
with defconfig + kvm_guest.config + FRAGMENT (virtio and ext4 built in, so it boots without modules; graphics, sound,
USB, wireless, SCSI/ATA and network filesystems off); cached by the source version and the fragment, so a machine
builds it once (`scripts/vm-deps build`). Measured on 2 cores shared with other jobs: 581 s wall, 14.7 CPU-minutes
(full defconfig: 1401 s, 23.8 CPU-minutes; 548 s on an idle machine)"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict

from fleet.lab.vm import debs
from fleet.lab.vm import kernel as packaged
from fleet.lab.vm.cache import cached
from fleet.lab.vm.errors import VmError
from fleet.lab.vm.kernel import Kernel
from fleet.lab.vm.run import run

SOURCE_PACKAGE = "linux-source"
FRAGMENT = """\
CONFIG_FTRACE=y
CONFIG_FUNCTION_TRACER=y
CONFIG_FUNCTION_GRAPH_TRACER=y
CONFIG_DYNAMIC_FTRACE=y
CONFIG_IRQSOFF_TRACER=y
CONFIG_PREEMPT_TRACER=y
CONFIG_SCHED_TRACER=y
CONFIG_STACK_TRACER=y
CONFIG_FUNCTION_PROFILER=y
CONFIG_HWLAT_TRACER=y
CONFIG_OSNOISE_TRACER=y
CONFIG_TIMERLAT_TRACER=y
CONFIG_KPROBES=y
CONFIG_KPROBE_EVENTS=y
CONFIG_MODULES=y
CONFIG_PREEMPT=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=y
CONFIG_VIRTIO_NET=y
CONFIG_EXT4_FS=y
CONFIG_DEBUG_INFO_NONE=y
# Not needed by a QEMU guest with virtio disk/net and a serial console: off, to shorten the build
# CONFIG_DRM is not set
# CONFIG_AGP is not set
# CONFIG_SOUND is not set
# CONFIG_USB_SUPPORT is not set
# CONFIG_WLAN is not set
# CONFIG_WIRELESS is not set
# CONFIG_CFG80211 is not set
# CONFIG_RFKILL is not set
# CONFIG_NETWORK_FILESYSTEMS is not set
# CONFIG_MACINTOSH_DRIVERS is not set
# CONFIG_PCCARD is not set
# CONFIG_MD is not set
# CONFIG_ATA is not set
# CONFIG_SCSI is not set
# CONFIG_ETHERNET is not set
# CONFIG_HID is not set
# CONFIG_INPUT_MOUSE is not set
# CONFIG_INPUT_JOYSTICK is not set
# CONFIG_HIBERNATION is not set
"""
BUILD_VERSION = 1


def custom_inputs() -> Dict[str, object]:
    """The cache key's inputs: linux-source's version (a Debian update rebuilds) and the config fragment."""
    pkg, version = debs.resolve(SOURCE_PACKAGE, "linux-source-")
    return {
        "package": pkg,
        "version": version,
        "fragment": hashlib.sha256(FRAGMENT.encode()).hexdigest()[:16],
        "init": packaged.kernel_inputs_init(),
        "version_build": BUILD_VERSION,
    }


def build_custom_kernel(cache_root: Path) -> Kernel:
    """The cached custom kernel, built when missing (needs build-essential, bc, flex, bison, libelf-dev, libssl-dev;
    about 10 minutes on 2 cores)."""
    inputs = custom_inputs()
    directory = cached(cache_root, "kernel-custom", inputs, lambda d: _build(d, str(inputs["package"])))
    return Kernel(directory, "custom", (directory / "release").read_text().strip())


def _build(directory: Path, package: str) -> None:
    with tempfile.TemporaryDirectory(prefix="fleet-kbuild-") as tmp:
        work = Path(tmp)
        tree = debs.unpack(package, work, timeout=900)
        tarballs = list((tree / "usr" / "src").glob("linux-source-*.tar.*"))
        if not tarballs:
            raise VmError(f"{package} holds no source tarball")
        (work / "src").mkdir()
        # tar(1) unpacks the 6.1 tree in ~30 s; Python's tarfile took minutes
        run(["tar", "-xf", str(tarballs[0]), "-C", str(work / "src")], timeout=900)
        (src,) = [p for p in (work / "src").iterdir() if p.is_dir()]
        (src / "fleet.config").write_text(FRAGMENT)
        jobs = str(os.cpu_count() or 1)
        run(["make", "-C", str(src), "defconfig", "kvm_guest.config"], timeout=600)
        run([str(src / "scripts" / "kconfig" / "merge_config.sh"), "-m", ".config", "fleet.config"], cwd=src)
        run(["make", "-C", str(src), "olddefconfig"], timeout=600)
        run(["make", "-C", str(src), f"-j{jobs}", "bzImage"], timeout=3600)
        shutil.copy(src / "arch" / "x86" / "boot" / "bzImage", directory / "vmlinuz")
        shutil.copy(src / ".config", directory / "config")
        release = run(["make", "-s", "-C", str(src), "kernelrelease"]).strip()
        # Everything the root disk needs is built in: the initrd has no modules to load.
        (directory / "initrd.gz").write_bytes(packaged.make_initrd(src, []))
        (directory / "release").write_text(release + "\n")
