"""The block codecs trace.dat version 7 names in its header (zstd, zlib), with bounded decompression."""

from __future__ import annotations

import io
import zlib
from typing import Optional

import zstandard

from fleet.errors import DecodeError

_READ_STEP = 1 << 20


class Codec:
    """Compresses and decompresses one block; `name`/`version` are what the file header stores."""

    def __init__(self, name: str, version: str, level: Optional[int] = None) -> None:
        if name not in ("zstd", "zlib"):
            raise DecodeError(f"trace.dat compression {name!r} is not supported (only zstd and zlib)")
        self.name = name
        self.version = version
        self._level = level
        self._zc: Optional[zstandard.ZstdCompressor] = None
        self._zd = zstandard.ZstdDecompressor() if name == "zstd" else None

    @classmethod
    def zstd(cls, level: int = 3) -> Codec:
        return cls("zstd", ".".join(str(p) for p in zstandard.ZSTD_VERSION), level)

    def compress(self, data: bytes) -> bytes:
        if self.name == "zlib":
            return zlib.compress(data, self._level if self._level is not None else 6)
        if self._zc is None:
            self._zc = zstandard.ZstdCompressor(level=self._level if self._level is not None else 3)
        return self._zc.compress(data)

    def decompress(self, data: bytes, size: int, what: str) -> bytes:
        """Decompress a block that should expand to `size` bytes; never allocates more than the data yields."""
        try:
            if self.name == "zlib":
                d = zlib.decompressobj()
                out = d.decompress(data, size + 1)
            else:
                assert self._zd is not None
                parts = []
                got = 0
                with self._zd.stream_reader(io.BytesIO(data), read_across_frames=True) as reader:
                    while got <= size:
                        part = reader.read(min(_READ_STEP, size + 1 - got))
                        if not part:
                            break
                        parts.append(part)
                        got += len(part)
                out = b"".join(parts)
        except (zlib.error, zstandard.ZstdError) as exc:
            raise DecodeError(f"{what}: {self.name} data is corrupt ({exc})") from None
        if len(out) != size:
            raise DecodeError(f"{what}: decompressed to {len(out)} bytes, header says {size}")
        return out
