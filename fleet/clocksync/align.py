"""Build a host's ClockModel from its raw sync samples: pure functions, so a recording can be re-aligned offline."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Dict, Iterable, List, Optional, Tuple

from fleet.clocksync.clocks import MAX_DRIFT, ClockKind, clock_kind
from fleet.clocksync.line import LineFit, identity
from fleet.clocksync.mapping import Interp, Mapping, Piecewise
from fleet.clocksync.model import ClockModel, notes_text
from fleet.clocksync.robust import Pair, fit_pairs
from fleet.clocksync.samples import SyncSample

SYNC_AUTO = "auto"
SYNC_NETWORK = "network"
SYNC_MODES = (SYNC_AUTO, SYNC_NETWORK)


def shares_kernel(host_boot_id: Optional[str], coord_boot_id: Optional[str], sync: str = SYNC_AUTO) -> bool:
    """True when the host runs on the coordinator's own kernel (same boot_id) and `--sync network` is not forced."""
    return sync != SYNC_NETWORK and bool(host_boot_id) and host_boot_id == coord_boot_id


def attach_markers(samples: Iterable[SyncSample], found: Dict[str, int]) -> List[SyncSample]:
    """Copies of `samples` with trace_ts filled from `found` (marker text -> trace timestamp) where it has them."""
    out = []
    for s in samples:
        ts = found.get(s.marker) if s.marker else None
        out.append(replace(s, trace_ts=ts) if ts is not None else s)
    return out


def _assumed_rate(pairs: List[Pair], rate: float, drift: float) -> LineFit:
    """One sample (or all at one x): take the nominal rate and let the bound grow by `drift` away from it."""
    line = fit_pairs(pairs, rate)
    assert line is not None
    seg = line.mapping.segments[0]
    return replace(seg, rate_lo=rate * (1 - drift), rate_hi=rate * (1 + drift))


def trace_to_host(samples: List[SyncSample], kind: ClockKind) -> Tuple[Mapping, List[str]]:
    """Stage 1: trace clock -> host CLOCK_MONOTONIC from marker rendezvous (trace_ts within [host_before, after])."""
    marked = sorted((s for s in samples if s.trace_ts is not None), key=lambda s: s.trace_ts or 0)
    notes: List[str] = []
    if not marked:
        if kind.name == "mono":
            return identity(0.0), ["no sync marker found; trace clock mono is CLOCK_MONOTONIC itself"]
        return identity(math.inf), [f"no sync marker found in the trace: {kind.name} timestamps are NOT aligned"]
    if kind.monotone_only:
        xs = tuple(int(s.trace_ts or 0) for s in marked)
        return Interp(xs, tuple(s.host_before for s in marked), tuple(s.host_after for s in marked)), [
            f"{kind.name} counts events, not time: events are placed between the sync markers around them"
        ]
    q = kind.quantum
    pairs: List[Pair] = [
        ((int(s.trace_ts or 0), s.host_before - int(q)), (int(s.trace_ts or 0), s.host_after)) for s in marked
    ]
    fits = []
    if kind.exact_rate and kind.nominal_rate:
        fixed = fit_pairs(pairs, kind.nominal_rate)
        if fixed is not None:
            fits.append(fixed)
    free = fit_pairs(pairs, prefer=kind.nominal_rate)
    if free is not None:
        fits.append(free)
    if not fits:
        if kind.nominal_rate is None:
            return identity(math.inf), [
                f"{len(marked)} sync marker(s) cannot fix the rate of {kind.name}: timestamps are NOT aligned"
            ]
        notes.append(f"one sync marker: {kind.name} assumed to run at its nominal rate within {MAX_DRIFT * 1e6:g} ppm")
        mapping: Mapping = _assumed_rate(pairs, kind.nominal_rate, 0.0 if kind.exact_rate else MAX_DRIFT)
    else:
        # A known exact rate wins unless the samples contradict it and a fitted rate does better.
        best = min(fits, key=lambda f: (f.mapping.slack > 0, max(s.halfwidth for s in f.mapping.segments)))
        mapping = best.mapping
        if best.dropped:
            notes.append(f"{len(best.dropped)} sync marker(s) contradicted the others and were left out")
        if len(best.mapping.segments) > 1:
            notes.append(f"rate changed during the run: {len(best.mapping.segments)} segments")
    if q:
        # The fit maps a tick to its start; the event lies somewhere inside the tick.
        mapping = _shift(mapping, q / 2)
        notes.append(f"{kind.name} is a coarse tick clock: timestamps are only good to {q / 1e6:g} ms")
    return mapping, notes


def _shift(mapping: Mapping, by: float) -> Mapping:
    def one(seg: LineFit) -> LineFit:
        return replace(seg, y0=seg.y0 + by, halfwidth=seg.halfwidth + by)

    if isinstance(mapping, LineFit):
        return one(mapping)
    if isinstance(mapping, Piecewise):
        return Piecewise(tuple(one(s) for s in mapping.segments))
    return mapping


def host_to_coord(samples: List[SyncSample], shared_kernel: bool) -> Tuple[Mapping, List[str]]:
    """Stage 2: host CLOCK_MONOTONIC -> coordinator CLOCK_MONOTONIC from round trips (NTP-style brackets)."""
    if shared_kernel:
        return identity(0.0), []
    if not samples:
        return identity(math.inf), ["no round trip recorded: host and coordinator clocks are NOT aligned"]
    # NTP's four timestamps: the host read the request after coord_send and replied before coord_recv, so the
    # agent's own work between host_rx and host_tx leaves the bracket.
    pairs: List[Pair] = [((s.host_in, s.coord_send), (s.host_out, s.coord_recv)) for s in samples]
    fit = fit_pairs(pairs, prefer=1.0)
    if fit is None:
        return _assumed_rate(pairs, 1.0, MAX_DRIFT), [
            f"one round trip: host monotonic assumed to drift at most {MAX_DRIFT * 1e6:g} ppm"
        ]
    notes = []
    if fit.dropped:
        notes.append(f"{len(fit.dropped)} round trip(s) contradicted the others and were left out")
    if len(fit.mapping.segments) > 1:
        notes.append(f"host/coordinator rate changed during the run: {len(fit.mapping.segments)} segments")
    return fit.mapping, notes


def align_host(
    samples: List[SyncSample],
    trace_clock: str,
    shared_kernel: bool = False,
    tsc_rate: Optional[float] = None,
) -> ClockModel:
    """The clock model of one host from its sync samples (trace_ts filled where the marker was found)."""
    kind = clock_kind(trace_clock, tsc_rate)
    to_host, notes1 = trace_to_host(samples, kind)
    to_coord, notes2 = host_to_coord(samples, shared_kernel)
    marked = [s for s in samples if s.trace_ts is not None]
    return ClockModel(
        trace_clock=trace_clock,
        to_host=to_host,
        to_coord=to_coord,
        nominal_rate=kind.nominal_rate,
        samples=len(samples),
        markers=len(marked),
        min_rtt=min((s.delay for s in samples), default=None),
        method="marker+" + ("shared-kernel" if shared_kernel else "roundtrip"),
        span=tuple(sorted(int(s.trace_ts or 0) for s in marked)),
        notes=notes_text(notes1 + notes2),
    )
