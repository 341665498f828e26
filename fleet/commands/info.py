"""`fleet info RUN`: how each host's clock was aligned -- trace clock, offset, drift, uncertainty, samples, RTT."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Dict, List, Optional

from fleet.clocksync.align import SYNC_MODES
from fleet.clocksync.model import ClockModel

COLUMNS = ("HOST", "CLOCK", "OFFSET_NS", "DRIFT_PPM", "UNCERTAINTY_NS", "SAMPLES", "MARKERS", "MIN_RTT_NS", "METHOD")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "info",
        help="show a run's per-host clock alignment",
        description="Per host: trace clock, offset and drift onto the coordinator's CLOCK_MONOTONIC, the bound on "
        "the alignment error, sync samples used and the best round trip. Recomputed from the raw samples.",
    )
    parser.add_argument("run", type=Path, help="run directory (written by `fleet trace -o`)")
    parser.add_argument("--json", action="store_true", help="one JSON object: host -> figures")
    parser.add_argument(
        "--sync",
        choices=SYNC_MODES,
        default=None,
        help="re-align as if recorded with this mode (network: round trips even for hosts on this kernel)",
    )
    parser.set_defaults(func=run)


def _num(value: Optional[float], digits: int = 0) -> str:
    if value is None or math.isinf(value):
        return "-" if value is None else "inf"
    return f"{value:.{digits}f}"


def table(models: Dict[str, ClockModel]) -> str:
    """The text table `fleet info` prints, notes under it."""
    rows: List[List[str]] = [list(COLUMNS)]
    for host, m in models.items():
        rows.append(
            [
                host,
                m.trace_clock,
                _num(m.offset_ns),
                _num(m.drift_ppm, 3),
                _num(m.uncertainty_ns),
                str(m.samples),
                str(m.markers),
                _num(m.min_rtt),
                m.method,
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines = [line.rstrip() for line in lines]
    for host, m in models.items():
        lines.extend(f"{host}: {note}" for note in m.notes)
    return "\n".join(lines)


def as_json(models: Dict[str, ClockModel]) -> str:
    return json.dumps({host: m.summary() for host, m in models.items()}, indent=2, sort_keys=True)


def run(args: argparse.Namespace) -> int:
    from fleet.clocksync.recorded import run_models
    from fleet.record.reader import Run

    models = run_models(Run.open(args.run), args.sync)
    print(as_json(models) if args.json else table(models))
    return 0
