"""`fleet report` on the checked-in fixtures: the text trace-cmd printed for them, filters, JSON lines."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from typing import List

import pytest

from fleet.cli import main

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def collapse(text: str) -> List[str]:
    return [" ".join(line.split()) for line in text.splitlines() if not line.startswith("cpus=")]


def fleet(*args: str) -> str:
    """`fleet report ARGS` run in this process (a subprocess per call costs a second of imports)."""
    buf = io.BytesIO()
    wrapper = io.TextIOWrapper(buf, encoding="utf-8")
    with contextlib.redirect_stdout(wrapper):
        rc = main(["report", *args])
    wrapper.flush()
    assert rc == 0
    return buf.getvalue().decode()


@pytest.mark.parametrize("name", ["small", "small-tsc"])
def test_ns_output_equals_trace_cmd_report_N_t(name: str) -> None:
    expected = collapse(open(os.path.join(FIXTURES, f"{name}.txt")).read())
    assert collapse(fleet("--ns", os.path.join(FIXTURES, f"{name}.dat"))) == expected


def test_default_output_has_microseconds() -> None:
    first = fleet(os.path.join(FIXTURES, "small.dat")).splitlines()[0]
    ns_first = fleet("--ns", os.path.join(FIXTURES, "small.dat")).splitlines()[0]
    stamp = ns_first.split("]", 1)[1].split(":", 1)[0].strip()
    assert first.split("]", 1)[1].split(":", 1)[0].strip() == stamp[:-3]


def test_cpu_filter_keeps_only_listed_cpus() -> None:
    lines = fleet("--cpu", "1", os.path.join(FIXTURES, "small.dat")).splitlines()
    assert lines and all("[001]" in line for line in lines)


def test_event_globs_match_name_or_system_and_name() -> None:
    path = os.path.join(FIXTURES, "small.dat")
    by_name = fleet("-e", "sched_switch", path).splitlines()
    by_system = fleet("-e", "sched:sched_sw*", path).splitlines()
    assert by_name and by_name == by_system
    assert all(" sched_switch: " in line for line in by_name)
    both = fleet("-e", "sched_switch", "-e", "ftrace:print", path).splitlines()
    assert len(both) == len(by_name) + sum(" print: " in line for line in fleet(path).splitlines())


def test_jsonl_has_one_object_per_event() -> None:
    path = os.path.join(FIXTURES, "small.dat")
    text_lines = fleet("-e", "sched_switch", path).splitlines()
    records = [json.loads(line) for line in fleet("--format", "jsonl", "-e", "sched_switch", path).splitlines()]
    assert len(records) == len(text_lines)
    first = records[0]
    assert sorted(first) == ["comm", "cpu", "event", "fields", "host", "pid", "system", "ts"]
    assert (first["host"], first["event"], first["system"]) == (None, "sched_switch", "sched")
    assert isinstance(first["ts"], int) and "prev_comm" in first["fields"]
    assert first["comm"] in text_lines[0] and str(first["pid"]) in text_lines[0]


def test_bad_cpu_list_is_a_usage_error() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "fleet.cli", "report", "--cpu", "x-1", os.path.join(FIXTURES, "small.dat")],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 2 and "bad CPU list" in p.stderr


def test_instance_lines_carry_the_buffer_name_like_trace_cmd(trace_cmd: str, tmp_path) -> None:
    from fleet.tracedat.reader import TraceDat
    from fleet.tracedat.writer import TraceDatWriter

    out = str(tmp_path / "i.dat")
    with TraceDat.open(os.path.join(FIXTURES, "small.dat")) as src:
        top = src.buffers[0]
        inst = type(top.meta)(**{**top.meta.__dict__, "buffer_name": "fleet-inst"})
        with TraceDatWriter(out, top.meta) as w:
            w.add_buffer(top.meta, {cpu: top.pages(cpu) for cpu in top.cpus})
            w.add_buffer(inst, {cpu: top.pages(cpu) for cpu in top.cpus})
    expected = subprocess.run([trace_cmd, "report", "-N", "-t", out], capture_output=True, text=True, check=True)
    assert collapse(fleet("--ns", out)) == collapse(expected.stdout)


def test_lost_events_print_where_trace_cmd_prints_them(trace_cmd: str, tmp_path) -> None:
    """A page flagged RB_MISSED_EVENTS|RB_MISSED_STORED with a stored count: trace-cmd prints `CPU:N [K EVENTS
    DROPPED]` before the page's first event; fleet prints ftrace's `CPU:N [LOST K EVENTS]` at the same place."""
    import struct

    from fleet.tracedat.reader import TraceDat
    from fleet.tracedat.writer import TraceDatWriter

    out = str(tmp_path / "lost.dat")
    with TraceDat.open(os.path.join(FIXTURES, "small.dat")) as src:
        top = src.buffers[0]
        pages = {cpu: list(top.pages(cpu)) for cpu in top.cpus}
        page = bytearray(pages[1][-1])
        commit = struct.unpack_from("<Q", page, 8)[0]
        assert commit + 16 + 8 <= len(page)
        struct.pack_into("<Q", page, 8, commit | 1 << 31 | 1 << 30)
        struct.pack_into("<Q", page, 16 + commit, 4242)
        pages[1][-1] = bytes(page)
        with TraceDatWriter(out, top.meta) as w:
            w.add_buffer(top.meta, pages)
    expected = subprocess.run([trace_cmd, "report", "-N", "-t", out], capture_output=True, text=True, check=True)
    want = [line.replace("[4242 EVENTS DROPPED]", "[LOST 4242 EVENTS]") for line in collapse(expected.stdout)]
    assert "CPU:1 [LOST 4242 EVENTS]" in want
    assert collapse(fleet("--ns", out)) == want


@pytest.mark.parametrize(
    "option",
    [
        {"time_shift": "constant"},
        {"time_shift": "interpolated"},
        {"offset": "1000000007"},
        {"date": "0x10"},
    ],
)
def test_timestamp_options_shift_fleet_like_trace_cmd(trace_cmd: str, tmp_path, option: dict) -> None:
    from fleet.tracedat.options import TimeShift, TimeShiftSample
    from fleet.tracedat.reader import TraceDat
    from fleet.tracedat.writer import TraceDatWriter, WriteOptions, constant_time_shift

    out = str(tmp_path / "shifted.dat")
    with TraceDat.open(os.path.join(FIXTURES, "small.dat")) as src:
        top = src.buffers[0]
        opts = WriteOptions(trace_clock_text=src.options.trace_clock_text)
        if option.get("time_shift") == "constant":
            opts.time_shift = constant_time_shift(1, 2, -3_000_000_001)
        elif option.get("time_shift") == "interpolated":
            t0 = min(next(iter(top.pages(cpu)))[:8] for cpu in top.cpus)
            start = int.from_bytes(t0, "little")
            samples = [TimeShiftSample(start, 500, 1, 0), TimeShiftSample(start + 10**8, 90_500, 1, 0)]
            opts.time_shift = TimeShift(1, 1, [samples, samples])
        opts.offset = option.get("offset")
        opts.date = option.get("date")
        with TraceDatWriter(out, top.meta, opts) as w:
            w.add_buffer(top.meta, {cpu: top.pages(cpu) for cpu in top.cpus})
    expected = subprocess.run([trace_cmd, "report", "-N", "-t", out], capture_output=True, text=True, check=True)
    assert collapse(fleet("--ns", out)) == collapse(expected.stdout)
    assert collapse(expected.stdout) != collapse(open(os.path.join(FIXTURES, "small.txt")).read())
