"""The run's account of a trigger: which host fired, when, and what the coordinator did (RUN/trigger.json)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

TRIGGER_FILE = "trigger.json"


@dataclass
class TriggerRecord:
    """The first trigger of a run; times are CLOCK_MONOTONIC ns (host_at on the host, the rest coordinator)."""

    host: str
    kind: str
    message: str
    host_at: Optional[int]
    """When the host's agent noticed (its CLOCK_MONOTONIC)."""
    coord_rx: int
    """When the coordinator received the agent's event frame."""
    stop_requested: int
    """When the coordinator told every host to stop."""
    usecs: Optional[int] = None
    """For --stop-all-above: the maximum latency the tracer reported."""
    spec: Dict[str, Any] = field(default_factory=dict)
    analysis: Dict[str, Any] = field(default_factory=dict)
    """Filled after the run: trigger timestamp, per-host propagation and kept windows (fleet.triggers.analysis)."""

    def save(self, run_dir: Path) -> None:
        tmp = run_dir / (TRIGGER_FILE + ".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=1) + "\n")
        tmp.replace(run_dir / TRIGGER_FILE)

    @classmethod
    def load(cls, run_dir: Path) -> Optional[TriggerRecord]:
        """The run's trigger record, or None when no trigger fired."""
        path = Path(run_dir) / TRIGGER_FILE
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})
