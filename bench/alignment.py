"""Benchmark: cross-host alignment error on the namespace lab, default sync against `--sync network`, same run.

Run as root: `python3 bench/alignment.py [--seconds 3] [--clock local]`. All lab hosts share one kernel, so every
kernel event appears in every host's instance at the same instant: |delta| of its aligned times is the error.
Prints per host pair: matched events, median / p99 / max |delta| (us) and the share covered by the bounds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fleet.lab import Lab  # noqa: E402
from tests.clocksync.labrun import pair_stats, trace_lab  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clock", default="local")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fleet-bench-align-") as tmp:
        lab = Lab.up("bal", 3, Path(tmp) / "lab")
        try:
            run = trace_lab(lab.inventory_path, Path(tmp) / "run", args.seconds, args.clock)
            print(f"\nclock {args.clock}, {args.seconds:g} s")
            print(f"{'MODE':8} {'PAIR':7} {'MATCHED':>7} {'MEDIAN_US':>9} {'P99_US':>8} {'MAX_US':>8} {'COVERED':>8}")
            for mode, shared in (("default", True), ("network", False)):
                for s in pair_stats(run, shared):
                    print(
                        f"{mode:8} {'-'.join(s.hosts):7} {s.matched:7d} {s.median / 1e3:9.2f} {s.p99 / 1e3:8.2f} "
                        f"{s.max / 1e3:8.2f} {s.covered:8.2%}"
                    )
        finally:
            lab.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
