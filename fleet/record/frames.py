"""Append-only frame files: one msgpack map per frame, each written with a single write() so a killed writer
leaves at most one truncated frame at the end, which the reader detects and skips."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import msgpack

from fleet.errors import FleetError

READ_CHUNK = 1 << 20


class FrameFile:
    """An open frames file; `append` hands each frame to the kernel at once (survives a SIGKILL of this process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        self.bytes = os.fstat(self.fd).st_size

    def append(self, frame: Dict[str, Any]) -> int:
        """Write one frame; returns its size in bytes."""
        data = msgpack.packb(frame, use_bin_type=True)
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.bytes += len(data)
        return len(data)

    def sync(self) -> None:
        os.fsync(self.fd)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@dataclass
class ScanEnd:
    """How a frames file ended: `complete` unless the last frame was cut off (the writer was killed mid-write)."""

    frames: int = 0
    bytes_read: int = 0
    size: int = 0

    @property
    def complete(self) -> bool:
        return self.bytes_read == self.size


def scan_frames(path: Path, end: ScanEnd) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """(offset, frame) for every whole frame in `path`; fills `end` when done. A cut-off last frame is skipped."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=1 << 30)
    with open(path, "rb") as f:
        while True:
            chunk = f.read(READ_CHUNK)
            if not chunk:
                break
            end.size += len(chunk)
            unpacker.feed(chunk)
            while True:
                offset = end.bytes_read  # tell() is not reliable right after an OutOfData
                try:
                    frame = unpacker.unpack()
                except msgpack.OutOfData:
                    break
                except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
                    raise FleetError(f"{path}: corrupt frame at byte {offset} ({exc})") from None
                if not isinstance(frame, dict):
                    raise FleetError(f"{path}: frame at byte {offset} is not a map")
                end.frames += 1
                end.bytes_read = unpacker.tell()
                yield offset, frame


def read_frame_at(f: Any, offset: int) -> Dict[str, Any]:
    """The one frame that starts at `offset` of the open binary file `f`."""
    f.seek(offset)
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=1 << 30)
    while True:
        chunk = f.read(1 << 16)
        if not chunk:
            raise FleetError(f"{getattr(f, 'name', 'frames')}: frame at byte {offset} is cut off")
        unpacker.feed(chunk)
        try:
            frame: Dict[str, Any] = unpacker.unpack()
            return frame
        except msgpack.OutOfData:
            continue
