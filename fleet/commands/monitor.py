"""`fleet monitor --hosts PATTERN`: the live dashboard without keeping a recording."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from fleet.commands.hosts import add_inventory_arg
from fleet.commands.trace import TraceRequest, add_trace_args, targets_for, trace_config
from fleet.errors import UsageError
from fleet.transport.ssh import SshOptions


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "monitor",
        help="watch hosts live in the dashboard without recording",
        description="Trace the hosts PATTERN selects and show them live (state, rates, loss, a merged tail); "
        "nothing is kept. T starts tracing, X stops it, w writes a marker on every host, ? lists every key.",
    )
    parser.add_argument("--hosts", default="localhost", metavar="PATTERN", help="inventory host pattern")
    add_inventory_arg(parser)
    add_trace_args(parser)
    parser.add_argument("--accept-new", action="store_true", help="accept keys of hosts known_hosts does not list")
    parser.add_argument("--sync-interval", type=float, default=1.0, metavar="S", help="seconds between syncs")
    parser.add_argument("--keepalive", type=float, default=5.0, metavar="S", help="SSH keepalive interval")
    parser.add_argument("--connect-timeout", type=float, default=10.0, metavar="S", help="per host (default 10)")
    parser.add_argument("--max-connects", type=int, default=16, metavar="N", help="hosts connecting at once")
    parser.set_defaults(func=run, event_specs=[])


def run(args: argparse.Namespace) -> int:
    if not os.isatty(sys.stdout.fileno()):
        raise UsageError("fleet monitor needs a terminal; use `fleet trace --no-tui` for plain progress")
    if not args.event_specs and not args.tracer:
        args.event_specs = [["sched:sched_switch", None]]
    req = TraceRequest(
        targets=targets_for(args.hosts, args.inventory),
        config=trace_config(args),
        output=Path("unused"),
        markers=list(args.markers),
        sync_interval=args.sync_interval,
        ssh=SshOptions(args.connect_timeout, max(0.1, args.keepalive), 2, args.accept_new),
        max_connects=args.max_connects,
        command=["fleet", *sys.argv[1:]],
    )
    from fleet.tui.dashboard import run_dashboard
    from fleet.tui.live import Monitor
    from fleet.tui.status import StatusFeed

    feed = StatusFeed()
    monitor = Monitor(req, feed)
    monitor.start()
    try:
        run_dashboard(feed, monitor.controls(), title=f"fleet monitor {args.hosts}")
    finally:
        monitor.close()
    return 0


def main() -> int:
    """`python3 -m fleet.commands.monitor ...`: the same as `fleet monitor ...` (until cli.COMMANDS lists it)."""
    from fleet.errors import FleetError

    parser = argparse.ArgumentParser(prog="fleet")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["monitor", *sys.argv[1:]])
    try:
        return int(args.func(args) or 0)
    except FleetError as exc:
        print(f"fleet: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
