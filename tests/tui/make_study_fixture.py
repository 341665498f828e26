"""Regenerate tests/tui/data/run-requests: a real `fleet trace` of a 3-host namespace lab while the UDP
request/response program (tests/tools/udp_reqresp.py) sends 40 requests h1 -> h2 (`req N sent` on h1, `req N recv`
on h2), with kallsyms dropped from the metadata to keep the fixture small.

    python3 -m tests.tui.make_study_fixture      (root, iproute2, sshd)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from fleet.lab import Lab
from tests.latency.labstudy import traced_requests
from tests.tui.make_fixture import store

DATA = Path(__file__).parent / "data" / "run-requests"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab.up(f"f{os.getpid()}", 3, Path(tmp) / "lab")
        try:
            run = traced_requests(lab, Path(tmp), count=40, interval=0.01, seconds=2.0)
        finally:
            lab.down()
        store(run, DATA)
    return 0


if __name__ == "__main__":
    sys.exit(main())
