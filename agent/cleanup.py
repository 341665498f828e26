"""Signals that end the agent: SIGTERM, SIGINT and SIGHUP become an exception in the main thread, so the request
loop unwinds through its `finally` and restores the host. (SIGKILL is covered by disable_on_free and stale removal.)"""

from __future__ import annotations

import signal
import threading
from typing import Any

HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Terminated(Exception):
    """A terminating signal arrived."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by {signal.Signals(signum).name}")
        self.signum = signum


def raise_terminated(signum: int, _frame: Any) -> None:
    raise Terminated(signum)


def install_handlers() -> None:
    for sig in HANDLED:
        signal.signal(sig, raise_terminated)


def ignore_signals() -> None:
    """While restoring the host, a second signal must not interrupt the restore."""
    for sig in HANDLED:
        signal.signal(sig, signal.SIG_IGN)


def start_worker(thread: threading.Thread) -> None:
    """Start `thread` with the terminating signals blocked in it, so only the main thread receives them.

    The kernel hands a process-directed signal to any thread that does not block it. Had a worker taken it, the
    Python handler would wait for the main thread, asleep in read(stdin), and the agent would never end. A new
    thread inherits its creator's mask; the signals stay pending here until the mask is put back."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
