"""The function profiler's tables: trace_stat/function0 of two lab guests (the custom 6.1 kernel, schedule* profiled
for 3 s) parsed, printed back in the kernel's layout, and summed over hosts."""

from __future__ import annotations

from pathlib import Path
from typing import List

from fleet.ftrace.stat import format_profile, parse_function_stat, sum_profiles

FIXTURES = Path(__file__).with_name("fixtures")
VM1 = (FIXTURES / "trace_stat_function0.vm1.txt").read_text()
VM2 = (FIXTURES / "trace_stat_function0.vm2.txt").read_text()


def columns(text: str, n: int) -> List[List[str]]:
    return [line.split()[:n] for line in text.splitlines()]


def test_a_table_parses_into_its_functions_hits_and_times() -> None:
    rows = parse_function_stat(VM1)
    assert [(r.function, r.hits, r.time_ns) for r in rows[-3:]] == [
        ("scheduler_tick", 6892, 185_115_200),
        ("schedule_tail", 3, 114_181),
        ("schedule_delayed_monitor_work", 4, 82_082),
    ]


def test_one_table_prints_back_as_the_kernel_printed_it() -> None:
    assert format_profile(sum_profiles([parse_function_stat(VM1)])) == VM1


def test_averages_of_seven_digit_times_can_differ_in_the_last_digit() -> None:
    # the kernel prints totals of 1 s and more without decimals, but averages them from the exact nanoseconds
    mine = format_profile(sum_profiles([parse_function_stat(VM2)]))
    assert columns(mine, 4) == columns(VM2, 4)
    assert [ln for ln in mine.splitlines() if ln not in VM2.splitlines()] == [
        "  schedule_hrtimeout_range_clock          84    6288910 us      74867.97 us     2089469175 us "
    ]


def test_tables_of_two_hosts_add_up_per_function_largest_time_first() -> None:
    merged = sum_profiles([parse_function_stat(VM1), parse_function_stat(VM2)])
    assert [(r.function, r.hits) for r in merged] == [
        ("schedule", 1710),
        ("schedule_timeout", 219),
        ("schedule_hrtimeout_range", 170),
        ("schedule_hrtimeout_range_clock", 170),
        ("scheduler_tick", 13153),
        ("schedule_tail", 6),  # 168.823 us in all
        ("schedule_delayed_monitor_work", 8),  # 139.938 us
    ]
    assert merged[0].time_ns == (60_683_930 + 61_352_236) * 1000
