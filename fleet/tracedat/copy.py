"""Re-writing an opened trace.dat through fleet's writer (what `fleet export FILE.dat --format trace.dat` does)."""

from __future__ import annotations

from fleet.tracedat.reader import TraceDat
from fleet.tracedat.writer import TraceDatWriter, WriteOptions


def options_of(src: TraceDat, compression: str = "zstd") -> WriteOptions:
    """The writer options that reproduce a source file's clock, identity, CPU stats and time corrections."""
    o = src.options
    return WriteOptions(
        compression=compression,
        trace_clock_text=o.trace_clock_text or None,
        uname=o.uname,
        trace_id=o.trace_id,
        cpucount=o.cpucount,
        cpustats=list(o.cpustats),
        time_shift=o.time_shift,
        tsc2nsec=o.tsc2nsec,
        date=o.date,
        offset=o.offset,
        guests=list(o.guests),
    )


def copy_tracedat(src: TraceDat, path: str, compression: str = "zstd") -> None:
    """Write every flyrecord buffer of `src` into a new version 7 file at `path`, page by page."""
    if not src.buffers:
        raise_empty(src)
    writer = TraceDatWriter(path, src.buffers[0].meta, options_of(src, compression))
    try:
        for buf in src.buffers:
            writer.add_buffer(buf.meta, {cpu: buf.pages(cpu) for cpu in buf.cpus})
    except BaseException:
        writer.abort(path)
        raise
    writer.close()


def raise_empty(src: TraceDat) -> None:
    from fleet.errors import DecodeError

    raise DecodeError(f"{src.path}: holds no flyrecord buffer to export (latency-only file?)")
