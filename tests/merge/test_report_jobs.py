"""`fleet report --jobs N` renders CPUs in worker processes and prints exactly what the in-process path prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.cli import main

FIXTURE = Path(__file__).parent.parent / "tracedat" / "fixtures" / "small.dat"


def report(capsys: pytest.CaptureFixture, *argv: str) -> str:
    capsys.readouterr()
    assert main(["report", *argv]) == 0
    return capsys.readouterr().out


def test_jobs_two_prints_what_jobs_zero_prints(capsys: pytest.CaptureFixture) -> None:
    alone = report(capsys, "--jobs", "0", "--ns", str(FIXTURE))
    assert alone.count("\n") > 100
    assert report(capsys, "--jobs", "2", "--ns", str(FIXTURE)) == alone
