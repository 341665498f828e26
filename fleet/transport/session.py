"""One host's conversation with its agent, per agent/protocol.py, recorded as it happens.

hello -> configure (metadata) -> wait for every host -> start -> dense syncs -> markers -> periodic syncs ->
(stop asked or link lost) -> final syncs -> stop (final drain, metadata_end) -> shutdown.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from agent import protocol
from fleet.clocksync.samples import SyncSample
from fleet.errors import HostError
from fleet.record.writer import HostWriter
from fleet.transport.channel import Channel, ChannelClosed
from fleet.transport.errors import LinkLost
from fleet.transport.link import AgentLink

# States shown by progress and stored in the manifest.
CONNECTING = "connecting"
PUSHING = "pushing"
CONFIGURING = "configuring"
READY = "ready"
TRACING = "tracing"
STOPPING = "stopping"
DONE = "done"
ERROR = "error"
LOST = "lost link"
FINAL_STATES = (DONE, ERROR, LOST)

ProgressCallback = Callable[[str, str, str], None]
"""(host, state, detail)."""


@dataclass
class SessionSettings:
    """What every host's session does: the agent config, markers, session name, sync cadence, timeouts."""

    session: str
    config: Dict[str, Any]
    markers: List[str] = field(default_factory=list)
    host_config: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    """Per-host overrides of `config` (e.g. the inventory's fleet_trace_clock), by host name."""
    sync_interval: float = 1.0
    sync_initial: int = 32
    sync_final: int = 8
    sync_burst: int = 8
    """Round trips back to back at each periodic sync: on a busy host most are delayed by scheduling, and the
    bracket fit needs only the quickest, so a few chances per point beat one."""
    request_timeout: float = 30.0
    configure_timeout: float = 60.0
    stop_timeout: float = 60.0
    credit_batch: int = protocol.INITIAL_CREDITS // 2
    defer_reading: bool = False
    """Flight recorder: the agents read their (overwrite-mode) buffers only at stop."""


class StartGate:
    """All hosts start together: each session arrives once (configured or failed); start waits for all."""

    def __init__(self, count: int) -> None:
        self.waiting = count
        self.open = asyncio.Event()
        if count <= 0:
            self.open.set()

    def arrive(self) -> None:
        self.waiting -= 1
        if self.waiting <= 0:
            self.open.set()


