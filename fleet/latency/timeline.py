"""The one place that decides how a host's raw timestamps reach the run's time line for a study."""

from __future__ import annotations

from typing import Dict, Optional

from fleet.clocksync.model import ClockModel
from fleet.record.reader import Run


def clock_models(run: Run, sync: Optional[str] = None, aligned: bool = True) -> Dict[str, ClockModel]:
    """Each host's clock model (fleet.clocksync), or {} for raw trace-clock timestamps (`aligned=False`: only
    meaningful when every host shares one clock)."""
    if not aligned:
        return {}
    from fleet.clocksync.recorded import run_models

    return run_models(run, sync)
