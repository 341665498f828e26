"""`fleet export SOURCE --format trace.dat -o OUT`: re-write trace data through fleet's own trace.dat writer."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from fleet.errors import UsageError
from fleet.tracedat.copy import copy_tracedat
from fleet.tracedat.reader import TraceDat
from fleet.tracedat.writer import TraceDatWriter, WriteOptions

FORMATS = ["trace.dat"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write trace data in another format (trace.dat for trace-cmd and KernelShark)",
        description="Write trace.dat files with fleet's writer: version 7, sections and CPU data compressed (zstd by "
        "default), readable by `trace-cmd report` and KernelShark. A trace.dat source is re-written as it is; a run "
        "directory gives OUTPUT/HOST.dat for every host that recorded metadata, timestamps in its own trace clock.",
    )
    parser.add_argument("source", help="a trace.dat file, or a fleet run directory (one trace.dat per host)")
    parser.add_argument("--format", choices=FORMATS, default="trace.dat", help="output format (default trace.dat)")
    parser.add_argument("-o", "--output", required=True, help="output file (a directory for a run)")
    parser.add_argument(
        "--compression", choices=["zstd", "zlib", "none"], default="zstd", help="trace.dat compression (default zstd)"
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
    from fleet.record.reader import Run

    if not os.path.exists(os.path.join(args.source, "manifest.json")):
        raise UsageError(f"{args.source} is a directory but not a fleet run (no manifest.json)")
    run = Run.open(Path(args.source))
    os.makedirs(args.output, exist_ok=True)
    written = 0
    for host in run.hosts:
        if not host.has_metadata:
            print(f"fleet export: {host.name}: no metadata recorded, skipped", file=sys.stderr)
            continue
        out = os.path.join(args.output, f"{host.name}.dat")
        meta = dataclasses.replace(host.meta, buffer_name="")  # the host's instance becomes the file's top level
        writer = TraceDatWriter(out, meta, WriteOptions(compression=args.compression))
        try:
            writer.add_buffer(meta, {cpu: host.pages(cpu) for cpu in host.cpus})
        except BaseException:
            writer.abort(out)
            raise
        writer.close()
        written += 1
        print(out)
    if not written:
        raise UsageError(f"{args.source}: no host recorded metadata; nothing to export")
    return 0
