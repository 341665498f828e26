"""A frame channel to one agent: msgpack maps out on its stdin, in from its stdout; its stderr kept for errors.

The local subprocess and the SSH process offer the same byte streams (read(n), write(), drain()), so one class
serves both; only opening and closing differ.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any, Awaitable, Callable, Deque, Dict, Optional, Protocol, Tuple

import msgpack

READ_SIZE = 1 << 18
STDERR_LINES = 20


class ByteReader(Protocol):
    async def read(self, n: int = -1) -> Any: ...


class ByteWriter(Protocol):
    def write(self, data: Any) -> None: ...

    async def drain(self) -> None: ...

    def write_eof(self) -> None: ...


class ChannelClosed(Exception):
    """The agent's output ended (EOF) or the stream failed; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Channel:
    """Send frames to an agent and receive its frames, whatever carries the bytes."""

    def __init__(
        self,
        host: str,
        stdin: ByteWriter,
        stdout: ByteReader,
        stderr: Optional[ByteReader],
        closer: Callable[[], Awaitable[Optional[int]]],
        kind: str,
    ) -> None:
        self.host = host
        self.kind = kind
        self._stdin = stdin
        self._stdout = stdout
        self._closer = closer
        self._unpacker = msgpack.Unpacker(raw=False, max_buffer_size=256 << 20)
        self.stderr_lines: Deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stderr_task = asyncio.ensure_future(self._collect_stderr(stderr)) if stderr is not None else None
        self.bytes_in = 0
        self.last_rx = 0
        """CLOCK_MONOTONIC ns when the latest chunk was read, before any of its frames was decoded."""
        self.closed = False
        self.exit_status: Optional[int] = None

    async def _collect_stderr(self, stderr: ByteReader) -> None:
        pending = b""
        try:
            while True:
                chunk = await stderr.read(1 << 14)
                if not chunk:
                    break
                if isinstance(chunk, str):
                    chunk = chunk.encode()
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        self.stderr_lines.append(line.decode("utf-8", "replace").rstrip())
        except Exception:  # the stream died with the link; what we have is all there is
            pass
        if pending.strip():
            self.stderr_lines.append(pending.decode("utf-8", "replace").rstrip())

    def stderr_tail(self, lines: int = 3) -> str:
        """The agent's last stderr lines, for error messages."""
        return " | ".join(list(self.stderr_lines)[-lines:])

    async def send(self, frame: Dict[str, Any]) -> int:
        """Write one frame; returns CLOCK_MONOTONIC ns taken right before the write (packing done).

        Raises ChannelClosed when the agent's input is gone.
        """
        if self.closed:
            raise ChannelClosed("channel closed")
        try:
            data = msgpack.packb(frame, use_bin_type=True)
            sent = time.monotonic_ns()
            self._stdin.write(data)
            await self._stdin.drain()
            return sent
        except (BrokenPipeError, ConnectionError, OSError) as exc:
            raise ChannelClosed(f"sending failed: {exc}") from None
        except Exception as exc:  # asyncssh raises its own DisconnectError/ChannelClosedError
            raise ChannelClosed(f"sending failed: {exc}") from None

    def send_nowait(self, frame: Dict[str, Any]) -> None:
        """Queue a small frame without waiting for the pipe (credits, sent from the receive path)."""
        if self.closed:
            raise ChannelClosed("channel closed")
        try:
            self._stdin.write(msgpack.packb(frame, use_bin_type=True))
        except Exception as exc:
            raise ChannelClosed(f"sending failed: {exc}") from None

    async def recv(self) -> Dict[str, Any]:
        """The next frame; raises ChannelClosed at EOF or when the stream fails."""
        frame, _ = await self.recv_stamped()
        return frame

    async def recv_stamped(self) -> Tuple[Dict[str, Any], int]:
        """The next frame and when the chunk that completed it was read (CLOCK_MONOTONIC ns).

        Frames are only decoded after their chunk is stamped, so a sync reply that arrives right behind big data
        frames keeps its arrival time rather than the time its turn to be decoded came.
        """
        while True:
            try:
                frame = self._unpacker.unpack()
            except msgpack.OutOfData:
                pass
            except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
                raise ChannelClosed(f"garbled output from the agent ({exc})") from None
            else:
                if not isinstance(frame, dict):
                    raise ChannelClosed(f"garbled output from the agent (a {type(frame).__name__}, not a map)")
                return frame, self.last_rx
            try:
                chunk = await self._stdout.read(READ_SIZE)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise ChannelClosed(str(exc) or type(exc).__name__) from None
            self.last_rx = time.monotonic_ns()
            if not chunk:
                raise ChannelClosed("the agent's output ended")
            self.bytes_in += len(chunk)
            self._unpacker.feed(chunk)

    async def close(self) -> Optional[int]:
        """Close the agent's input and wait for it to exit (killing it if it lingers); returns its exit status."""
        if self.closed:
            return self.exit_status
        self.closed = True
        try:
            self._stdin.write_eof()
        except Exception:
            pass
        self.exit_status = await self._closer()
        if self._stderr_task is not None:
            try:
                await asyncio.wait_for(self._stderr_task, 1.0)
            except (asyncio.TimeoutError, Exception):
                self._stderr_task.cancel()
        return self.exit_status
