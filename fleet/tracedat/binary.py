"""Bounds-checked reading and writing of trace.dat's integers and strings in the file's byte order."""

from __future__ import annotations

import mmap
import struct
from typing import Optional, Union

from fleet.errors import DecodeError

Buffer = Union[bytes, mmap.mmap]


class Cursor:
    """Reads integers and strings from a byte buffer; running past the end raises DecodeError, never IndexError."""

    def __init__(self, data: Buffer, big_endian: bool, what: str, pos: int = 0, end: Optional[int] = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else min(end, len(data))
        self.what = what
        self._order = ">" if big_endian else "<"

    def remaining(self) -> int:
        return self.end - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos < 0 or self.pos + n > self.end:
            raise DecodeError(f"{self.what}: truncated (needs {n} bytes at offset {self.pos}, has {self.remaining()})")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return bytes(out)

    def u16(self) -> int:
        return int(struct.unpack(self._order + "H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(self._order + "I", self.take(4))[0])

    def s32(self) -> int:
        return int(struct.unpack(self._order + "i", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack(self._order + "Q", self.take(8))[0])

    def s64(self) -> int:
        return int(struct.unpack(self._order + "q", self.take(8))[0])

    def cstring(self) -> str:
        end = self.data.find(b"\0", self.pos, self.end)
        if end < 0 or self.pos < 0:
            raise DecodeError(f"{self.what}: string at offset {self.pos} has no terminating NUL")
        raw = self.data[self.pos : end]
        self.pos = end + 1
        return bytes(raw).decode("utf-8", "replace")

    def sized_text(self, size_bytes: int) -> str:
        """A text preceded by its length as a `size_bytes`-byte integer."""
        size = self.u32() if size_bytes == 4 else self.u64()
        return self.take(size).decode("utf-8", "replace")


class Packer:
    """Encodes integers in the file's byte order (the writer's counterpart of Cursor)."""

    def __init__(self, big_endian: bool) -> None:
        self._order = ">" if big_endian else "<"

    def u16(self, value: int) -> bytes:
        return struct.pack(self._order + "H", value)

    def u32(self, value: int) -> bytes:
        return struct.pack(self._order + "I", value)

    def s32(self, value: int) -> bytes:
        return struct.pack(self._order + "i", value)

    def u64(self, value: int) -> bytes:
        return struct.pack(self._order + "Q", value)

    def s64(self, value: int) -> bytes:
        return struct.pack(self._order + "q", value)

    @staticmethod
    def cstring(text: str) -> bytes:
        return text.encode() + b"\0"
