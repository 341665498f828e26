"""`fleet hosts PATTERN`: which inventory hosts a pattern selects, and how fleet would reach each."""

from __future__ import annotations

import argparse
from pathlib import Path

from fleet.inventory import load_inventory


def add_inventory_arg(parser: argparse.ArgumentParser) -> None:
    """-i/--inventory, repeatable; shared by every command that reads an inventory."""
    parser.add_argument(
        "-i",
        "--inventory",
        action="append",
        type=Path,
        metavar="INV",
        help="inventory file or directory (Ansible YAML or INI; repeatable). "
        "Default: ./inventory/, then ~/.config/fleet/; with none, just localhost",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "hosts",
        help="list the inventory hosts a pattern selects",
        description="Patterns: host or group names, globs (board*), paths through groups (lab/*, lab/rack1/*, "
        "*/board3, lab/** for any depth, lab/board[1-3] numeric ranges), comma lists, !exclusion, &intersection.",
    )
    parser.add_argument("pattern", nargs="?", default="all", help="host pattern (default: all)")
    add_inventory_arg(parser)
    parser.add_argument("--vars", action="store_true", help="also print each host's merged vars")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inventory = load_inventory(args.inventory)
    hosts = inventory.select(args.pattern)
    rows = [(h.name, h.address + (f":{h.port}" if h.port else ""), h.user or "-", h.connection) for h in hosts]
    widths = [max(len(r[i]) for r in rows + [("HOST", "ADDRESS", "USER", "CONNECTION")]) for i in range(4)]
    for row in [("HOST", "ADDRESS", "USER", "CONNECTION")] + rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    if args.vars:
        for h in hosts:
            print(f"\n{h.name}:")
            for key in sorted(h.vars):
                print(f"  {key}: {h.vars[key]!r}")
    return 0
