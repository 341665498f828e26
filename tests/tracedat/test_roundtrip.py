"""Round trip: a file re-written by fleet's writer renders, in `trace-cmd report -N`, exactly like its source."""

from __future__ import annotations

import os
import subprocess

import pytest

from fleet.tracedat.copy import copy_tracedat
from fleet.tracedat.reader import TraceDat

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "small.dat")


def report(trace_cmd: str, path: str) -> str:
    return subprocess.run(
        [trace_cmd, "report", "-N", "-t", "-i", path], check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.parametrize("compression", ["zstd", "none"])
def test_rewritten_fixture_reports_identically(trace_cmd: str, tmp_path, compression: str) -> None:
    out = str(tmp_path / "out.dat")
    with TraceDat.open(FIXTURE) as src:
        copy_tracedat(src, out, compression)
    assert report(trace_cmd, out) == report(trace_cmd, FIXTURE)


def test_trace_cmd_validates_the_rewritten_file(trace_cmd: str, tmp_path) -> None:
    out = str(tmp_path / "out.dat")
    with TraceDat.open(FIXTURE) as src:
        copy_tracedat(src, out)
    p = subprocess.run([trace_cmd, "dump", "-v", "-i", out], capture_output=True, text=True)
    assert "is a valid trace-cmd file" in p.stdout + p.stderr


def test_version_6_source_rewrites_to_version_7(trace_cmd: str, tmp_path) -> None:
    v6 = str(tmp_path / "v6.dat")
    convert = [trace_cmd, "convert", "--file-version", "6", "-i", FIXTURE, "-o", v6]
    subprocess.run(convert, check=True, capture_output=True)
    out = str(tmp_path / "out.dat")
    with TraceDat.open(v6) as src:
        assert src.version == 6
        copy_tracedat(src, out)
    with TraceDat.open(out) as dat:
        assert dat.version == 7
    assert report(trace_cmd, out) == report(trace_cmd, v6)


def test_zlib_files_read_back_page_for_page(tmp_path) -> None:
    out = str(tmp_path / "zlib.dat")
    with TraceDat.open(FIXTURE) as src:
        copy_tracedat(src, out, "zlib")
        with TraceDat.open(out) as dat:
            assert dat.compression == "zlib"
            a, b = src.buffers[0], dat.buffers[0]
            assert a.meta == b.meta
            for cpu in a.cpus:
                assert list(a.pages(cpu)) == list(b.pages(cpu))
