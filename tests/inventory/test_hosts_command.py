"""`fleet hosts`: the table a user sees for a pattern."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List

import pytest

from fleet.commands import hosts
from fleet.errors import FleetError

DATA = Path(__file__).parent / "data"


def main(argv: List[str]) -> int:
    """`fleet ARGV` with only the hosts command registered, exit codes and error line as fleet.cli gives them."""
    parser = argparse.ArgumentParser(prog="fleet")
    hosts.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except FleetError as exc:
        print(f"fleet: {exc}", file=sys.stderr)
        return exc.exit_code


def test_hosts_lists_matches_with_address_user_connection(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hosts", "-i", str(DATA / "nested.yml"), "rack2/**,scope1"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "HOST     ADDRESS        USER       CONNECTION",
        "board6   10.0.0.6:2222  labuser    ssh",
        "board07  board07        labuser    ssh",
        "board08  board08        labuser    ssh",
        "scope1   scope1         benchuser  local",
    ]


def test_hosts_vars_prints_merged_vars(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hosts", "-i", str(DATA / "nested.ini"), "board4", "--vars"]) == 0
    out = capsys.readouterr().out
    assert out.endswith("board4:\n  ansible_user: 'labuser'\n  fleet_trace_clock: 'mono'\n")


def test_hosts_pattern_matching_nothing_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hosts", "-i", str(DATA / "nested.yml"), "lab/rack9/*"]) == 2
    assert capsys.readouterr().err.startswith("fleet: host pattern 'lab/rack9/*' matches no host")


def test_example_inventory_loads(capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).parents[2] / "inventory" / "example.yml"
    assert main(["hosts", "-i", str(example), "boards/**,!board2"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == [
        "board1",
        "board3",
        "board4",
        "board5",
    ]
