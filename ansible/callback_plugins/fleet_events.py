"""Ansible callback: one JSON line per task start, per host result and for the final stats, written to the file
descriptor named by FLEET_EVENTS_FD, so `fleet deploy` shows progress and per-host results without parsing
Ansible's human-oriented output."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: fleet_events
type: aggregate
short_description: JSON lines of task starts, host results and stats for `fleet deploy`
description:
  - Writes one JSON object per line to the file descriptor given in the environment variable FLEET_EVENTS_FD.
requirements:
  - FLEET_EVENTS_FD set to an open, writable file descriptor
"""

CAPABILITIES_FACT = "fleet_agent_capabilities"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fleet_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        fd = os.environ.get("FLEET_EVENTS_FD")
        self._out = os.fdopen(int(fd), "w", buffering=1) if fd else None

    def _emit(self, event: Dict[str, Any]) -> None:
        if self._out is not None:
            self._out.write(json.dumps(event, default=str) + "\n")

    def _result(self, status: str, result: Any) -> None:
        raw = result._result
        event: Dict[str, Any] = {
            "event": "result",
            "status": status,
            "host": result._host.get_name(),
            "task": result._task.get_name(),
        }
        msg = _cause(raw) if status in ("failed", "unreachable") else None
        if msg:
            event["msg"] = msg
        if raw.get("skip_reason"):
            event["skip_reason"] = raw["skip_reason"]
        self._emit(event)
        caps = (raw.get("ansible_facts") or {}).get(CAPABILITIES_FACT)
        if status == "ok" and isinstance(caps, dict):
            self._emit({"event": "capabilities", "host": result._host.get_name(), "capabilities": caps})

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._emit({"event": "task", "name": task.get_name()})

    def v2_runner_on_ok(self, result: Any) -> None:
        self._result("changed" if result._result.get("changed") else "ok", result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._result("ignored" if ignore_errors else "failed", result)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._result("unreachable", result)

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._result("skipped", result)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        hosts = {name: stats.summarize(name) for name in sorted(stats.processed)}
        self._emit({"event": "stats", "hosts": hosts})
        if self._out is not None:
            self._out.flush()


def _cause(raw: Dict[str, Any]) -> Optional[str]:
    """The most telling line of a failure: msg, else stderr's last line, else the module's exception."""
    for key in ("msg", "stderr", "module_stderr", "exception"):
        value = raw.get(key)
        if value:
            lines = [ln for ln in str(value).strip().splitlines() if ln.strip()]
            if lines:
                return lines[-1] if key != "msg" else " ".join(lines)
    results = raw.get("results")
    if isinstance(results, list):
        for item in results:
            if isinstance(item, dict) and item.get("failed"):
                return _cause(item)
    return None
