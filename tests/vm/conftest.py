"""The VM lab for tracer tests: QEMU guests with Debian's PREEMPT_RT kernel (function, function_graph, wakeup*,
osnoise, ...), which this machine's locked-down kernel lacks. Skips on a laptop without the tools, fails under CI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from fleet.lab.vm.lab import VmLab
from tests.conftest import need

TOOLS = ("qemu-system-x86_64", "debootstrap", "depmod", "mkfs.ext4", "ssh", "ssh-keygen", "apt-get")


def have_vm_tools() -> bool:
    return os.geteuid() == 0 and all(shutil.which(t) for t in TOOLS) and Path("/bin/busybox").is_file()


def need_vm_tools() -> None:
    need(have_vm_tools(), "needs root, qemu-system-x86, debootstrap, busybox-static and kmod (scripts/vm-deps)")


@pytest.fixture(scope="session")
def vm_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VmLab]:
    """Two 1-vCPU, 512 MB guests (vm1, vm2) on the rt kernel for the whole session, torn down at the end."""
    need_vm_tools()
    lab = VmLab.up(2, "rt", directory=tmp_path_factory.mktemp("vmlab"), die_with_parent=True)
    try:
        yield lab
    finally:
        lab.down()
