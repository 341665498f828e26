"""Frames on file descriptors: a serialized writer (many threads send) and an iterator over incoming frames."""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Dict, Iterator, Tuple

import msgpack


class WireClosed(Exception):
    """The other side closed the output pipe (the coordinator is gone)."""


class Writer:
    """Packs frames and writes each whole under one lock, so frames from reader threads never interleave."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()
        self.closed = False

    def send(self, frame: Dict[str, Any]) -> None:
        data = msgpack.packb(frame, use_bin_type=True)
        with self.lock:
            self._write(data)

    def send_stamped(self, frame: Dict[str, Any], key: str) -> None:
        """Send `frame` with `key` set to CLOCK_MONOTONIC read once the pipe is ours, right before the write.

        A sync reply may wait here behind a reader thread's data frame; that wait must not count as host time.
        """
        with self.lock:
            frame[key] = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            self._write(msgpack.packb(frame, use_bin_type=True))

    def _write(self, data: bytes) -> None:
        if self.closed:
            raise WireClosed("output closed")
        view = memoryview(data)
        try:
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
        except (BrokenPipeError, ConnectionResetError) as exc:
            self.closed = True
            raise WireClosed(str(exc)) from None


def read_frames(fd: int) -> Iterator[Any]:
    """Frames from `fd` until EOF (msgpack is self-delimiting, so reads may split frames anywhere)."""
    for frame, _ in read_frames_stamped(fd):
        yield frame


def read_frames_stamped(fd: int) -> Iterator[Tuple[Any, int]]:
    """(frame, CLOCK_MONOTONIC ns when the read that completed it returned), until EOF.

    The stamp is taken before decoding, so a sync request's arrival does not include the agent's own parsing.
    """
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=64 << 20)
    while True:
        chunk = os.read(fd, 1 << 16)
        rx = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        if not chunk:
            return
        unpacker.feed(chunk)
        for frame in unpacker:
            yield frame, rx
