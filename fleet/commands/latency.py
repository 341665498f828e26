"""`fleet latency RUN --from EVENT --to EVENT`: pair events by key across hosts in aligned time and summarize."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from fleet.clocksync.align import SYNC_MODES
from fleet.commands.hosts import add_inventory_arg
from fleet.errors import UsageError
from fleet.latency.pairing import PAIRING_RULES

EPILOG = f"""\
{textwrap.fill(PAIRING_RULES + ".", 116)}

keys: --key FIELD (both sides; or --from-key/--to-key) takes an event field's value; --from-match/--to-match REGEX
is searched in the event's text (a marker's own text for print events) and its first group is the key. With both,
the key is GROUP/FIELD. A side whose filter is false, whose regex does not match or that lacks the field is skipped.

filters: FIELD OP VALUE joined by && and ||; OP is == != < <= > >= ~ (glob) & (bits set).

Hosts that share one kernel (the namespace lab, containers) all receive every program's marker (copy_trace_marker
copies top-level trace_marker writes into each instance): name the sides' hosts with --from-hosts/--to-hosts.

Each cross-host latency carries the alignment uncertainty of its two hosts (`312.4 µs ± 1.1`, see fleet info);
same-host pairs use one clock and carry none.

examples:
  fleet latency run1 --from print --from-hosts lab/h1 --from-match 'req (\\d+) sent' \\
                     --to print --to-hosts lab/h2 --to-match 'req (\\d+) recv'
  fleet latency run1 --from sched:sched_waking --key pid --to sched:sched_switch --to-key next_pid --format json
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "latency",
        help="pair events by key (across hosts) and show the latency distribution",
        description="Pair each FROM event with a TO event of the same key, on one host or across hosts, on the "
        "run's aligned time line; print count, unmatched, percentiles, a log-scale histogram, the worst pairs "
        "with the events around them and a per host-pair breakdown.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run", type=Path, help="run directory (written by `fleet trace -o`)")
    for side in ("from", "to"):
        parser.add_argument(
            f"--{side}",
            dest=f"{side}_event",
            required=True,
            metavar="EVENT",
            help=f"{side.upper()} event: sys:event or event (globs allowed), e.g. print",
        )
        parser.add_argument(f"--{side}-hosts", metavar="PATTERN", help="inventory host pattern (default: all)")
        parser.add_argument(f"--{side}-filter", metavar="EXPR", help="field condition, e.g. 'prev_state == 0'")
        parser.add_argument(f"--{side}-key", metavar="FIELD", help=f"field holding the key on the {side} side")
        parser.add_argument(f"--{side}-match", metavar="REGEX", help="regex on the event text; group 1 is the key")
    parser.add_argument("--key", metavar="FIELD", help="field holding the key on both sides")
    parser.add_argument("--worst", type=int, default=5, metavar="N", help="show the N worst pairs (default 5)")
    parser.add_argument("--context", type=int, default=2, metavar="N", help="events shown either side (default 2)")
    parser.add_argument("--format", choices=("text", "json", "csv"), default="text")
    parser.add_argument("--sync", choices=SYNC_MODES, default=None, help="re-align with this sync mode")
    add_inventory_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fleet.latency.context import around
    from fleet.latency.hosts import select_hosts
    from fleet.latency.output import as_json, text_report, write_csv
    from fleet.latency.sides import Side
    from fleet.latency.study import StudySpec, run_study
    from fleet.latency.timeline import clock_models
    from fleet.record.reader import Run

    if args.worst < 0 or args.context < 0:
        raise UsageError("--worst and --context are counts >= 0")
    the_run = Run.open(args.run)
    names = the_run.host_names
    sides = []
    for side in ("from", "to"):
        sides.append(
            Side(
                event=getattr(args, f"{side}_event"),
                hosts=select_hosts(getattr(args, f"{side}_hosts"), names, args.inventory),
                filter=getattr(args, f"{side}_filter"),
                key_field=getattr(args, f"{side}_key") or args.key,
                match=getattr(args, f"{side}_match"),
            )
        )
    models = clock_models(the_run, args.sync)
    result = run_study(the_run, StudySpec(sides[0], sides[1]), models)
    if args.format == "json":
        print(as_json(result))
    elif args.format == "csv":
        write_csv(result, sys.stdout)
    else:
        ctx = around(the_run, result.worst(args.worst), models, args.context) if args.worst else None
        print("\n".join(text_report(result, args.worst, ctx)))
    return 0
