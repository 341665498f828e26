"""Frames on file descriptors: a serialized writer (many threads send) and an iterator over incoming frames."""

from __future__ import annotations

import os
import threading
from typing import Any, Dict, Iterator

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
        view = memoryview(data)
        with self.lock:
            if self.closed:
                raise WireClosed("output closed")
            try:
                while view:
                    n = os.write(self.fd, view)
                    view = view[n:]
            except (BrokenPipeError, ConnectionResetError) as exc:
                self.closed = True
                raise WireClosed(str(exc)) from None


def read_frames(fd: int) -> Iterator[Any]:
    """Frames from `fd` until EOF (msgpack is self-delimiting, so reads may split frames anywhere)."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=64 << 20)
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return
        unpacker.feed(chunk)
        yield from unpacker
