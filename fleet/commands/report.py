"""`fleet report SOURCE`: print events merged on one time line, in ftrace's layout or as JSON lines."""

from __future__ import annotations

import argparse
import io
import sys

from fleet.report import ReportOptions, parse_cpu_list, report
from fleet.sources import open_source


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="print the events of a run or a trace.dat file, one line each, like `trace-cmd report -N`",
        description="Print every event, merged over CPUs by timestamp, as `COMM-PID [CPU] SECS.USECS: EVENT: BODY` "
        "(the kernel's own print formats), with `CPU:N [LOST N EVENTS]` where the ring buffer overran.",
    )
    parser.add_argument("source", help="a trace.dat file or a fleet run directory (all hosts merged)")
    parser.add_argument("--ns", action="store_true", help="full nanosecond timestamps (like trace-cmd report -t)")
    parser.add_argument("--cpu", metavar="LIST", help="only these CPUs, e.g. 0,2-3")
    parser.add_argument(
        "-e",
        "--event",
        action="append",
        default=[],
        metavar="GLOB",
        help="only events whose name or system:name matches (repeatable), e.g. -e 'sched:*' -e irq_handler_entry",
    )
    parser.add_argument(
        "--hosts", metavar="PATTERN", help="a run: only hosts the pattern selects (inventory patterns: 'lab/*,!lab/h3')"
    )
    parser.add_argument(
        "--raw-time",
        action="store_true",
        help="a run: each host's own trace-clock timestamps instead of the aligned time line (see `fleet info`)",
    )
    parser.add_argument("--format", choices=["text", "jsonl"], default="text", help="output format (default text)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    options = ReportOptions(
        ns=args.ns,
        cpus=parse_cpu_list(args.cpu) if args.cpu else None,
        events=list(args.event),
        format=args.format,
    )
    source = open_source(args.source, args.hosts, aligned=not args.raw_time)
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace", newline="\n", write_through=False)
    try:
        report(source, options, out)
        out.flush()
    finally:
        out.detach()
        source.close()
    return 0
