"""`fleet lab up|down|status|impair`: a lab of SSH hosts on this machine to try fleet on (network namespaces)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from fleet.commands import vmlab
from fleet.lab import DEFAULT_DIR, Lab
from fleet.lab.state import LinkImpairment


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lab",
        help="bring up / tear down a lab of SSH hosts in network namespaces on this machine",
        description="A lab of N hosts on this machine, each a network namespace with its own sshd, host key and "
        "address on a private subnet (198.18.0.0/24 unless taken). Needs root.",
    )
    sub = parser.add_subparsers(dest="lab_command", metavar="ACTION", required=True)

    up = sub.add_parser("up", help="start N namespace hosts and write their inventory, keys and ssh_config")
    up.add_argument("-n", "--hosts", type=int, default=3, help="number of hosts (default 3)")
    up.add_argument("--name", default="lab", help="lab name, 1-8 letters/digits (namespaces fleet-NAME-hN)")
    up.add_argument("--subnet", help="a /24 inside 198.18.0.0/15 (default: 198.18.0.0/24 or the next free one)")
    up.add_argument(
        "--overlay",
        action="store_true",
        help="give each host its own root: an overlay over this machine's / that its sshd is chrooted to, so "
        "packages, users, sudoers and /etc written by `fleet deploy` (Ansible) land in that host only "
        "(under DIR/roots/HOST/upper) and not on this machine",
    )
    _dir_arg(up)
    up.set_defaults(func=_up)

    down = sub.add_parser("down", help="remove the lab's namespaces, links and processes")
    _dir_arg(down)
    down.set_defaults(func=_down)

    status = sub.add_parser("status", help="hosts, addresses, sshd and impairments of the lab")
    _dir_arg(status)
    status.set_defaults(func=_status)

    imp = sub.add_parser("impair", help="delay, jitter, drop or cut one host's link (a user-space forwarder)")
    imp.add_argument("host", help="host name (h1), namespace or address")
    way = imp.add_mutually_exclusive_group()
    way.add_argument("--in", dest="direction", action="store_const", const="in", help="only traffic to the host")
    way.add_argument("--out", dest="direction", action="store_const", const="out", help="only traffic from it")
    way.add_argument("--both", dest="direction", action="store_const", const="both", help="both ways (default)")
    imp.add_argument("--delay", type=float, default=0.0, metavar="MS", help="added one-way delay in ms")
    imp.add_argument("--jitter", type=float, default=0.0, metavar="MS", help="uniform +-jitter in ms (no reordering)")
    imp.add_argument("--loss", type=float, default=0.0, metavar="PCT", help="frames dropped, percent")
    imp.add_argument("--partition", action="store_true", help="drop every frame")
    imp.add_argument("--clear", action="store_true", help="remove the impairment (direct link again)")
    _dir_arg(imp)
    imp.set_defaults(func=_impair, direction="both")

    vmlab.register(sub)


def _dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"lab directory (default {DEFAULT_DIR})")


def _up(args: argparse.Namespace) -> int:
    start = time.monotonic()
    lab = Lab.up(args.name, args.hosts, args.dir, subnet=args.subnet, overlay=args.overlay)
    roots = ", each with its own root (overlay)" if args.overlay else ""
    print(f"lab {lab.name}: {len(lab.hosts)} hosts on {lab.subnet}{roots} up in {time.monotonic() - start:.2f} s")
    _print_hosts(lab)
    print(f"inventory:  {lab.inventory_path}")
    print(f"ssh:        ssh -F {lab.ssh_config} h1")
    print(f"try:        fleet hosts -i {lab.inventory_path} 'lab/*'")
    return 0


def _down(args: argparse.Namespace) -> int:
    lab = Lab.load(args.dir)
    left = lab.down()
    print(f"lab {lab.name} is down")
    for item in left:
        print(f"still present: {item}")
    return 1 if any(not item.startswith("tracefs") for item in left) else 0


def _status(args: argparse.Namespace) -> int:
    lab = Lab.load(args.dir)
    print(f"lab {lab.name} on {lab.subnet}, directory {lab.directory}")
    _print_hosts(lab)
    return 0


def _print_hosts(lab: Lab) -> None:
    print(f"{'HOST':<6} {'ADDRESS':<15} {'NAMESPACE':<20} {'SSHD':<8} IMPAIRMENT")
    for h in lab.hosts:
        pid = lab.state.sshd_pids.get(h.name)
        sshd = "running" if pid is not None and Path(f"/proc/{pid}").exists() else "stopped"
        impaired = lab.state.impairments.get(h.name, {})
        text = ", ".join(f"{d}: {_describe(imp)}" for d, imp in sorted(impaired.items()) if not imp.is_clear())
        print(f"{h.name:<6} {h.address:<15} {h.netns:<20} {sshd:<8} {text or '-'}")


def _describe(imp: LinkImpairment) -> str:
    if imp.partition:
        return "partition"
    parts = []
    if imp.delay_ms or imp.jitter_ms:
        parts.append(f"delay {imp.delay_ms:g}ms" + (f"+-{imp.jitter_ms:g}ms" if imp.jitter_ms else ""))
    if imp.loss:
        parts.append(f"loss {imp.loss:g}%")
    return " ".join(parts)


def _impair(args: argparse.Namespace) -> int:
    lab = Lab.load(args.dir)
    if args.clear:
        lab.clear_impairment(args.host)
        print(f"{lab.host(args.host).name}: link direct again")
        return 0
    lab.impair(args.host, args.direction, args.delay, args.jitter, args.loss, args.partition)
    _print_hosts(lab)
    return 0
