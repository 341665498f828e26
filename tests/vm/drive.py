"""Trace a guest while driving a workload in it once its agent traces (tests that need the kernel to see a call)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, List

from fleet.commands.trace import TraceRequest, execute, targets_for
from fleet.lab.vm.errors import VmError
from fleet.lab.vm.lab import VmLab
from fleet.progress import PlainProgress
from fleet.record.reader import HostRun, Run


def trace_driving(lab: VmLab, out: Path, config: Dict[str, Any], drive: str, duration: float) -> HostRun:
    """Trace vm1 with `config` into `out`; once its agent's instance traces, run `drive` in the guest (every guest
    command has a timeout). The recorded host."""
    (target,) = targets_for("vm1", [lab.inventory_path])
    req = TraceRequest(targets=[target], config=config, output=out, duration=duration)
    # The agent's probe makes a short-lived instance fleet-probe-* whose tracing_on reads 1 (an instance's default):
    # only the session's own instance counts.
    script = (
        "for i in $(seq 300); do for d in /sys/kernel/tracing/instances/fleet-*; do "
        "case $d in */fleet-probe-*) continue;; esac; "
        f'[ "$(cat $d/tracing_on 2>/dev/null)" = 1 ] && {{ sleep 0.5; {drive}; exit 0; }}; done; sleep 0.1; done; '
        "exit 1"
    )
    errors: List[VmError] = []

    def run_drive() -> None:
        try:
            lab.run("vm1", script, timeout=60)
        except VmError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run_drive)
    thread.start()
    try:
        execute(req, PlainProgress(open("/dev/null", "w")))
    finally:
        thread.join()
    assert errors == []
    return Run.open(out).host("vm1")
