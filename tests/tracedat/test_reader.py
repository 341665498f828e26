"""Reading trace.dat: the checked-in fixture (a real capture slimmed by fleet's writer) and trace-cmd's conversions."""

from __future__ import annotations

import os
import subprocess

import pytest

from fleet.errors import DecodeError
from fleet.tracedat.reader import TraceDat

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "small.dat")


def test_header_of_the_fixture() -> None:
    with TraceDat.open(FIXTURE) as dat:
        assert (dat.version, dat.big_endian, dat.long_size, dat.page_size, dat.compression) == (
            7,
            False,
            8,
            4096,
            "zstd",
        )
        assert sorted(dat.event_formats) == ["irq", "sched", "syscalls"]
        assert dat.header_page.startswith("\tfield: u64 timestamp;")
        assert "local_t commit" in dat.header_page


def test_the_fixture_has_one_top_level_buffer_with_whole_pages() -> None:
    with TraceDat.open(FIXTURE) as dat:
        assert [b.name for b in dat.buffers] == [""]
        top = dat.buffers[0]
        assert top.meta.trace_clock == "local"
        assert top.meta.cpus == 2
        assert top.cpus == [0, 1]
        for cpu in top.cpus:
            pages = list(top.pages(cpu))
            assert pages and all(len(p) == 4096 for p in pages)


def test_options_carry_clock_cpustats_and_trace_id() -> None:
    with TraceDat.open(FIXTURE) as dat:
        o = dat.options
        assert o.clock == "local"
        assert o.cpucount == 2
        assert [s.splitlines()[0] for s in o.cpustats] == ["CPU: 0", "CPU: 1"]
        assert o.trace_id is not None
        assert o.uname.startswith("Linux ")


def _convert(trace_cmd: str, tmp_path: str, *args: str) -> str:
    out = os.path.join(tmp_path, "converted.dat")
    subprocess.run([trace_cmd, "convert", "-i", FIXTURE, "-o", out, *args], check=True, capture_output=True)
    return out


@pytest.mark.parametrize(
    "args,version,compression",
    [(("--file-version", "6"), 6, "none"), (("--compression", "none"), 7, "none"), ((), 7, "zstd")],
)
def test_trace_cmd_conversions_yield_the_same_pages(trace_cmd: str, tmp_path: str, args, version, compression) -> None:
    path = _convert(trace_cmd, str(tmp_path), *args)
    with TraceDat.open(FIXTURE) as ref, TraceDat.open(path) as dat:
        assert (dat.version, dat.compression) == (version, compression)
        assert dat.event_formats == ref.event_formats
        assert dat.saved_cmdlines == ref.saved_cmdlines
        a, b = ref.buffers[0], dat.buffers[0]
        assert a.cpus == b.cpus
        for cpu in a.cpus:
            assert list(a.pages(cpu)) == list(b.pages(cpu))


def test_not_a_trace_dat_is_a_decode_error(tmp_path) -> None:
    path = tmp_path / "x.dat"
    path.write_bytes(b"hello world, not a trace")
    with pytest.raises(DecodeError, match="bad magic"):
        TraceDat.open(str(path))


def test_a_truncated_file_is_a_decode_error(tmp_path) -> None:
    data = open(FIXTURE, "rb").read()
    path = tmp_path / "cut.dat"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DecodeError):
        dat = TraceDat.open(str(path))
        for buf in dat.buffers:
            for cpu in buf.cpus:
                list(buf.pages(cpu))


def test_a_missing_file_is_a_decode_error(tmp_path) -> None:
    with pytest.raises(DecodeError, match="cannot open"):
        TraceDat.open(str(tmp_path / "absent.dat"))
