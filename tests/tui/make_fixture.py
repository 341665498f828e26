"""Regenerate tests/tui/data/run-small: a real `fleet trace` of this machine (sched_switch, sched_wakeup, marker
`hello`), with kallsyms dropped from its metadata to keep the fixture small (these events print no symbols).

    python3 tests/tui/make_fixture.py      (root, tracefs)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import msgpack

DATA = Path(__file__).parent / "data" / "run-small"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run-small"
        cmd = ["fleet", "trace", "-e", "sched:sched_switch", "-e", "sched:sched_wakeup", "-m", "hello"]
        subprocess.run([*cmd, "--duration", "1", "-o", str(run), "--no-tui"], check=True)
        store(run, DATA)
    return 0


def store(run: Path, data: Path) -> None:
    """Replace the fixture `data` with `run`, kallsyms dropped from each host's metadata (these events print no
    symbols; it would be most of the fixture's size)."""
    for meta in run.glob("hosts/*/metadata.msgpack"):
        raw = msgpack.unpackb(meta.read_bytes(), raw=False)
        raw["kallsyms"], raw["kallsyms_codec"] = b"", ""
        meta.write_bytes(msgpack.packb(raw, use_bin_type=True))
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(run, data)


if __name__ == "__main__":
    sys.exit(main())
