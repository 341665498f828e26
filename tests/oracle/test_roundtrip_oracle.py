"""Round trip on fresh captures: fleet's writer re-writes each one and `trace-cmd report -N` prints the same text."""

from __future__ import annotations

import subprocess
from typing import Dict

import pytest

from fleet.tracedat.copy import copy_tracedat
from fleet.tracedat.reader import TraceDat
from tests.oracle.conftest import CAPTURES


def report(path: str) -> str:
    cmd = ["trace-cmd", "report", "-N", "-t", "-i", path]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, errors="replace").stdout


@pytest.mark.root
@pytest.mark.parametrize("name", [c.name for c in CAPTURES])
def test_rewritten_capture_reports_identically(captures: Dict[str, str], tmp_path, name: str) -> None:
    out = str(tmp_path / "rewritten.dat")
    with TraceDat.open(captures[name]) as src:
        copy_tracedat(src, out)
    expected = report(captures[name])
    assert expected.count("\n") > 10
    assert report(out) == expected
