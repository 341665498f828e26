"""`fleet view` in a real terminal (tmux): start it, press keys, read the screen as a person sees it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.conftest import need

WIDTH, HEIGHT = 160, 50


@pytest.fixture
def tmux() -> Iterator[Callable[..., str]]:
    need(shutil.which("tmux") is not None, "needs tmux")
    name = f"fleet-test-{uuid.uuid4().hex[:8]}"
    started = []

    def start(command: str) -> str:
        # COLUMNS/LINES inherited from the test runner would override the terminal's real size.
        command = f"env -u COLUMNS -u LINES {command}"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), command], check=True
        )
        started.append(name)
        # A tmux server started elsewhere may size new windows by its clients; pin this one.
        subprocess.run(["tmux", "set-option", "-t", name, "window-size", "manual"], capture_output=True)
        subprocess.run(["tmux", "resize-window", "-t", name, "-x", str(WIDTH), "-y", str(HEIGHT)], check=True)
        return name

    yield start
    for s in started:
        subprocess.run(["tmux", "kill-session", "-t", s], capture_output=True)


def capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def keys(session: str, *names: str) -> None:
    subprocess.run(["tmux", "send-keys", "-t", session, *names], check=True)


def wait_for(session: str, text: str, timeout: float = 30.0) -> str:
    """The screen once it shows `text` (a readiness wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = capture(session)
        if text in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")


def test_view_in_tmux_marker_search_help_quit(tmux: Callable[..., str], small_run: Path) -> None:
    session = tmux(f"{sys.executable} -m fleet.cli view {small_run}; echo EXITED $?; sleep 30")
    screen = wait_for(session, "events 471  line 1")
    assert "localhost" in screen and "sched_switch" in screen
    keys(session, "m")
    screen = wait_for(session, "marker 1/1")
    assert "MARKER" in screen and "hello" in screen
    keys(session, "/")
    wait_for(session, "search:")
    keys(session, "sched_wakeup", "Enter")
    screen = wait_for(session, "'sched_wakeup' at event")
    keys(session, "?")
    screen = wait_for(session, "fleet view — keys")
    assert "jump to time" in screen and "next lost-events gap" in screen
    keys(session, "Escape")
    # Escape then q at once reads as alt+q in a terminal: wait for the help to close first.
    deadline = time.monotonic() + 30
    while "fleet view — keys" in capture(session) and time.monotonic() < deadline:
        time.sleep(0.1)
    keys(session, "q")
    wait_for(session, "EXITED 0")


def test_view_of_a_missing_run_says_so(tmux: Callable[..., str], tmp_path: Path) -> None:
    session = tmux(f"{sys.executable} -m fleet.cli view {tmp_path}/nothing; echo EXITED $?; sleep 30")
    screen = wait_for(session, "EXITED 2")
    assert "not a run directory (no manifest)" in screen
