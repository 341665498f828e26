"""Clock models from synthetic exchanges with a known truth: recovered within the bound, and the bound holds."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.clocksync.align import align_host, attach_markers, shares_kernel
from fleet.clocksync.samples import SyncSample
from tests.clocksync.synth import Truth, exchanges


def probe_points(samples: list, n: int = 50) -> list:
    """Trace timestamps spread over the sampled span and a little beyond it."""
    ts = sorted(s.trace_ts for s in samples if s.trace_ts is not None)
    lo, hi = ts[0], ts[-1]
    width = hi - lo
    return [lo - width // 10 + (width * 12 // 10) * i // n for i in range(n + 1)]


def worst_ratio(truth: Truth, samples: list, **kw) -> float:
    """max |aligned - truth| / bound over the probes (<= 1 means the bound covered every probe)."""
    model = align_host(samples, "local", **kw)
    return max(abs(model.aligned(ts) - truth.aligned(ts)) / model.bound(ts) for ts in probe_points(samples))


def test_offset_and_drift_recovered_within_the_bound() -> None:
    truth = Truth()
    samples = exchanges(truth)
    model = align_host(samples, "local")
    assert model.method == "marker+roundtrip"
    assert model.samples == 60 and model.markers == 60
    assert model.notes == ()
    for ts in probe_points(samples):
        assert abs(model.aligned(ts) - truth.aligned(ts)) <= model.bound(ts)
    true_drift = (truth.rate * truth.t_rate - 1) * 1e6
    assert model.drift_ppm is not None
    assert abs(model.drift_ppm - true_drift) < 3.0  # leans to nominal within the inner half of what is feasible
    # Delays of 60 and 90 us at the least: the hull pins the offset to about their sum, not to the 5 ms outliers.
    assert model.uncertainty_ns < 150_000


def test_asymmetric_delay_is_inside_the_bound_though_not_removed() -> None:
    truth = Truth()
    samples = exchanges(truth, fwd_min=20_000, back_min=400_000, jitter=5_000)
    model = align_host(samples, "local")
    mid = probe_points(samples)[25]
    error = model.aligned(mid) - truth.aligned(mid)
    assert 150_000 < error < model.bound(mid)  # half the asymmetry shows as error; the bound still covers it


def test_delayed_replies_do_not_loosen_the_bound() -> None:
    truth = Truth()
    clean = align_host(exchanges(truth, delayed=0.0), "local")
    noisy = align_host(exchanges(truth, delayed=0.3), "local")
    assert noisy.uncertainty_ns < 1.5 * clean.uncertainty_ns


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    offset=st.integers(-(10**15), 10**15),
    drift_ppm=st.floats(-200, 200),
    trace_drift_ppm=st.floats(-100, 100),
    fwd=st.integers(1_000, 2_000_000),
    back=st.integers(1_000, 2_000_000),
    count=st.integers(2, 80),
)
def test_the_bound_always_covers_the_truth(
    seed: int, offset: int, drift_ppm: float, trace_drift_ppm: float, fwd: int, back: int, count: int
) -> None:
    truth = Truth(offset=offset, rate=1 + drift_ppm * 1e-6, t_rate=1 + trace_drift_ppm * 1e-6)
    samples = exchanges(truth, count=count, seed=seed, fwd_min=fwd, back_min=back)
    assert worst_ratio(truth, samples) <= 1.0


def test_one_sample_assumes_the_nominal_rate_and_widens_with_distance() -> None:
    truth = Truth(rate=1 + 100e-6, t_rate=1.0)
    [sample] = exchanges(truth, count=1)
    model = align_host([sample], "local")
    assert sample.trace_ts is not None
    near, far = sample.trace_ts, sample.trace_ts + 1_000_000_000
    assert abs(model.aligned(near) - truth.aligned(near)) <= model.bound(near)
    assert abs(model.aligned(far) - truth.aligned(far)) <= model.bound(far)
    assert model.bound(far) - model.bound(near) >= 2 * 500e-6 * 1e9 * 0.99  # 500 ppm on each of the two stages
    assert model.notes == (
        "one sync marker: local assumed to run at its nominal rate within 500 ppm",
        "one round trip: host monotonic assumed to drift at most 500 ppm",
    )


def test_no_samples_means_identity_with_an_infinite_bound_and_says_so() -> None:
    model = align_host([], "local")
    assert model.aligned(123_456) == 123_456
    assert math.isinf(model.bound(123_456))
    assert model.summary()["uncertainty_ns"] is None
    assert model.notes == (
        "no sync marker found in the trace: local timestamps are NOT aligned",
        "no round trip recorded: host and coordinator clocks are NOT aligned",
    )


def test_markers_missing_from_the_trace_leave_the_trace_clock_unaligned() -> None:
    samples = [replace(s, trace_ts=None) for s in exchanges(Truth())]
    model = align_host(samples, "x86-tsc")
    assert math.isinf(model.uncertainty_ns)
    assert model.notes[0] == "no sync marker found in the trace: x86-tsc timestamps are NOT aligned"


def test_shared_kernel_skips_round_trips_unless_network_sync_is_forced() -> None:
    assert shares_kernel("b1", "b1") is True
    assert shares_kernel("b1", "b1", "network") is False
    assert shares_kernel("b1", "b2") is False
    assert shares_kernel("", "") is False
    truth = Truth(offset=0, rate=1.0)
    samples = exchanges(truth)
    shared = align_host(samples, "local", shared_kernel=True)
    network = align_host(samples, "local", shared_kernel=False)
    assert shared.method == "marker+shared-kernel"
    assert shared.uncertainty_ns < 10_000 < network.uncertainty_ns  # only the marker write brackets remain


def test_a_lying_sample_is_dropped_and_the_rest_still_cover_the_truth() -> None:
    truth = Truth()
    samples = exchanges(truth)
    bad = samples[30]
    samples[30] = replace(bad, coord_send=bad.coord_send + 3_000_000, coord_recv=bad.coord_recv + 3_000_000)
    model = align_host(samples, "local")
    assert "1 round trip(s) contradicted the others and were left out" in model.notes
    assert worst_ratio(truth, samples) <= 1.0


def test_a_rate_change_mid_run_splits_the_model() -> None:
    before, after = Truth(rate=1 + 20e-6), Truth(rate=1 + 60e-6)
    first = exchanges(before, count=40, seed=3, delayed=0.0)
    pivot = first[-1].host_after
    # Continue the coordinator's time line continuously from the pivot with the new rate.
    after.offset = round(before.coord(pivot) - after.rate * pivot)
    second = exchanges(after, count=40, seed=4, start=pivot, dense=0, delayed=0.0)
    model = align_host(first + second, "local")
    assert "host/coordinator rate changed during the run: 2 segments" in model.notes
    for s in first[5:-5] + second[5:-5]:
        truth = before if s in first else after
        assert s.trace_ts is not None
        assert abs(model.aligned(s.trace_ts) - truth.aligned(s.trace_ts)) <= model.bound(s.trace_ts)


def test_attach_markers_fills_trace_ts_by_marker_text() -> None:
    samples = [SyncSample(0, 1, 2, 3, 4, marker="fleet-sync s 0"), SyncSample(1, 5, 6, 7, 8, marker="fleet-sync s 1")]
    out = attach_markers(samples, {"fleet-sync s 1": 99})
    assert [s.trace_ts for s in out] == [None, 99]


def test_agent_stamps_take_its_processing_out_of_the_bracket() -> None:
    truth = Truth()
    # The agent holds every request 100-200 us on each side of its marker write (Python, a busy host).
    without = exchanges(truth, hold=100_000, stamps=False)
    with_stamps = exchanges(truth, hold=100_000, stamps=True)
    loose, tight = align_host(without, "local"), align_host(with_stamps, "local")
    assert loose.min_rtt is not None and tight.min_rtt is not None
    assert loose.min_rtt - tight.min_rtt >= 200_000  # NTP's delay leaves out the hold
    assert tight.uncertainty_ns < loose.uncertainty_ns - 100_000
    assert worst_ratio(truth, with_stamps) <= 1.0


def test_samples_from_older_agents_load_without_the_ntp_stamps() -> None:
    old = {"seq": 3, "coord_send": 10, "coord_recv": 50, "host_before": 20, "host_after": 30, "marker": "m"}
    sample = SyncSample.from_dict(old)
    assert (sample.host_rx, sample.host_tx, sample.host_in, sample.host_out, sample.delay) == (None, None, 20, 30, 30)
    new = SyncSample.from_dict({**old, "host_rx": 15, "host_tx": 35})
    assert (new.host_in, new.host_out, new.delay) == (15, 35, 20)
    assert SyncSample.from_dict(new.to_dict()) == new


def test_time_shift_knots_reproduce_the_model_for_trace_dat() -> None:
    truth = Truth()
    samples = exchanges(truth)
    model = align_host(samples, "local")
    knots = model.time_shift()
    assert [k[0] for k in knots] == sorted(s.trace_ts for s in samples if s.trace_ts is not None)
    for ts, offset, mult in knots:
        assert abs(mult * ts + offset - model.aligned(ts)) <= 1
    # Between knots, linear interpolation of the offsets stays within the model's own bound of the truth.
    (t0, o0, m), (t1, o1, _) = knots[20], knots[21]
    mid = (t0 + t1) // 2
    shifted = m * mid + o0 + (o1 - o0) * (mid - t0) / (t1 - t0)
    assert abs(shifted - truth.aligned(mid)) <= model.bound(mid)
