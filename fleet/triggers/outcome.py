"""The end of a `fleet trace` with triggers: analyze the run and print who fired and how the stop propagated."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Optional

from fleet.triggers.analysis import analyze, outcome_lines
from fleet.triggers.spec import StopSpec


def print_trigger_outcome(path: Path, spec: StopSpec, stream: Optional[IO[str]] = None) -> None:
    stream = stream or sys.stdout
    record = analyze(path, spec.keep)
    if record is None:
        print("trigger: none fired (the run stopped for another reason)", file=stream)
        return
    print("\n".join(outcome_lines(record)), file=stream)
