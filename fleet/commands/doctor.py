"""`fleet doctor --hosts PATTERN`: per host, what the installed agent lacks (python3, msgpack, zstandard, tracefs,
the agent build, the sudo rule) and the command that fixes it; exit 1 if anything is missing."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import tempfile
from pathlib import Path
from typing import Optional

from fleet.commands.hosts import add_inventory_arg
from fleet.deploy.checkup import HostReport, check_hosts
from fleet.inventory import load_inventory
from fleet.transport.ssh import SshOptions
from fleet.transport.target import Target


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check hosts for what the installed agent needs, and say how to fix it",
        description="Connects to each host as `fleet trace` does and checks python3, msgpack, zstandard, tracefs "
        "(mounted, and at boot), the installed agent build against this fleet's, and the sudo rule when the "
        "login user is not root.",
    )
    parser.add_argument("--hosts", required=True, metavar="PATTERN", help="host pattern (see `fleet hosts`)")
    add_inventory_arg(parser)
    parser.add_argument(
        "--agent", type=Path, metavar="PYZ", help="compare with this agent zipapp (default: build this fleet's agent)"
    )
    parser.add_argument("--connect-timeout", type=float, default=10.0, metavar="S", help="SSH connect timeout")
    parser.set_defaults(func=run)


def expected_build(pyz: Optional[Path] = None) -> str:
    """sha256 of `pyz`, else of the agent zipapp this fleet would deploy (reproducible build)."""
    from agent.build import build_zipapp

    if pyz is not None:
        return hashlib.sha256(pyz.read_bytes()).hexdigest()
    with tempfile.TemporaryDirectory(prefix="fleet-doctor-") as tmp:
        return build_zipapp(Path(tmp) / "agent.pyz")


def render(report: HostReport) -> list:
    if report.error is not None:
        return [f"{report.host}: unreachable: {report.error}"]
    lines = [f"{report.host}: {'ok' if report.healthy else 'MISSING PIECES'}"]
    width = max(len(f.check) for f in report.findings)
    for f in report.findings:
        mark = "ok  " if f.ok else "MISS"
        line = f"  {mark}  {f.check.ljust(width)}  {f.detail}"
        if f.fix:
            line += f"  -> fix: {f.fix}"
        lines.append(line)
    return lines


def run(args: argparse.Namespace) -> int:
    inventory = load_inventory(args.inventory)
    targets = [Target.from_host(h) for h in inventory.select(args.hosts)]
    sha = expected_build(args.agent)
    reports = asyncio.run(check_hosts(targets, sha, SshOptions(connect_timeout=args.connect_timeout)))
    for report in reports:
        for line in render(report):
            print(line)
    return 0 if all(r.healthy for r in reports) else 1
