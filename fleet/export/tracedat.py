"""A recorded run as one trace.dat per host, each carrying its clock model in a TIME_SHIFT option.

Every file's TIME_SHIFT maps its trace clock onto the run's time line (the coordinator's CLOCK_MONOTONIC) and names
one shared peer TRACEID, so `trace-cmd report -i h1.dat -i h2.dat` and KernelShark show the hosts aligned, just as
`fleet report RUN` does.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from fleet.clocksync.model import ClockModel
from fleet.clocksync.recorded import run_models
from fleet.errors import UsageError
from fleet.record.reader import HostRun, Run
from fleet.tracedat.constants import TSYNC_FLAG_INTERPOLATE
from fleet.tracedat.options import TimeShift, TimeShiftSample
from fleet.tracedat.writer import TraceDatWriter, WriteOptions


def trace_id(run: Run, host: Optional[str] = None) -> int:
    """A stable 64-bit TRACEID: the run's own (the peer every host refers to) or one host's."""
    text = f"{run.manifest.run_id}/{host or ''}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little") or 1


def time_shift(model: ClockModel, peer: int, cpus: int) -> Optional[TimeShift]:
    """TIME_SHIFT samples from a model's knots: aligned = (ts * scaling >> fraction) + offset, offsets interpolated.

    The rate is quantised to scaling/2**fraction with a fraction small enough that ts * scaling fits in 63 bits
    (trace-cmd multiplies in u64); each knot's offset absorbs the quantisation, and since both the scaled term and
    the interpolated offset are linear between knots, the file reproduces the model to about a nanosecond there.
    """
    if not model.aligned_ok:
        return None
    knots = model.time_shift()
    top = max(x for x, _, _ in knots) * 4 + (1 << 40)  # room for the run to go on past its last knot
    fraction = max(0, min(32, 62 - top.bit_length() - max(1, int(model.rate) + 1).bit_length()))
    scaling = max(1, round(model.rate * (1 << fraction)))
    samples = [
        TimeShiftSample(x, model.aligned(x) - ((x * scaling) >> fraction), scaling, fraction) for x, _, _ in knots
    ]
    return TimeShift(peer, TSYNC_FLAG_INTERPOLATE, [list(samples) for _ in range(cpus)])


def export_run(
    run: Run,
    output: Path,
    compression: str = "zstd",
    hosts: Optional[Sequence[str]] = None,
    aligned: bool = True,
    warn: Callable[[str], None] = lambda message: None,
) -> List[Path]:
    """Write OUTPUT/HOST.dat for every (selected) host that recorded metadata; return the files written."""
    models: Dict[str, ClockModel] = run_models(run) if aligned else {}
    peer = trace_id(run)
    output.mkdir(parents=True, exist_ok=True)
    written: List[Path] = []
    for host in run.hosts:
        if hosts is not None and host.name not in hosts:
            continue
        if not host.has_metadata:
            warn(f"{host.name}: no metadata recorded, skipped")
            continue
        model = models.get(host.name)
        if aligned and model is not None and not model.aligned_ok:
            warn(f"{host.name}: no clock sync recorded; its file keeps the host's own trace clock")
        written.append(_write_host(run, host, output / f"{host.name}.dat", compression, model, peer))
    if not written:
        raise UsageError(f"{run.path}: no selected host recorded metadata; nothing to export")
    return written


def _write_host(run: Run, host: HostRun, path: Path, compression: str, model: Optional[ClockModel], peer: int) -> Path:
    meta = dataclasses.replace(host.meta, buffer_name="")  # the host's instance becomes the file's top level
    shift = time_shift(model, peer, meta.cpus) if model is not None else None
    options = WriteOptions(compression=compression, trace_id=trace_id(run, host.name), time_shift=shift)
    writer = TraceDatWriter(str(path), meta, options)
    try:
        writer.add_buffer(meta, {cpu: host.pages(cpu) for cpu in host.cpus})
    except BaseException:
        writer.abort(str(path))
        raise
    writer.close()
    return path
