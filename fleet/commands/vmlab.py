"""`fleet lab vm build|up|down|status`: QEMU guests with Debian kernels that have the tracers this machine lacks."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from fleet.lab.vm.cache import DEFAULT_ROOT
from fleet.lab.vm.kernel import FLAVOURS
from fleet.lab.vm.lab import DEFAULT_DIR, MAX_VMS, VmLab, build
from fleet.lab.vm.machine import is_qemu

FLAVOUR_HELP = "kernel: stock (function, function_graph), rt (adds wakeup*, hwlat, osnoise, timerlat), custom"


def register(lab_sub: argparse._SubParsersAction) -> None:
    """Add `vm` under `fleet lab`."""
    parser = lab_sub.add_parser(
        "vm",
        help="a lab of QEMU VMs with Debian kernels (function, function_graph, wakeup*, osnoise, ...)",
        description="QEMU (TCG) guests reachable over SSH on loopback ports, in the inventory group `vm`. "
        f"Root images and kernels are built once and cached under {DEFAULT_ROOT}.",
    )
    sub = parser.add_subparsers(dest="vm_command", metavar="ACTION", required=True)
    flavours = [*sorted(FLAVOURS), "custom"]

    b = sub.add_parser("build", help="build (or find cached) the root image and a kernel")
    b.add_argument("--kernel", choices=flavours, default="stock", help=FLAVOUR_HELP)
    b.add_argument("--cache", type=Path, default=DEFAULT_ROOT, help=f"cache directory (default {DEFAULT_ROOT})")
    b.set_defaults(func=_build)

    up = sub.add_parser("up", help="boot N VMs and write their inventory, known_hosts and ssh_config")
    up.add_argument("-n", "--vms", type=int, default=2, help=f"number of VMs, 1-{MAX_VMS} (default 2)")
    up.add_argument("--kernel", choices=flavours, default="stock", help=FLAVOUR_HELP)
    up.add_argument("--cpus", type=int, default=1, help="vCPUs per VM (default 1)")
    up.add_argument("--memory", type=int, default=512, metavar="MB", help="memory per VM (default 512)")
    up.add_argument("--cache", type=Path, default=DEFAULT_ROOT, help=f"cache directory (default {DEFAULT_ROOT})")
    _dir_arg(up)
    up.set_defaults(func=_up)

    down = sub.add_parser("down", help="stop the VMs and remove the lab's files")
    _dir_arg(down)
    down.set_defaults(func=_down)

    status = sub.add_parser("status", help="the VMs, their ports and whether QEMU runs")
    _dir_arg(status)
    status.set_defaults(func=_status)


def _dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"lab directory (default {DEFAULT_DIR})")


def _build(args: argparse.Namespace) -> int:
    start = time.monotonic()
    rootfs, kernel = build(args.kernel, args.cache)
    print(f"root image: {rootfs.image}")
    print(f"kernel:     {kernel.vmlinuz} ({kernel.release})")
    print(f"ready in {time.monotonic() - start:.1f} s")
    return 0


def _up(args: argparse.Namespace) -> int:
    start = time.monotonic()
    lab = VmLab.up(args.vms, args.kernel, args.dir, args.cache, args.cpus, args.memory)
    print(f"{len(lab.hosts)} VM(s), kernel {lab.state.release}, up in {time.monotonic() - start:.1f} s")
    _print_hosts(lab)
    print(f"inventory:  {lab.inventory_path}")
    print(f"ssh:        ssh -F {lab.ssh_config} {lab.hosts[0].name}")
    print(f"try:        fleet trace -i {lab.inventory_path} --hosts 'vm/*' -p function -l 'schedule*' --duration 2")
    return 0


def _down(args: argparse.Namespace) -> int:
    lab = VmLab.load(args.dir)
    left = lab.down()
    print("VM lab is down")
    for item in left:
        print(f"still running: {item}")
    return 1 if left else 0


def _status(args: argparse.Namespace) -> int:
    lab = VmLab.load(args.dir)
    print(f"VM lab in {lab.directory}: kernel {lab.state.release} ({lab.state.flavour})")
    _print_hosts(lab)
    return 0


def _print_hosts(lab: VmLab) -> None:
    print(f"{'VM':<6} {'SSH':<16} {'PID':<8} QEMU")
    for h in lab.hosts:
        print(f"{h.name:<6} 127.0.0.1:{h.ssh_port:<6} {h.pid:<8} {'running' if is_qemu(h.pid) else 'stopped'}")
