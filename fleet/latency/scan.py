"""A host's events of a few ids, decoded lazily per CPU: records of other ids are skipped before an Event exists."""

from __future__ import annotations

import struct
from typing import Iterable, Iterator, Set, Union

from fleet.ftrace.events import Decoder, Event, Lost
from fleet.ftrace.ringbuf import page_records


def select_events(decoder: Decoder, cpu: int, pages: Iterable[bytes], ids: Set[int]) -> Iterator[Union[Event, Lost]]:
    """Events of `ids` (and loss markers) of one CPU's pages, in order."""
    header = decoder.header
    common = struct.Struct((">" if decoder.meta.big_endian else "<") + "HBBi").unpack_from
    etype_of = struct.Struct(">H" if decoder.meta.big_endian else "<H").unpack_from
    for page in pages:
        info, recs = page_records(page, header)
        if info.missed:
            yield Lost(cpu, recs[0][0] if recs else info.timestamp, info.missed_count)
        for ts, off, length in recs:
            if length < 8 or etype_of(page, off)[0] not in ids:
                continue
            etype, flags, pc, pid = common(page, off)
            yield Event(ts, cpu, etype, pid, flags, pc, page[off : off + length], decoder)
