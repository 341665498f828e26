"""Signals that end the agent: SIGTERM, SIGINT and SIGHUP become an exception in the main thread, so the request
loop unwinds through its `finally` and restores the host. (SIGKILL is covered by disable_on_free and stale removal.)"""

from __future__ import annotations

import signal
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
