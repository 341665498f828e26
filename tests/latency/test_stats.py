"""Percentiles, the `312.4 µs ± 1.1` notation and the log-scale histogram, with exact expected text."""

from __future__ import annotations

from fleet.latency.histogram import histogram_lines
from fleet.latency.stats import Summary, human, percentile


def test_nearest_rank_percentiles() -> None:
    values = list(range(1, 1001))
    assert [percentile(values, p) for p in (50, 90, 99, 99.9, 100)] == [500, 900, 990, 999, 1000]
    assert Summary.of([30, 10, 20]).as_dict() == {
        "min_ns": 10,
        "p50_ns": 20,
        "p90_ns": 30,
        "p99_ns": 30,
        "p999_ns": 30,
        "max_ns": 30,
    }


def test_human_values_keep_the_uncertainty_in_the_same_unit() -> None:
    assert human(312_400, 1_100) == "312.4 µs ± 1.1"
    assert human(4_255_890, 4_356) == "4.2559 ms ± 0.0044"
    assert human(850, 12) == "850 ns ± 12"
    assert human(312_400, -1) == "312.4 µs ± ?"
    assert human(1_500_000_000) == "1.5 s"


def test_histogram_rows_are_power_of_two_buckets_scaled_to_the_fullest() -> None:
    lines = histogram_lines([100, 100, 100, 100, 300], width=8)
    assert lines == [
        "   [64 ns, 128 ns)  |########| 4",
        "  [128 ns, 256 ns)  |        | 0",
        "  [256 ns, 512 ns)  |##      | 1",
    ]
