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


def have_lab() -> bool:
    """Root, iproute2, OpenSSH server and client: what the namespace lab needs."""
    tools = ("ip", "ss", "ssh", "ssh-keygen")
    return os.geteuid() == 0 and all(shutil.which(t) for t in tools) and os.path.exists("/usr/sbin/sshd")


def _reap_stale_test_labs() -> None:
    """Tear down labs of earlier test sessions that died before their own tear-down (named t<pid>)."""
    import re

    from fleet.lab import Lab

    for name in Lab.running_names():
        m = re.fullmatch(r"t(\d+)", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            Lab.remnants(name).down()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A lab of 3 namespace hosts (h1..h3, group `lab`) for the whole session; see fleet.lab.Lab for its API."""
    need(have_lab(), "needs root, iproute2 and OpenSSH (sshd) for the namespace lab")
    from fleet.lab import Lab

    _reap_stale_test_labs()
    the_lab = Lab.up(f"t{os.getpid()}", 3, tmp_path_factory.mktemp("lab"))
    try:
        yield the_lab
    finally:
        the_lab.down()
