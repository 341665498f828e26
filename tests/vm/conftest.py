"""The VM lab for tracer tests: QEMU guests with Debian's PREEMPT_RT kernel (function, function_graph, wakeup*,
osnoise, ...) or the custom kernel (irqsoff, preemptoff, function profiler, stack tracer), which this machine's
locked-down kernel lacks. Skips on a laptop without the tools, fails under CI. One lab at a time (at most two VMs
on this 2-core machine): asking for the other flavour tears the current lab down first."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator, Optional

import pytest

from fleet.lab.vm.lab import VmLab
from tests.conftest import need

TOOLS = ("qemu-system-x86_64", "debootstrap", "depmod", "mkfs.ext4", "ssh", "ssh-keygen", "apt-get")


def have_vm_tools() -> bool:
    return os.geteuid() == 0 and all(shutil.which(t) for t in TOOLS) and Path("/bin/busybox").is_file()


def need_vm_tools() -> None:
    need(have_vm_tools(), "needs root, qemu-system-x86, debootstrap, busybox-static and kmod (scripts/vm-deps)")


class Labs:
    """The session's one running lab, booted again with another kernel flavour when a test asks for it."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.lab: Optional[VmLab] = None
        self.flavour = ""

    def get(self, flavour: str) -> VmLab:
        if self.lab is None or self.flavour != flavour:
            self.close()
            self.lab = VmLab.up(2, flavour, directory=self.factory.mktemp(f"vmlab-{flavour}"), die_with_parent=True)
            self.flavour = flavour
        return self.lab

    def close(self) -> None:
        if self.lab is not None:
            lab, self.lab = self.lab, None
            lab.down()


@pytest.fixture(scope="session")
def vm_labs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Labs]:
    need_vm_tools()
    labs = Labs(tmp_path_factory)
    try:
        yield labs
    finally:
        labs.close()


@pytest.fixture
def vm_lab(vm_labs: Labs) -> VmLab:
    """Two 1-vCPU, 512 MB guests (vm1, vm2) on the rt kernel (kept up across tests until another flavour is asked)."""
    return vm_labs.get("rt")


@pytest.fixture
def vm_lab_custom(vm_labs: Labs) -> VmLab:
    """Two 1-vCPU guests on the custom kernel (irqsoff, preemptoff, preemptirqsoff, function profiler, stack tracer;
    built by `scripts/vm-deps build`, or here when missing: about 10 minutes)."""
    return vm_labs.get("custom")
