"""KernelShark opens files written by fleet: its own loader (libkshark, via ctypes) reads every event."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess

from fleet.tracedat.copy import copy_tracedat
from fleet.tracedat.reader import TraceDat
from tests.conftest import need

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "small.dat")


def kshark_entries(path: str) -> int:
    """Entries KernelShark loads from `path` (negative: kshark_open failed)."""
    lib = ctypes.CDLL("libkshark.so.2")
    ctx = ctypes.c_void_p()
    assert lib.kshark_instance(ctypes.byref(ctx))
    lib.kshark_open.restype = ctypes.c_int
    sd = lib.kshark_open(ctx, path.encode())
    if sd < 0:
        return sd
    rows = ctypes.POINTER(ctypes.c_void_p)()
    lib.kshark_load_entries.restype = ctypes.c_ssize_t
    n = int(lib.kshark_load_entries(ctx, sd, ctypes.byref(rows)))
    lib.kshark_close(ctx, sd)
    return n


def test_kernelshark_loads_every_event_of_a_fleet_written_file(trace_cmd: str, tmp_path) -> None:
    try:
        ctypes.CDLL("libkshark.so.2")
        have = True
    except OSError:
        have = False
    need(have, "needs KernelShark's libkshark.so.2 (apt-get install kernelshark)")
    out = str(tmp_path / "fleet.dat")
    with TraceDat.open(FIXTURE) as src:
        copy_tracedat(src, out)
    report = subprocess.run([trace_cmd, "report", "-N", out], capture_output=True, text=True, check=True).stdout
    events = sum(1 for line in report.splitlines() if not line.startswith("cpus="))
    assert events > 100
    assert kshark_entries(out) == events
