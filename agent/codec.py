"""Compression of data payloads and metadata: zstd when the `zstandard` module exists, else zlib (and say so)."""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Optional

from agent import protocol

NO_ZSTD_ENV = "FLEET_AGENT_NO_ZSTD"  # set to 1 to behave as if zstandard were not installed (tests, old hosts)


@dataclass
class Codec:
    """A named one-shot compressor; `notice` explains a fallback to a person."""

    name: str
    compress: Callable[[bytes], bytes]
    notice: Optional[str] = None


def load_zstd() -> Optional[Any]:
    if os.environ.get(NO_ZSTD_ENV) == "1":
        return None
    try:
        import zstandard
    except ImportError:
        return None
    return zstandard


def make_codec(level: int = 1) -> Codec:
    """zstd at a fast level; zlib level 1 as the fallback. Each reader thread should own its own Codec."""
    zstd = load_zstd()
    if zstd is not None:
        return Codec(protocol.CODEC_ZSTD, zstd.ZstdCompressor(level=level).compress)
    why = f"{NO_ZSTD_ENV}=1" if os.environ.get(NO_ZSTD_ENV) == "1" else "python module zstandard is missing"
    return Codec(protocol.CODEC_ZLIB, lambda b: zlib.compress(b, 1), f"{why}: compressing with zlib (slower)")
