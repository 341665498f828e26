"""`fleet latency RUN --from EVENT --to EVENT`: pair events by key across hosts in aligned time and summarize."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional, Sequence

from fleet.clocksync.align import SYNC_MODES
from fleet.commands.hosts import add_inventory_arg
from fleet.errors import UsageError
from fleet.latency.pairing import PAIRING_RULES

if TYPE_CHECKING:
    from fleet.latency.study import StudySpec

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
    add_side_args(parser)
    parser.add_argument("--worst", type=int, default=5, metavar="N", help="show the N worst pairs (default 5)")
    parser.add_argument("--context", type=int, default=2, metavar="N", help="events shown either side (default 2)")
    parser.add_argument("--format", choices=("text", "json", "csv"), default="text")
    parser.add_argument("--sync", choices=SYNC_MODES, default=None, help="re-align with this sync mode")
    add_inventory_arg(parser)
    parser.set_defaults(func=run)


def add_side_args(parser: argparse._ActionsContainer, prefix: str = "") -> None:
    """The two sides' flags (`--from`, `--from-hosts`, ..., `--key`), or with prefix `study-` the same flags for a
    live study (`--study-from`, ...; optional there): one definition for fleet latency, fleet trace, fleet monitor."""
    dest = prefix.replace("-", "_")
    for side in ("from", "to"):
        parser.add_argument(
            f"--{prefix}{side}",
            dest=f"{dest}{side}_event",
            required=not prefix,
            metavar="EVENT",
            help=f"{side.upper()} event: sys:event or event (globs allowed), e.g. print",
        )
        parser.add_argument(f"--{prefix}{side}-hosts", metavar="PATTERN", help="inventory host pattern (default: all)")
        parser.add_argument(f"--{prefix}{side}-filter", metavar="EXPR", help="field condition, e.g. 'prev_state == 0'")
        parser.add_argument(f"--{prefix}{side}-key", metavar="FIELD", help=f"field holding the key on the {side} side")
        parser.add_argument(
            f"--{prefix}{side}-match", metavar="REGEX", help="regex on the event text; group 1 is the key"
        )
    parser.add_argument(f"--{prefix}key", metavar="FIELD", help="field holding the key on both sides")


def add_live_study_args(parser: argparse.ArgumentParser) -> None:
    """`--study-from EVENT --study-to EVENT ...` on fleet trace and fleet monitor: a study the dashboard shows live."""
    group = parser.add_argument_group(
        "live latency study",
        "pair events while tracing and show count, unmatched, p50/p99/max and a log-scale histogram in the "
        "dashboard (key l); the flags are fleet latency's side flags with a study- prefix (see fleet latency --help)",
    )
    add_side_args(group, "study-")


def study_spec(
    args: argparse.Namespace, names: Sequence[str], inventory: Optional[List[Path]], prefix: str = ""
) -> Optional[StudySpec]:
    """The StudySpec the flags of add_side_args(prefix) name over hosts `names`; None when no side is given."""
    from fleet.latency.hosts import select_hosts
    from fleet.latency.sides import Side
    from fleet.latency.study import StudySpec

    dest = prefix.replace("-", "_")

    def get(name: str) -> Any:
        return getattr(args, f"{dest}{name}", None)

    if not get("from_event") and not get("to_event"):
        return None
    if not get("from_event") or not get("to_event"):
        raise UsageError(f"a study needs both --{prefix}from EVENT and --{prefix}to EVENT")
    sides = [
        Side(
            event=get(f"{side}_event"),
            hosts=select_hosts(get(f"{side}_hosts"), names, inventory),
            filter=get(f"{side}_filter"),
            key_field=get(f"{side}_key") or get("key"),
            match=get(f"{side}_match"),
        )
        for side in ("from", "to")
    ]
    return StudySpec(sides[0], sides[1])


def run(args: argparse.Namespace) -> int:
    from fleet.latency.context import around
    from fleet.latency.output import as_json, text_report, write_csv
    from fleet.latency.study import run_study
    from fleet.latency.timeline import clock_models
    from fleet.record.reader import Run

    if args.worst < 0 or args.context < 0:
        raise UsageError("--worst and --context are counts >= 0")
    the_run = Run.open(args.run)
    spec = study_spec(args, the_run.host_names, args.inventory)
    assert spec is not None
    models = clock_models(the_run, args.sync)
    result = run_study(the_run, spec, models)
    if args.format == "json":
        print(as_json(result))
    elif args.format == "csv":
        write_csv(result, sys.stdout)
    else:
        ctx = around(the_run, result.worst(args.worst), models, args.context) if args.worst else None
        print("\n".join(text_report(result, args.worst, ctx)))
    return 0
