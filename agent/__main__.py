"""`python3 -m agent serve|probe|cleanup` (also the zipapp's entry): serve speaks the protocol on stdin/stdout,
probe prints the capabilities as JSON for a person, cleanup removes stale fleet instances."""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from agent import __version__, protocol
from agent.errors import AgentError
from agent.instance import remove_stale
from agent.probe import probe
from agent.server import Server
from agent.tracefs import Tracefs, find_tracefs


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="agent", description="fleet's tracing agent (runs on a traced host)")
    parser.add_argument(
        "--version", action="version", version=f"fleet-agent {__version__} (protocol {protocol.PROTOCOL_VERSION})"
    )
    parser.add_argument("--tracefs", help="tracefs mount point (default: found in /proc/mounts, mounted if absent)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("serve", help="speak the fleet protocol (msgpack frames) on stdin/stdout")
    sub.add_parser("probe", help="print this host's tracing capabilities as JSON")
    sub.add_parser("cleanup", help="remove fleet instances whose agent is gone")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return Server(sys.stdin.fileno(), sys.stdout.fileno(), args.tracefs).serve()
    try:
        top = Tracefs(args.tracefs or find_tracefs())
        if args.command == "probe":
            print(json.dumps(probe(top), indent=2, sort_keys=True))
        elif args.command == "cleanup":
            for name in remove_stale(top):
                print(f"removed {name}")
        else:
            parser.print_help()
            return 2
    except AgentError as exc:
        print(f"agent: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
