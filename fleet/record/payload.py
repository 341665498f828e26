"""Decompressing a data frame's payload (zstd or zlib, as the agent chose) back into its concatenated pages."""

from __future__ import annotations

import zlib
from typing import Any, Dict

import zstandard

from fleet.errors import DecodeError

# A zstd frame written with one-shot compress() records its content size; the cap guards a corrupt header.
MAX_PAYLOAD = 1 << 30


def decompress(codec: str, data: bytes) -> bytes:
    """The bytes `data` held before the agent compressed it with `codec`."""
    try:
        if codec == "zstd":
            return zstandard.ZstdDecompressor().decompress(data, max_output_size=MAX_PAYLOAD)
        if codec == "zlib":
            return zlib.decompress(data)
        if codec in ("", "none", None):
            return bytes(data)
    except (zstandard.ZstdError, zlib.error) as exc:
        raise DecodeError(f"cannot decompress a {codec} payload ({exc})") from None
    raise DecodeError(f"unknown payload codec {codec!r}")


def frame_pages_blob(frame: Dict[str, Any]) -> bytes:
    """The concatenated truncated pages of one data frame."""
    return decompress(str(frame.get("codec", "")), frame.get("payload", b""))
