"""`fleet export SOURCE --format trace.dat -o OUT`: re-write trace data through fleet's own trace.dat writer."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from fleet.errors import UsageError
from fleet.tracedat.copy import copy_tracedat
from fleet.tracedat.reader import TraceDat

FORMATS = ["trace.dat"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write trace data in another format (trace.dat for trace-cmd and KernelShark)",
        description="Write trace.dat files with fleet's writer: version 7, sections and CPU data compressed (zstd by "
        "default), readable by `trace-cmd report` and KernelShark. A trace.dat source is re-written as it is; a run "
        "directory gives OUTPUT/HOST.dat for every host that recorded metadata, each with a TIME_SHIFT option that "
        "puts it on the run's aligned time line (`trace-cmd report -i h1.dat -i h2.dat` and KernelShark show the hosts "
        "aligned, as `fleet report RUN` does).",
    )
    parser.add_argument("source", help="a trace.dat file, or a fleet run directory (one trace.dat per host)")
    parser.add_argument("--format", choices=FORMATS, default="trace.dat", help="output format (default trace.dat)")
    parser.add_argument("-o", "--output", required=True, help="output file (a directory for a run)")
    parser.add_argument(
        "--compression", choices=["zstd", "zlib", "none"], default="zstd", help="trace.dat compression (default zstd)"
    )
    parser.add_argument("--hosts", metavar="PATTERN", help="a run: only hosts matching this pattern (e.g. 'h1,h3')")
    parser.add_argument(
        "--raw-time", action="store_true", help="a run: no TIME_SHIFT; each file keeps its host's own trace clock"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if os.path.isdir(args.source):
        return _export_run(args)
    if os.path.abspath(args.source) == os.path.abspath(args.output):
        raise UsageError("the output file must differ from the source")
    with TraceDat.open(args.source) as src:
        copy_tracedat(src, args.output, args.compression)
    return 0


def _export_run(args: argparse.Namespace) -> int:
    from fleet.export.tracedat import export_run
    from fleet.record.hosts import select_hosts
    from fleet.record.reader import Run

    if not Run.is_run(Path(args.source)):
        raise UsageError(f"{args.source} is a directory but not a fleet run (no manifest.json)")
    run = Run.open(Path(args.source))
    hosts = select_hosts(run, args.hosts) if args.hosts else None

    def warn(message: str) -> None:
        print(f"fleet export: {message}", file=sys.stderr)

    for path in export_run(run, Path(args.output), args.compression, hosts, not args.raw_time, warn):
        print(path)
    return 0
