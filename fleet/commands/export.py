"""`fleet export SOURCE --format trace.dat -o OUT`: re-write trace data through fleet's own trace.dat writer."""

from __future__ import annotations

import argparse
import os

from fleet.errors import UsageError
from fleet.tracedat.copy import copy_tracedat
from fleet.tracedat.reader import TraceDat

FORMATS = ["trace.dat"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write trace data in another format (trace.dat for trace-cmd and KernelShark)",
        description="Re-write a trace.dat file through fleet's writer: version 7, sections and CPU data compressed "
        "(zstd by default), readable by `trace-cmd report` and KernelShark.",
    )
    parser.add_argument("source", help="a trace.dat file")
    parser.add_argument("--format", choices=FORMATS, default="trace.dat", help="output format (default trace.dat)")
    parser.add_argument("-o", "--output", required=True, help="output file")
    parser.add_argument(
        "--compression", choices=["zstd", "zlib", "none"], default="zstd", help="trace.dat compression (default zstd)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if os.path.isdir(args.source):
        raise UsageError(f"{args.source} is a directory; only trace.dat files can be exported so far")
    if os.path.abspath(args.source) == os.path.abspath(args.output):
        raise UsageError("the output file must differ from the source")
    with TraceDat.open(args.source) as src:
        copy_tracedat(src, args.output, args.compression)
    return 0
