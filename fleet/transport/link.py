"""Requests and replies over a Channel: ids, waiting for the matching reply, stream frames to a handler."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, Optional, Tuple

from agent import protocol
from fleet.transport.channel import Channel, ChannelClosed
from fleet.transport.errors import AgentFailed, LinkLost

StreamHandler = Callable[[Dict[str, Any], int], None]
"""Called with each stream frame (data, metadata, event, error without id) and its arrival CLOCK_MONOTONIC ns."""


class AgentLink:
    """One agent conversation: `request` sends and waits for the reply; `run` must be running to receive."""

    def __init__(self, channel: Channel, on_stream: StreamHandler) -> None:
        self.channel = channel
        self.host = channel.host
        self.on_stream = on_stream
        self._next_id = 1
        self._pending: Dict[int, asyncio.Future[Tuple[Dict[str, Any], int]]] = {}
        self.lost: Optional[LinkLost] = None
        self.receiver: Optional[asyncio.Task[None]] = None

    def start(self) -> None:
        self.receiver = asyncio.ensure_future(self._receive())

    async def _receive(self) -> None:
        try:
            while True:
                frame, rx = await self.channel.recv_stamped()
                rid = frame.get("id")
                if rid is not None and rid in self._pending and frame.get("t") != protocol.DATA:
                    fut = self._pending.pop(rid)
                    if not fut.done():
                        fut.set_result((frame, rx))
                else:
                    self.on_stream(frame, rx)
        except ChannelClosed as exc:
            tail = self.channel.stderr_tail()
            self.lost = LinkLost(self.host, f"link lost: {exc.reason}" + (f" (agent: {tail})" if tail else ""))
        except Exception as exc:  # a failing handler (disk full) must end the session, not hang it
            self.lost = LinkLost(self.host, f"recording failed: {type(exc).__name__}: {exc}")
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(self.lost)
        self._pending.clear()

    async def send(self, kind: str, **fields: Any) -> None:
        """Send a request that has no reply (credit)."""
        if self.lost:
            raise self.lost
        try:
            await self.channel.send(protocol.frame(kind, **fields))
        except ChannelClosed as exc:
            raise self.lost or LinkLost(self.host, f"link lost: {exc.reason}") from None

    async def request(self, kind: str, timeout: float, **fields: Any) -> Dict[str, Any]:
        """Send a request and return its reply; AgentFailed for an error reply, LinkLost when the link goes."""
        reply, _, _ = await self.request_timed(kind, timeout, **fields)
        return reply

    async def request_timed(self, kind: str, timeout: float, **fields: Any) -> Tuple[Dict[str, Any], int, int]:
        """`request`, also returning CLOCK_MONOTONIC ns right before the request's write and when the chunk holding
        the reply was read (NTP's originate and destination timestamps, for clock sync)."""
        if self.lost:
            raise self.lost
        rid = self._next_id
        self._next_id += 1
        fut: asyncio.Future[Tuple[Dict[str, Any], int]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        try:
            sent = await self.channel.send(protocol.frame(kind, id=rid, **fields))
            reply, rx = await asyncio.wait_for(fut, timeout)
        except ChannelClosed as exc:
            raise self.lost or LinkLost(self.host, f"link lost: {exc.reason}") from None
        except asyncio.TimeoutError:
            raise LinkLost(self.host, f"no reply to {kind} within {timeout:g} s") from None
        finally:
            self._pending.pop(rid, None)
        if reply.get("t") == protocol.ERROR:
            raise AgentFailed(self.host, kind, str(reply.get("code", "?")), str(reply.get("message", "")))
        return reply, sent, rx

    async def close(self) -> None:
        await self.channel.close()
        if self.receiver is not None:
            try:
                await asyncio.wait_for(self.receiver, 2.0)
            except (asyncio.TimeoutError, Exception):
                self.receiver.cancel()
