"""Shared test fixtures. Tests that need root, tracefs, sshd or trace-cmd skip on a laptop but must run under CI."""

from __future__ import annotations

import os
import shutil

import pytest

TRACEFS = "/sys/kernel/tracing"


def need(condition: bool, reason: str) -> None:
    """Skip the test when `condition` is false -- except under CI, where a missing real part is a failure."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


def have_tracefs() -> bool:
    if os.geteuid() != 0:
        return False
    if not os.path.exists(os.path.join(TRACEFS, "trace")):
        os.system(f"mount -t tracefs nodev {TRACEFS} 2>/dev/null")
    return os.path.exists(os.path.join(TRACEFS, "trace"))


@pytest.fixture
def tracefs() -> str:
    """The real tracefs mount point (root only)."""
    need(have_tracefs(), "needs root and tracefs")
    return TRACEFS


@pytest.fixture
def trace_cmd() -> str:
    """Path of the trace-cmd oracle."""
    path = shutil.which("trace-cmd")
    need(path is not None, "needs trace-cmd (apt-get install trace-cmd)")
    assert path is not None
    return path
