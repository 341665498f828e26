"""`fleet demo`: bring up a 3-host namespace lab, trace it for a few seconds, show the result, tear it down."""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

from fleet.commands.trace import TraceRequest, default_run_dir, execute, report_outcome
from fleet.errors import FleetError
from fleet.inventory import load_inventory
from fleet.progress import PlainProgress
from fleet.sources import RunSource
from fleet.transport.ssh import SshOptions
from fleet.transport.target import Target

MARKER = "hello from fleet demo"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="bring up 3 namespace hosts, trace them, show the merged result (needs root)",
        description="Bring up a lab of namespace hosts with their own sshd (fleet.lab), trace sched:sched_switch "
        "and a marker on all of them over SSH, print the summary and the start of the merged report, tear down.",
    )
    parser.add_argument("--hosts", type=int, default=3, metavar="N", help="lab hosts (default 3)")
    parser.add_argument("--duration", type=float, default=3.0, metavar="S", help="seconds to trace (default 3)")
    parser.add_argument("-o", dest="output", type=Path, metavar="RUN", help="run directory (default: runs/<time>)")
    parser.add_argument("--lines", type=int, default=20, metavar="N", help="report lines to show (default 20)")
    parser.set_defaults(func=run)


def show_report(path: Path, lines: int, stream: io.TextIOBase) -> None:
    from fleet.report import ReportOptions, report

    buf = io.StringIO()
    source = RunSource(path)
    try:
        report(source, ReportOptions(), buf)
    finally:
        source.close()
    text = buf.getvalue().splitlines()
    for line in text[:lines]:
        print(line, file=stream)
    marks = [line for line in text if MARKER in line]
    if marks:
        print("\n... and the marker, as each host recorded it:", file=stream)
        for line in marks:
            print(line, file=stream)


def run(args: argparse.Namespace) -> int:
    from fleet.lab import Lab

    progress = PlainProgress(sys.stdout)
    with tempfile.TemporaryDirectory(prefix="fleet-demo-") as tmp:
        progress.line(f"bringing up {args.hosts} namespace hosts (lab 'demo')")
        lab = Lab.up("demo", args.hosts, Path(tmp))
        try:
            hosts = load_inventory([lab.inventory_path]).select("lab/*")
            output = args.output or default_run_dir()
            req = TraceRequest(
                targets=[Target.from_host(h) for h in hosts],
                config={"events": ["sched:sched_switch"]},
                output=output,
                markers=[MARKER],
                duration=args.duration,
                sync_interval=0.5,
                ssh=SshOptions(connect_timeout=10.0, keepalive_interval=2.0),
                command=["fleet", *sys.argv[1:]],
            )
            progress.line(f"tracing sched:sched_switch on {', '.join(h.name for h in hosts)} for {args.duration:g} s")
            execute(req, progress)
            code = report_outcome(output)
            print(f"\nfirst {args.lines} lines of `fleet report {output}`:")
            try:
                show_report(output, args.lines, sys.stdout)  # type: ignore[arg-type]
            except FleetError as exc:
                print(f"(report unavailable: {exc})")
        finally:
            progress.line("tearing down the lab")
            left = lab.down()
            if left:
                print(f"fleet: lab tear-down left: {', '.join(left)}", file=sys.stderr)
    return code
