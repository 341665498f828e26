"""The bracket fit's geometry on small exact inputs, and the per-clock special cases (counter, uptime)."""

from __future__ import annotations

import math

from fleet.clocksync.align import align_host
from fleet.clocksync.fit import fit_fixed_rate, fit_free_rate
from fleet.clocksync.hull import lower_hull, upper_hull
from fleet.clocksync.mapping import Interp
from fleet.clocksync.samples import SyncSample


def test_hulls_keep_only_the_binding_points() -> None:
    assert upper_hull([(0, 0), (1, 5), (2, 1), (3, 6), (4, 0), (2, 3)]) == [(0, 0), (1, 5), (3, 6), (4, 0)]
    assert lower_hull([(0, 9), (1, 2), (2, 5), (3, 1), (4, 9), (3, 4)]) == [(0, 9), (1, 2), (3, 1), (4, 9)]


def test_exact_brackets_give_the_exact_line_and_zero_width() -> None:
    # y = 100 + 2x observed exactly at x = 0, 10, 20.
    pts = [(0, 100), (10, 120), (20, 140)]
    line = fit_free_rate(pts, pts)
    assert line is not None
    assert (line.rate, line.at(5), line.halfwidth, line.slack) == (2.0, 110.0, 0.0, 0.0)


def test_free_rate_is_undetermined_at_a_single_x() -> None:
    assert fit_free_rate([(5, 0)], [(5, 10)]) is None
    line = fit_fixed_rate([(5, 0)], [(5, 10)], 1.0)
    assert line is not None
    assert (line.at(5), line.halfwidth) == (5.0, 5.0)


def test_contradicting_brackets_report_the_slack_needed() -> None:
    # y in [0, 2] at x = 0 and at x = 10, but y in [20, 22] at x = 5: no line fits; 9 of slack makes one.
    line = fit_free_rate([(0, 0), (5, 20), (10, 0)], [(0, 2), (5, 22), (10, 2)])
    assert line is not None
    assert line.slack == 9.0
    assert line.rate == 0.0


def test_counter_clock_events_lie_between_the_markers_around_them() -> None:
    samples = [
        SyncSample(0, 0, 0, host_before=1_000, host_after=2_000, trace_ts=10),
        SyncSample(1, 0, 0, host_before=9_000, host_after=10_000, trace_ts=50),
    ]
    model = align_host(samples, "counter", shared_kernel=True)
    assert isinstance(model.to_host, Interp)
    assert model.aligned(10) == 1_500
    assert model.aligned(30) == 5_500  # halfway in count: an estimate only
    assert model.bound(30) == 4_500  # anywhere from marker 0's start to marker 1's end
    assert math.isinf(model.bound(51))
    assert model.drift_ppm is None
    assert model.notes == ("counter counts events, not time: events are placed between the sync markers around them",)


def test_uptime_ticks_are_placed_mid_tick_with_the_tick_in_the_bound() -> None:
    # USER_HZ ticks: tick 100 began at 1.000 s (host monotonic), markers land inside ticks 100 and 150.
    samples = [
        SyncSample(0, 0, 0, host_before=1_003_000_000, host_after=1_003_010_000, trace_ts=100),
        SyncSample(1, 0, 0, host_before=1_507_000_000, host_after=1_507_010_000, trace_ts=150),
    ]
    model = align_host(samples, "uptime", shared_kernel=True)
    assert model.rate == 1e7
    for s in samples:
        assert s.trace_ts is not None
        assert abs(model.aligned(s.trace_ts) - s.host_before) <= model.bound(s.trace_ts)
    assert 6_000_000 <= model.uncertainty_ns <= 12_000_000
    assert model.notes == ("uptime is a coarse tick clock: timestamps are only good to 12 ms",)
