"""Watching the hosts' event frames while tracing: the first trigger stops every host and is recorded."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Set

from agent import protocol
from fleet.triggers.record import TriggerRecord
from fleet.triggers.spec import StopSpec


class TriggerWatch:
    """Give `on_event` every host's agent event frames; the first qualifying one sets `stop` at once."""

    def __init__(
        self,
        spec: StopSpec,
        trigger_hosts: Set[str],
        stop: asyncio.Event,
        run_dir: Path,
        announce: Callable[[str], None],
        sessions: Sequence[Any] = (),
    ) -> None:
        self.spec = spec
        self.trigger_hosts = trigger_hosts
        self.stop = stop
        self.run_dir = run_dir
        self.announce = announce
        self.sessions = list(sessions)
        """HostSessions: told to send STOP before their final syncs, so the stop reaches the kernels first."""
        self.fired: Optional[TriggerRecord] = None

    def qualifies(self, host: str, frame: Dict[str, Any]) -> bool:
        kind = frame.get("kind")
        if host not in self.trigger_hosts:
            return False
        if kind == protocol.EV_TRIGGER:
            return self.spec.event is not None
        if kind == protocol.EV_MAX_LATENCY and self.spec.above_us is not None:
            return int(frame.get("usecs", 0)) >= self.spec.above_us
        return False

    def on_event(self, host: str, frame: Dict[str, Any], rx: int) -> None:
        if self.fired is not None or self.stop.is_set() or not self.qualifies(host, frame):
            return
        for session in self.sessions:
            session.stop_first = True
        self.stop.set()
        at = frame.get("at")
        usecs = frame.get("usecs")
        self.fired = TriggerRecord(
            host=host,
            kind=str(frame.get("kind", "")),
            message=str(frame.get("message", "")),
            host_at=None if at is None else int(at),
            coord_rx=rx,
            stop_requested=time.monotonic_ns(),
            usecs=None if usecs is None else int(usecs),
            spec=dataclasses.asdict(self.spec),
        )
        self.fired.save(self.run_dir)
        self.announce(f"trigger on {host} ({self.fired.message}): stopping every host")
