"""Regenerate tests/tui/data/run-requests: a real `fleet trace` of a 3-host namespace lab while the UDP
request/response program (tests/tools/udp_reqresp.py) sends 40 requests h1 -> h2 (`req N sent` on h1, `req N recv`
on h2), with kallsyms dropped from the metadata to keep the fixture small.

    python3 -m tests.tui.make_study_fixture      (root, iproute2, sshd)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import msgpack

from fleet.lab import Lab
from tests.latency.labstudy import traced_requests

DATA = Path(__file__).parent / "data" / "run-requests"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab.up(f"f{os.getpid()}", 3, Path(tmp) / "lab")
        try:
            run = traced_requests(lab, Path(tmp), count=40, interval=0.01, seconds=2.0)
        finally:
            lab.down()
        for meta in run.glob("hosts/*/metadata.msgpack"):
            raw = msgpack.unpackb(meta.read_bytes(), raw=False)
            raw["kallsyms"], raw["kallsyms_codec"] = b"", ""
            meta.write_bytes(msgpack.packb(raw, use_bin_type=True))
        shutil.rmtree(DATA, ignore_errors=True)
        shutil.copytree(run, DATA)
    return 0


if __name__ == "__main__":
    sys.exit(main())
