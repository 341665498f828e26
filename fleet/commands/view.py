"""`fleet view RUN`: browse a recorded run, all hosts merged on one time line, in the terminal."""

from __future__ import annotations

import argparse
from pathlib import Path

from fleet.errors import UsageError
from fleet.record.reader import Run


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "view",
        help="browse a recorded run in the terminal (merged table, lanes, search, filters)",
        description="The merged events of a run directory as a scrollable table: per-host lanes on a time axis, "
        "the decoded fields of the event under the cursor, jump to a time, search, filters, stepping between "
        "markers and lost-event gaps. Press ? for every key.",
    )
    parser.add_argument("run", type=Path, help="run directory (written by `fleet trace -o`)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not Run.is_run(args.run):
        raise UsageError(f"{args.run}: not a run directory (no manifest); record one with `fleet trace -o DIR`")
    from fleet.tui.viewer import run_viewer

    return run_viewer(args.run)
