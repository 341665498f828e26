"""`fleet view RUN`: browse a recorded run, all hosts merged on one time line, in the terminal."""

from __future__ import annotations

import argparse
import sys
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


def main() -> int:
    """`python3 -m fleet.commands.view ...`: the same as `fleet view ...` (until cli.COMMANDS lists it)."""
    from fleet.errors import FleetError

    parser = argparse.ArgumentParser(prog="fleet")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["view", *sys.argv[1:]])
    try:
        return int(args.func(args) or 0)
    except FleetError as exc:
        print(f"fleet: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
