"""Decode an agent's stream in tests with fleet's own decoder (fleet.ftrace), as the coordinator will."""

from __future__ import annotations

import zlib
from typing import Any, Dict, List, Tuple

import zstandard

from agent import protocol
from fleet.ftrace.events import Decoder, Event, Item, Lost, merge_cpus
from fleet.ftrace.meta import TraceMeta
from fleet.ftrace.ringbuf import split_pages
from tests.agent.agentproc import payload_pages


def trace_meta(meta: Dict[str, Any]) -> TraceMeta:
    """A TraceMeta from the agent's metadata frame (kallsyms decompressed)."""
    blob = meta["kallsyms"]
    if meta["kallsyms_codec"] == protocol.CODEC_ZSTD:
        syms = zstandard.ZstdDecompressor().decompressobj().decompress(blob)
    else:
        syms = zlib.decompress(blob)
    fields = {k: meta[k] for k in protocol.METADATA_KEYS if k not in ("kallsyms", "kallsyms_codec")}
    return TraceMeta(kallsyms=syms.decode(errors="replace"), **fields)


def decode_cpu(decoder: Decoder, frames: List[Dict[str, Any]], cpu: int) -> List[Item]:
    out: List[Item] = []
    for frame in frames:
        if frame["cpu"] == cpu:
            out.extend(decoder.decode_pages(cpu, split_pages(payload_pages(frame), decoder.header)))
    return out


def decode(meta: Dict[str, Any], frames: List[Dict[str, Any]]) -> List[Item]:
    """Every event and Lost marker of the stream, CPUs merged by timestamp."""
    decoder = Decoder(trace_meta(meta))
    cpus = sorted({f["cpu"] for f in frames})
    return list(merge_cpus(decode_cpu(decoder, frames, cpu) for cpu in cpus))


def events(items: List[Item]) -> List[Event]:
    return [it for it in items if isinstance(it, Event)]


def lost(items: List[Item]) -> List[Lost]:
    return [it for it in items if isinstance(it, Lost)]


def markers(items: List[Item]) -> List[Tuple[int, str]]:
    """(timestamp, text) of every trace_marker write (ftrace `print` events), in time order."""
    out = []
    for ev in events(items):
        if ev.name == "print":
            buf = ev.fields()["buf"]
            text = buf.decode(errors="replace") if isinstance(buf, bytes) else str(buf)
            out.append((ev.ts, text.split("\0", 1)[0].rstrip("\n")))
    return out
