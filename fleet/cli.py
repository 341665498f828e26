"""The `fleet` command: parse the command line, hand off to a sub-command module, turn errors into one line."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

from fleet import __version__
from fleet.errors import FleetError

# Sub-command modules under fleet.commands, in the order `fleet --help` lists them. Each has register(subparsers),
# which adds its parser and sets `func` (a callable taking the parsed args and returning an exit code).
COMMANDS = [
    "trace",
    "report",
    "view",
    "monitor",
    "export",
    "info",
    "latency",
    "hosts",
    "deploy",
    "doctor",
    "lab",
    "demo",
]

EPILOG = """\
examples:
  fleet demo                                   bring up 3 namespace hosts, trace them, show the merged result
  fleet trace --hosts 'lab/*' -e sched:sched_switch -m hello --duration 2 -o run1
  fleet report run1                            all hosts merged on one time line
  fleet report trace.dat --ns                  a trace-cmd file, printed like `trace-cmd report -N -t`
  fleet export run1 --format trace.dat -o out/ one trace.dat per host
  fleet view run1                              browse the merged recording (Textual TUI)
  fleet info run1                              per-host clock alignment: offset, drift, uncertainty
  fleet latency run1 --from print --from-match 'req (\\d+) sent' --to print --to-match 'req (\\d+) recv'
  fleet hosts 'lab/*,!lab/h3'                  which inventory hosts a pattern selects
  fleet deploy --hosts 'lab/*'                 install the agent with Ansible (ansible/deploy.yml)
"""


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """The whole command line; with `only`, just that sub-command (importing every command module, asyncssh and
    Textual included, costs ~0.4 s a run)."""
    parser = argparse.ArgumentParser(
        prog="fleet",
        description="Run Linux ftrace on a whole lab of machines at once, over SSH, and merge their traces.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"fleet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [only] if only in COMMANDS else COMMANDS:
        try:
            module = importlib.import_module(f"fleet.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"fleet.commands.{name}":
                continue  # not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(only=command)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except FleetError as exc:
        print(f"fleet: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("fleet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `fleet report | head`: the reader went away; not an error worth a traceback.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
