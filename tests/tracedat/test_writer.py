"""fleet's trace.dat writer: truncated pages, instances, TIME_SHIFT, as trace-cmd reads them."""

from __future__ import annotations

import os
import re
import struct
import subprocess
from typing import Iterator

from fleet.tracedat.options import TimeShift, TimeShiftSample
from fleet.tracedat.reader import TraceDat
from fleet.tracedat.writer import TraceDatWriter, WriteOptions, constant_time_shift

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "small.dat")
COMMIT_MASK = (1 << 27) - 1  # the commit field's low bits; the top bits are RB_MISSED_* flags


def report(trace_cmd: str, path: str) -> str:
    cmd = [trace_cmd, "report", "-N", "-t", "-i", path]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def truncated(pages: Iterator[bytes]) -> Iterator[bytes]:
    """Pages cut to header + commit bytes, as the agent sends them."""
    for page in pages:
        commit = struct.unpack_from("<Q", page, 8)[0] & COMMIT_MASK
        yield page[: 16 + commit]


def test_truncated_pages_are_padded_and_report_identically(trace_cmd: str, tmp_path) -> None:
    out = str(tmp_path / "t.dat")
    with TraceDat.open(FIXTURE) as src:
        top = src.buffers[0]
        with TraceDatWriter(out, top.meta, WriteOptions(trace_clock_text=src.options.trace_clock_text)) as w:
            w.add_buffer(top.meta, {cpu: truncated(top.pages(cpu)) for cpu in top.cpus})
        with TraceDat.open(out) as dat:
            for cpu in top.cpus:
                assert list(dat.buffers[0].pages(cpu)) == list(top.pages(cpu))
    assert report(trace_cmd, out).splitlines()[1:] == report(trace_cmd, FIXTURE).splitlines()[1:]


def test_an_instance_buffer_is_written_and_named(trace_cmd: str, tmp_path) -> None:
    out = str(tmp_path / "i.dat")
    with TraceDat.open(FIXTURE) as src:
        top = src.buffers[0]
        inst = type(top.meta)(**{**top.meta.__dict__, "buffer_name": "fleet-inst", "trace_clock": "local"})
        with TraceDatWriter(out, top.meta) as w:
            w.add_buffer(top.meta, {cpu: top.pages(cpu) for cpu in top.cpus})
            w.add_buffer(inst, {cpu: top.pages(cpu) for cpu in top.cpus})
    with TraceDat.open(out) as dat:
        assert [b.name for b in dat.buffers] == ["", "fleet-inst"]
    text = report(trace_cmd, out)
    assert text.count("fleet-inst:") == text.count("\n") - text.count("fleet-inst:") - 1


def test_time_shift_moves_trace_cmd_timestamps_by_the_offset(trace_cmd: str, tmp_path) -> None:
    out = str(tmp_path / "s.dat")
    shift = 5_000_000_123
    with TraceDat.open(FIXTURE) as src:
        top = src.buffers[0]
        opts = WriteOptions(trace_clock_text=src.options.trace_clock_text, time_shift=constant_time_shift(7, 2, shift))
        with TraceDatWriter(out, top.meta, opts) as w:
            w.add_buffer(top.meta, {cpu: top.pages(cpu) for cpu in top.cpus})
    stamp = re.compile(r"\] +(\d+)\.(\d{9}):")

    def stamps(path: str) -> list:
        return [int(a) * 10**9 + int(b) for a, b in stamp.findall(report(trace_cmd, path))]

    before, after = stamps(FIXTURE), stamps(out)
    assert len(before) == len(after) > 0
    assert all(b - a == shift for a, b in zip(sorted(before), sorted(after)))
    with TraceDat.open(out) as dat:
        assert dat.options.time_shift == constant_time_shift(7, 2, shift)
        assert dat.buffers[0].timestamp(1000, 1) == 1000 + shift


def test_interpolated_time_shift_round_trips_through_the_option(tmp_path) -> None:
    out = str(tmp_path / "s.dat")
    shift = TimeShift(9, 1, [[TimeShiftSample(0, 100, 1, 0), TimeShiftSample(1000, 300, 1, 0)]])
    with TraceDat.open(FIXTURE) as src:
        top = src.buffers[0]
        with TraceDatWriter(out, top.meta, WriteOptions(time_shift=shift)) as w:
            w.add_buffer(top.meta, {})
    with TraceDat.open(out) as dat:
        assert dat.options.time_shift == shift
        # halfway between the samples the offset is interpolated: 100 + (500 * 200 + 500) // 1000 = 200
        assert dat.buffers[0].timestamp(500, 0) == 700
        assert dat.buffers[0].timestamp(500, 1) == 500  # CPU without samples: unchanged


def test_instances_survive_trace_cmd_conversion_to_version_6(trace_cmd: str, tmp_path) -> None:
    out, v6 = str(tmp_path / "i.dat"), str(tmp_path / "i6.dat")
    with TraceDat.open(FIXTURE) as src:
        top = src.buffers[0]
        inst = type(top.meta)(**{**top.meta.__dict__, "buffer_name": "fleet-inst"})
        with TraceDatWriter(out, top.meta) as w:
            w.add_buffer(top.meta, {cpu: top.pages(cpu) for cpu in top.cpus})
            w.add_buffer(inst, {cpu: top.pages(cpu) for cpu in top.cpus})
        subprocess.run(
            [trace_cmd, "convert", "--file-version", "6", "-i", out, "-o", v6], check=True, capture_output=True
        )
        with TraceDat.open(v6) as dat:
            assert dat.version == 6
            assert [b.name for b in dat.buffers] == ["", "fleet-inst"]
            for buf in dat.buffers:
                for cpu in top.cpus:
                    assert list(buf.pages(cpu)) == list(top.pages(cpu))


def test_big_endian_32_bit_metadata_and_pages_read_back(tmp_path) -> None:
    out = str(tmp_path / "be.dat")
    with TraceDat.open(FIXTURE) as src:
        meta = type(src.buffers[0].meta)(**{**src.buffers[0].meta.__dict__, "big_endian": True, "long_size": 4})
    pages = {0: [b"\x01" * 100, b"\x02" * 4096], 3: [b"\x03" * 16]}
    with TraceDatWriter(out, meta) as w:
        w.add_buffer(meta, pages)
    with TraceDat.open(out) as dat:
        assert (dat.big_endian, dat.long_size) == (True, 4)
        buf = dat.buffers[0]
        assert {**buf.meta.__dict__, "cpus": 2} == meta.__dict__
        assert buf.meta.cpus == 4  # CPU 3 has data although the metadata said 2 CPUs
        assert buf.cpus == [0, 3]
        assert list(buf.pages(0)) == [b"\x01" * 100 + b"\0" * 3996, b"\x02" * 4096]
        assert list(buf.pages(3)) == [b"\x03" * 16 + b"\0" * 4080]


def test_a_cpu_without_pages_has_an_empty_entry(tmp_path) -> None:
    out = str(tmp_path / "e.dat")
    with TraceDat.open(FIXTURE) as src:
        meta = src.buffers[0].meta
    with TraceDatWriter(out, meta) as w:
        w.add_buffer(meta, {0: [], 1: [b"\x05" * 64]})
    with TraceDat.open(out) as dat:
        assert dat.buffers[0].cpus == [0, 1]
        assert list(dat.buffers[0].pages(0)) == []
        assert len(list(dat.buffers[0].pages(1))) == 1
