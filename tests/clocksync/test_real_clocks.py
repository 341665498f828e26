"""Every trace_clock of this kernel mapped onto CLOCK_MONOTONIC within the claimed bound (real markers, real clocks).

Markers are written to an instance of our own, each bracketed by CLOCK_MONOTONIC reads; every other marker serves
as a sync sample, the ones in between are probes whose true time is known to lie in their own bracket.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from fleet.clocksync.align import align_host
from tests.clocksync.markers import as_samples, write_markers

CLOCKS = ["local", "global", "counter", "uptime", "perf", "mono", "mono_raw", "boot", "tai", "x86-tsc"]
# Worst bound allowed on this machine: a marker write takes a few microseconds; uptime ticks at 10 ms.
CEILING = {"uptime": 15_000_000, "counter": 10_000_000}


@pytest.fixture
def instance(tracefs: str) -> Iterator[str]:
    path = os.path.join(tracefs, "instances", "fleet-test-clocksync")
    if os.path.isdir(path):
        os.rmdir(path)
    os.mkdir(path)
    try:
        yield path
    finally:
        os.rmdir(path)


@pytest.mark.root
@pytest.mark.parametrize("clock", CLOCKS)
def test_trace_clock_maps_to_monotonic_within_its_bound(instance: str, clock: str) -> None:
    with open(os.path.join(instance, "trace_clock")) as f:
        available = f.read().replace("[", "").replace("]", "").split()
    if clock not in available:
        pytest.skip(f"this kernel has no trace clock {clock}")
    written, stamps = write_markers(instance, clock, 60, 0.002)
    assert len(stamps) == 60, "every marker must be found in trace_pipe_raw"
    samples = as_samples(written, stamps)
    model = align_host(samples[0::2], clock, shared_kernel=True)
    assert model.markers == 30
    assert model.uncertainty_ns <= CEILING.get(clock, 100_000)
    for probe in samples[1::2]:
        assert probe.trace_ts is not None
        aligned, bound = model.aligned(probe.trace_ts), model.bound(probe.trace_ts)
        # The truth lies in [host_before, host_after]; the claimed interval must reach it.
        assert aligned + bound >= probe.host_before and aligned - bound <= probe.host_after, (clock, probe)
    if model.nominal_rate == 1.0:
        assert model.drift_ppm is not None and abs(model.drift_ppm) < 1000
