"""`fleet report SOURCE`: print events merged on one time line, in ftrace's layout or as JSON lines."""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

from fleet.errors import UsageError
from fleet.report import ReportOptions, Source, TraceDatSource, parse_cpu_list, report


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
    parser.add_argument("--format", choices=["text", "jsonl"], default="text", help="output format (default text)")
    parser.set_defaults(func=run)


def open_source(path: str) -> Source:
    """A run directory (fleet trace -o DIR) or a trace.dat file."""
    if os.path.isdir(path):
        if not os.path.exists(os.path.join(path, "manifest.json")):
            raise UsageError(f"{path} is a directory but not a fleet run (no manifest.json)")
        from fleet.record.source import RunSource

        return RunSource(Path(path))
    return TraceDatSource(path)


def run(args: argparse.Namespace) -> int:
    options = ReportOptions(
        ns=args.ns,
        cpus=parse_cpu_list(args.cpu) if args.cpu else None,
        events=list(args.event),
        format=args.format,
    )
    source = open_source(args.source)
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace", newline="\n", write_through=False)
    try:
        report(source, options, out)
        out.flush()
    finally:
        out.detach()
        source.close()
    return 0
