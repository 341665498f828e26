"""Tracing many hosts at once: one session per host, connects limited in number, a common start, one stop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence

from fleet.record.manifest import HostEntry
from fleet.record.writer import RunWriter
from fleet.transport import deploy
from fleet.transport.opener import open_channel
from fleet.transport.session import HostSession, ProgressCallback, SessionSettings, StartGate
from fleet.transport.ssh import SshOptions
from fleet.transport.target import Target


@dataclass
class FanoutOptions:
    ssh: SshOptions
    max_connects: int = 16
    """Hosts connecting (ssh handshake, check, push) at the same time."""


def host_entry(target: Target) -> HostEntry:
    return HostEntry(
        name=target.name,
        dir="",
        transport="local" if target.is_local else "ssh",
        address=target.address,
        port=target.port or (0 if target.is_local else 22),
        user=target.user or "",
        paths=list(target.paths),
    )


class Fanout:
    """Runs the sessions of one trace; `stop` ends tracing on every host (duration, Ctrl-C, SIGTERM)."""

    def __init__(
        self,
        targets: Sequence[Target],
        run: RunWriter,
        settings: SessionSettings,
        options: FanoutOptions,
        progress: ProgressCallback,
        build: Optional[deploy.AgentBuild] = None,
    ) -> None:
        self.targets = list(targets)
        self.run = run
        self.settings = settings
        self.options = options
        self.progress = progress
        self.build = build
        self.stop = asyncio.Event()
        self.gate = StartGate(len(self.targets))
        self.limit = asyncio.Semaphore(max(1, options.max_connects))
        self.sessions: List[HostSession] = []
        for target in self.targets:
            writer = run.add_host(host_entry(target))
            self.sessions.append(
                HostSession(target.name, writer, settings, self._opener(target), self.gate, self.stop, self.progress)
            )

    def _opener(self, target: Target) -> Callable[[Callable[[str, str], None]], Any]:
        async def opener(on_state: Callable[[str, str], None]) -> Any:
            async with self.limit:
                return await open_channel(target, self.options.ssh, self.build, on_state)

        return opener

    async def started(self) -> None:
        """Returns once every host has started tracing or failed."""
        await self.gate.open.wait()

    async def run_all(self, duration: Optional[float] = None) -> List[HostSession]:
        """Run every session to its end; with `duration`, stop that many seconds after the common start."""
        tasks = [asyncio.ensure_future(s.run()) for s in self.sessions]
        timer: Optional[asyncio.Task[None]] = None
        if duration is not None:
            timer = asyncio.ensure_future(self._stop_after(duration))
        try:
            await asyncio.gather(*tasks)
        finally:
            if timer is not None:
                timer.cancel()
            for t in tasks:
                if not t.done():
                    t.cancel()
        return self.sessions

    async def _stop_after(self, duration: float) -> None:
        await self.gate.open.wait()
        # Every host got its start request right after the gate opened; wait until they answered.
        while any(not s.started and s.state not in ("done", "error", "lost link") for s in self.sessions):
            await asyncio.sleep(0.005)
        await asyncio.sleep(duration)
        self.stop.set()
