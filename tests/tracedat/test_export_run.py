"""`fleet export RUN --format trace.dat -o DIR`: a recorded run (agent frames, truncated pages) becomes one trace.dat
per host that trace-cmd renders exactly like the capture the pages came from."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import List

import zstandard

from fleet.record.manifest import HostEntry
from fleet.record.writer import RunWriter
from fleet.tracedat.reader import TraceDat

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
COMMIT_MASK = (1 << 27) - 1


def collapse(text: str) -> List[str]:
    return [" ".join(line.split()) for line in text.splitlines() if not line.startswith("cpus=")]


def make_run(path: Path) -> None:
    """A one-host run holding the fixture's pages as the agent sends them: truncated, zstd batches of 3 pages."""
    with TraceDat.open(os.path.join(FIXTURES, "small.dat")) as src:
        top = src.buffers[0]
        m = top.meta
        run = RunWriter.create(path, {"events": ["sched"]}, ["h1"], ["fleet", "trace"], "s1", 1)
        host = run.add_host(HostEntry("h1", ""))
        host.metadata(
            {
                "t": "metadata",
                "header_page": m.header_page,
                "header_event": m.header_event,
                "ftrace_formats": m.ftrace_formats,
                "event_formats": m.event_formats,
                "kallsyms": zlib.compress(m.kallsyms.encode()),
                "kallsyms_codec": "zlib",
                "printk_formats": m.printk_formats,
                "big_endian": m.big_endian,
                "long_size": m.long_size,
                "page_size": m.page_size,
                "cpus": m.cpus,
                "trace_clock": m.trace_clock,
                "uname": m.uname,
                "buffer_name": "fleet-s1",
            }
        )
        for cpu in top.cpus:
            pages = [p[: 16 + (struct.unpack_from("<Q", p, 8)[0] & COMMIT_MASK)] for p in top.pages(cpu)]
            for seq, start in enumerate(range(0, len(pages), 3)):
                batch = b"".join(pages[start : start + 3])
                payload = zstandard.ZstdCompressor().compress(batch)
                frame = {"t": "data", "cpu": cpu, "seq": seq, "codec": "zstd", "payload": payload}
                host.data({**frame, "pages": len(pages[start : start + 3]), "raw_bytes": len(batch)}, seq)
        host.frame({"t": "metadata_end", "saved_cmdlines": m.saved_cmdlines, "saved_tgids": "", "per_cpu": {}})
        run.close()


def test_a_run_exports_one_trace_dat_per_host_that_trace_cmd_reads(trace_cmd: str, tmp_path: Path) -> None:
    make_run(tmp_path / "run")
    out = tmp_path / "out"
    p = subprocess.run(
        [sys.executable, "-m", "fleet.cli", "export", str(tmp_path / "run"), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(out)) == ["h1.dat"]
    text = subprocess.run([trace_cmd, "report", "-N", "-t", str(out / "h1.dat")], capture_output=True, text=True)
    assert collapse(text.stdout) == collapse(open(os.path.join(FIXTURES, "small.txt")).read())


def test_fleet_report_of_a_run_prefixes_each_line_with_its_host(tmp_path: Path) -> None:
    make_run(tmp_path / "run")
    cmd = [sys.executable, "-m", "fleet.cli", "report", "--ns", str(tmp_path / "run")]
    lines = collapse(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    expected = collapse(open(os.path.join(FIXTURES, "small.txt")).read())
    assert lines == ["h1: " + line for line in expected]