class HostSession:
    """Runs one host from connect to shutdown; never raises for host failures (they are recorded and reported)."""

    def __init__(
        self,
        name: str,
        writer: HostWriter,
        settings: SessionSettings,
        opener: Callable[[Callable[[str, str], None]], Any],
        gate: StartGate,
        stop: asyncio.Event,
        progress: ProgressCallback,
    ) -> None:
        self.name = name
        self.writer = writer
        self.settings = settings
        self.opener = opener
        self.gate = gate
        self.stop = stop
        self.progress = progress
        self.link: Optional[AgentLink] = None
        self.state = ""
        self.error: Optional[str] = None
        self.arrived = False
        self.unacked = 0
        self.sync_seq = 0
        self.first_data_ns: Optional[int] = None
        self.data_frames = 0
        self.metadata_end = False
        self.started = False
        self.on_event: Optional[Callable[[str, Dict[str, Any], int], None]] = None
        self.stop_first = False
        """Set before `stop` when a trigger fired: the STOP request goes out before the final syncs."""
        """Called with (host, event frame, arrival ns) for each agent event frame (cross-host triggers)."""

    # --- state -----------------------------------------------------------------------------------------------
    def set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        self.writer.state(state, detail)
        self.progress(self.name, state, detail)

    def arrive(self) -> None:
        if not self.arrived:
            self.arrived = True
            self.gate.arrive()

    # --- the stream ------------------------------------------------------------------------------------------
    def on_stream(self, frame: Dict[str, Any], rx: int) -> None:
        kind = frame.get("t")
        if kind == protocol.DATA:
            self.writer.data(frame, rx)
            self.data_frames += 1
            if self.first_data_ns is None:
                self.first_data_ns = rx
            self.unacked += 1
            if self.unacked >= self.settings.credit_batch and self.link is not None:
                grant, self.unacked = self.unacked, 0
                try:
                    self.link.channel.send_nowait(protocol.frame(protocol.CREDIT, frames=grant))
                except ChannelClosed:
                    pass  # the receive loop sees the end next
        elif kind == protocol.METADATA:
            self.writer.metadata(frame)
        elif kind == protocol.METADATA_END:
            self.writer.frame(frame)
            self.metadata_end = True
        elif kind == protocol.EVENT:
            self.writer.frame(frame)
            if self.on_event is not None:
                self.on_event(self.name, frame, rx)
            self.progress(self.name, "note", f"{frame.get('kind', 'event')}: {frame.get('message', '')}")
        elif kind == protocol.ERROR:
            self.writer.frame(frame)
            self.progress(self.name, "note", f"agent error {frame.get('code', '?')}: {frame.get('message', '')}")
        else:
            self.writer.frame(frame)

    # --- requests --------------------------------------------------------------------------------------------
    async def request(self, kind: str, timeout: Optional[float] = None, **fields: Any) -> Dict[str, Any]:
        assert self.link is not None
        return await self.link.request(kind, timeout or self.settings.request_timeout, **fields)

    async def sync(self) -> None:
        assert self.link is not None
        # Stamped by the channel right before the write and when the reply's chunk was read (not when awaited).
        reply, send, recv = await self.link.request_timed(protocol.SYNC, self.settings.request_timeout, marker=True)
        rx, tx = reply.get("host_rx"), reply.get("host_tx")
        sample = SyncSample(
            seq=int(reply.get("n", self.sync_seq)),
            coord_send=send,
            coord_recv=recv,
            host_before=int(reply["mono_before"]),
            host_after=int(reply["mono_after"]),
            host_realtime=int(reply.get("realtime", 0)),
            marker=str(reply.get("marker") or ""),
            host_rx=None if rx is None else int(rx),
            host_tx=None if tx is None else int(tx),
        )
        self.sync_seq += 1
        self.writer.sync(sample)

    async def marker(self, text: str) -> None:
        send = time.monotonic_ns()
        await self.request(protocol.MARKER, text=text)
        self.writer.marker(text, send, time.monotonic_ns())

    # --- the conversation ------------------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            await self._run()
        except LinkLost as exc:
            self._fail(LOST, exc.cause)
        except HostError as exc:
            self._fail(ERROR, exc.cause)
        finally:
            self.arrive()
            if self.link is not None:
                await self.link.close()

    def _fail(self, state: str, cause: str) -> None:
        self.error = cause
        self.writer.error(cause)
        self.state = state
        self.writer.entry.state = state
        self.writer.run.save()
        self.progress(self.name, state, cause)

    async def _run(self) -> None:
        entry = self.writer.entry
        self.set_state(CONNECTING)
        channel: Channel = await self.opener(lambda state, detail: self.set_state(state, detail))
        self.link = AgentLink(channel, self.on_stream)
        self.link.start()
        self.set_state(CONFIGURING)
        caps = await self.request(protocol.HELLO, version=protocol.PROTOCOL_VERSION, session=self.settings.session)
        self.writer.frame(caps)
        entry.agent_version = str(caps.get("agent_version", caps.get("version", "")))
        entry.boot_id = str(caps.get("boot_id", ""))
        entry.capabilities = {k: v for k, v in caps.items() if k not in ("t", "id")}
        config = {**self.settings.config, **self.settings.host_config.get(self.name, {})}
        ok = await self.request(protocol.CONFIGURE, self.settings.configure_timeout, config=config)
        entry.instance = str(ok.get("instance", ""))
        notices = [str(n) for n in ok.get("notices") or []]
        self.set_state(READY, "; ".join(notices))
        self.arrive()
        await self.gate.open.wait()
        if self.stop.is_set():
            await self.request(protocol.SHUTDOWN)
            self.set_state(DONE, "stopped before tracing started")
            return
        await self.request(protocol.START, **({"defer": True} if self.settings.defer_reading else {}))
        entry.started_ns = time.monotonic_ns()
        self.started = True
        self.set_state(TRACING)
        for _ in range(self.settings.sync_initial):
            await self.sync()
        for text in self.settings.markers:
            await self.marker(text)
        await self._trace_until_stop()
        if self.stop_first:
            # A trigger fired elsewhere: stop tracing at once; the final round trips follow (clocks only).
            await self.request(protocol.STOP, self.settings.stop_timeout)
            entry.stopped_ns = time.monotonic_ns()
            self.set_state(STOPPING)
        else:
            self.set_state(STOPPING)
        for _ in range(self.settings.sync_final):
            await self.sync()
        if not self.stop_first:
            await self.request(protocol.STOP, self.settings.stop_timeout)
            entry.stopped_ns = time.monotonic_ns()
        await self.request(protocol.SHUTDOWN)
        self.set_state(DONE)

    async def _trace_until_stop(self) -> None:
        """Sync every sync_interval until the run is stopped; a lost link ends the wait at once."""
        assert self.link is not None and self.link.receiver is not None
        stop_wait = asyncio.ensure_future(self.stop.wait())
        try:
            while not self.stop.is_set():
                done, _ = await asyncio.wait(
                    [stop_wait, self.link.receiver],
                    timeout=self.settings.sync_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if self.link.receiver in done:
                    raise self.link.lost or LinkLost(self.name, "link lost")
                if not done:
                    for _ in range(self.settings.sync_burst):
                        await self.sync()
        finally:
            stop_wait.cancel()
