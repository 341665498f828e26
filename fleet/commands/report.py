"""`fleet report SOURCE`: print events merged on one time line, in ftrace's layout or as JSON lines."""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path
from typing import Set

from fleet.errors import UsageError
from fleet.record.hosts import select_hosts
from fleet.record.profiles import print_profiles, print_stacks
from fleet.record.reader import Run
from fleet.record.samplers import print_summaries
from fleet.record.snapshots import print_snapshots, run_snapshots
from fleet.report import ReportOptions, parse_cpu_list, report
from fleet.sources import open_source


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="print the events of a run or a trace.dat file, one line each, like `trace-cmd report -N`",
        description="Print every event, merged over CPUs by timestamp, as `COMM-PID [CPU] SECS.USECS: EVENT: BODY` "
        "(the kernel's own print formats), with `CPU:N [LOST N EVENTS]` where the ring buffer overran. "
        "Hosts traced with -p function_graph print as the kernel's function_graph `trace` file (CPU, DURATION, "
        "nesting braces; other events as /* comments */), each line prefixed with its host. "
        "Runs of a latency tracer (wakeup*, irqsoff, preemptoff, preemptirqsoff) or with a snapshot trigger: "
        "--snapshots prints the snapshots the hosts' kernels took instead of the events.",
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
    parser.add_argument(
        "--snapshots",
        action="store_true",
        help="a run of a latency tracer: every host's max-latency snapshots, largest latency first, each after a "
        "line `#### HOST: TRACER max latency N us (maximum R of M on HOST)` (with --tracing-thresh: `latency N us "
        "over tracing_thresh T us`) and printed as the host's kernel printed it (latency-format header, task, "
        "=> started at / => ended at, the trace); then what `snapshot` triggers took "
        "(`#### HOST: snapshot taken by trigger SPEC`)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="a run traced with --function-profile: each host's function profile (its CPUs summed) in the "
        "kernel's trace_stat layout (Function, Hit, Time, Avg, s^2; largest time first), then all hosts merged",
    )
    parser.add_argument("--top", type=int, metavar="N", help="with --profile: only the first N functions per table")
    parser.add_argument(
        "--stack",
        action="store_true",
        help="a run traced with --stack-trace: each host's deepest kernel stack (stack_max_size and the kernel's "
        "stack_trace text), deepest first",
    )
    parser.add_argument(
        "--summary",
        action="store_true",
        help="a run of the timerlat, hwlat or osnoise tracer: per host the samples' count/min/avg/max (timerlat "
        "per context in ns, hwlat inner/outer in us) and osnoise's per-CPU runtime, noise, %% CPU available, max "
        "noise, max single noise and interference counts (rtla's numbers)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="text output: render CPUs in worker processes (0: none; default: workers when the trace is large and the "
        "machine has several CPUs)",
    )
    parser.add_argument("--format", choices=["text", "jsonl"], default="text", help="output format (default text)")
    parser.set_defaults(func=run)


def graph_hosts(path: str) -> Set[str]:
    """The hosts of a run directory that traced with function_graph (none for a trace.dat file)."""
    if not os.path.isdir(path) or not Run.is_run(Path(path)):
        return set()
    run = Run.open(Path(path))
    if run.manifest.config.get("tracer") != "function_graph":
        return set()
    return set(run.host_names)


def show_recorded(args: argparse.Namespace) -> int:
    """--snapshots, --profile, --stack, --summary: what the hosts' kernels summarized, not the events."""
    flag = next(f"--{k}" for k in ("snapshots", "profile", "stack", "summary") if getattr(args, k))
    if not os.path.isdir(args.source) or not Run.is_run(Path(args.source)):
        raise UsageError(f"{flag} reads a fleet run directory; {args.source} is not one")
    run = Run.open(Path(args.source))
    names = select_hosts(run, args.hosts) if args.hosts else None
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace", newline="\n", write_through=False)
    try:
        if args.snapshots:
            snaps = run_snapshots(run, names)
            if not snaps:
                raise UsageError(
                    f"{args.source}: no host recorded a snapshot (trace with a latency tracer, e.g. -p wakeup_rt, "
                    "or a snapshot trigger, --trigger 'sys:event:snapshot')"
                )
            print_snapshots(snaps, out)
        if args.profile and not print_profiles(run, out, names, args.top):
            raise UsageError(f"{args.source}: no host recorded a function profile (trace with --function-profile)")
        if args.stack and not print_stacks(run, out, names):
            raise UsageError(f"{args.source}: no host recorded a max stack (trace with --stack-trace)")
        if args.summary and not print_summaries(run, out, names):
            raise UsageError(f"{args.source}: no host recorded timerlat, hwlat or osnoise samples")
        out.flush()
    finally:
        out.detach()
    return 0


def run(args: argparse.Namespace) -> int:
    if args.snapshots or args.profile or args.stack or args.summary:
        return show_recorded(args)
    options = ReportOptions(
        ns=args.ns,
        cpus=parse_cpu_list(args.cpu) if args.cpu else None,
        events=list(args.event),
        format=args.format,
        graph_hosts=graph_hosts(args.source),
        workers=args.jobs,
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
