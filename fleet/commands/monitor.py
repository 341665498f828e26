"""`fleet monitor --hosts PATTERN`: the live dashboard without keeping a recording."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from fleet.commands.hosts import add_inventory_arg
from fleet.commands.latency import add_live_study_args, study_spec
from fleet.commands.trace import TraceRequest, add_trace_args, targets_for, trace_config
from fleet.errors import UsageError
from fleet.transport.ssh import SshOptions


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "monitor",
        help="watch hosts live in the dashboard without recording",
        description="Trace the hosts PATTERN selects and show them live (state, rates, loss, a merged tail); "
        "nothing is kept. T starts tracing, X stops it, w writes a marker on every host, l shows the live latency "
        "study (--study-from/--study-to), ? lists every key.",
    )
    parser.add_argument("--hosts", default="localhost", metavar="PATTERN", help="inventory host pattern")
    add_inventory_arg(parser)
    add_trace_args(parser)
    parser.add_argument("--accept-new", action="store_true", help="accept keys of hosts known_hosts does not list")
    parser.add_argument("--sync-interval", type=float, default=1.0, metavar="S", help="seconds between syncs")
    parser.add_argument("--keepalive", type=float, default=5.0, metavar="S", help="SSH keepalive interval")
    parser.add_argument("--connect-timeout", type=float, default=10.0, metavar="S", help="per host (default 10)")
    parser.add_argument("--max-connects", type=int, default=16, metavar="N", help="hosts connecting at once")
    add_live_study_args(parser)
    parser.set_defaults(func=run, event_specs=[])


def run(args: argparse.Namespace) -> int:
    if not os.isatty(sys.stdout.fileno()):
        raise UsageError("fleet monitor needs a terminal; use `fleet trace --no-tui` for plain progress")
    if not args.event_specs and not args.tracer:
        args.event_specs = [["sched:sched_switch", None]]
    targets = targets_for(args.hosts, args.inventory)
    study = study_spec(args, [t.name for t in targets], args.inventory, "study-")
    req = TraceRequest(
        targets=targets,
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
    from fleet.tui.study import StudyTap

    feed = StatusFeed()
    tap = StudyTap(study) if study is not None else None
    monitor = Monitor(req, feed, tap)
    monitor.start()
    try:
        run_dashboard(feed, monitor.controls(), title=f"fleet monitor {args.hosts}", study=tap)
    finally:
        monitor.close()
    return 0
