"""`fleet deploy --hosts PATTERN`: install the agent with Ansible (ansible/deploy.yml) on the hosts fleet's
inventory selects, with live progress and a per-host result table; exit 1 if any host failed."""

from __future__ import annotations

import argparse
import json
from typing import Any, Dict, List

from fleet.commands.hosts import add_inventory_arg
from fleet.deploy import run_deploy
from fleet.deploy.table import capability_line, result_table
from fleet.errors import UsageError
from fleet.inventory import load_inventory
from fleet.progress import PlainProgress


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deploy",
        help="install the agent on hosts with Ansible (same inventory)",
        description="Runs ansible-playbook ansible/deploy.yml with the inventory fleet reads and --limit set to "
        "the hosts the pattern selects: python3 with msgpack and zstandard, the agent at "
        "/usr/local/lib/fleet/agent-<sha256>.pyz, /usr/local/sbin/fleet-agent, tracefs at boot, optionally a "
        "`fleet` user allowed to run only the agent through sudo.",
    )
    parser.add_argument("--hosts", required=True, metavar="PATTERN", help="host pattern (see `fleet hosts`)")
    add_inventory_arg(parser)
    parser.add_argument(
        "--fleet-user", action="store_true", help="also create the unprivileged `fleet` user and its sudo rule"
    )
    parser.add_argument(
        "-e",
        "--extra-vars",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="role variable (repeatable; VALUE may be JSON), e.g. fleet_agent_python_packages_from=pip",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show every task, not only changes and failures")
    parser.set_defaults(func=run)


def parse_extra_vars(items: List[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"-e {item!r}: write KEY=VALUE")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def run(args: argparse.Namespace) -> int:
    inventory = load_inventory(args.inventory)
    hosts = [h.name for h in inventory.select(args.hosts)]
    extra = parse_extra_vars(args.extra_vars)
    if args.fleet_user:
        extra["fleet_agent_user_create"] = True
    progress = PlainProgress()
    progress.line(f"deploying the agent to {len(hosts)} host(s): {', '.join(hosts)}")

    def on_event(event: Dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "task" and args.verbose:
            progress.line(f"task: {event.get('name')}")
        elif kind == "result":
            status = str(event.get("status"))
            if status in ("changed", "failed", "unreachable") or args.verbose:
                detail = str(event.get("task", ""))
                if event.get("msg"):
                    detail += f": {event['msg']}"
                progress(str(event.get("host")), status, detail)

    outcome = run_deploy(inventory.sources, hosts, extra, on_event)
    print()
    for line in result_table(outcome.hosts):
        print(line)
    caps = [h for h in outcome.hosts if h.capabilities]
    if caps:
        print()
        for h in caps:
            assert h.capabilities is not None
            print(capability_line(h.name, h.capabilities))
    if outcome.failed_hosts:
        print(f"\nansible-playbook's output: {outcome.log}")
        return 1
    return 0
