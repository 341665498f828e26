"""The kernel's host-wide statistics tracers: the function profiler (function_profile_enabled, trace_stat/function<N>)
and the stack tracer (/proc/sys/kernel/stack_tracer_enabled, stack_max_size, stack_trace). Both live at the top level
only and are global to the host: switched on at start, read at stop, switched back as found at teardown (their
results stay readable in the kernel until the next use resets them).

Their results ride in the metadata_end frame: "function_profile" {cpu: trace_stat/function<cpu> text} and
"stack_max" {"size": stack_max_size, "trace": the stack_trace text}."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List

from agent import protocol
from agent.errors import AgentError
from agent.tracefs import Tracefs, os_error

PROFILE_FILE = "function_profile_enabled"
STACK_SYSCTL = "/proc/sys/kernel/stack_tracer_enabled"


def check(top: Tracefs, config: Dict[str, Any]) -> None:
    """Refuse at configure time what this kernel cannot do (CONFIG_FUNCTION_PROFILER / CONFIG_STACK_TRACER)."""
    if config.get("function_profile") and not top.exists(PROFILE_FILE):
        raise AgentError(protocol.E_UNSUPPORTED, f"this kernel has no {top.path(PROFILE_FILE)} (FUNCTION_PROFILER)")
    if config.get("stack_trace") and not (top.exists("stack_max_size") and os.path.exists(STACK_SYSCTL)):
        raise AgentError(protocol.E_UNSUPPORTED, f"this kernel has no {top.path('stack_trace')} (STACK_TRACER)")


def _write_sysctl(value: str) -> None:
    try:
        with open(STACK_SYSCTL, "w") as f:
            f.write(value)
    except OSError as exc:
        raise os_error("write", STACK_SYSCTL, exc, value) from None


def _read_sysctl() -> str:
    try:
        with open(STACK_SYSCTL) as f:
            return f.read().strip()
    except OSError as exc:
        raise os_error("read", STACK_SYSCTL, exc) from None


def start(top: Tracefs, config: Dict[str, Any]) -> List[Callable[[], None]]:
    """Switch on what `config` asks for, stats reset; returns how to put each back (in reverse order)."""
    undo: List[Callable[[], None]] = []
    try:
        if config.get("function_profile"):
            old = top.read(PROFILE_FILE).strip() or "0"
            # 0 then 1: enabling the profiler resets its per-CPU statistics
            top.write(PROFILE_FILE, "0")
            undo.append(lambda: top.write(PROFILE_FILE, old))
            top.write(PROFILE_FILE, "1")
        if config.get("stack_trace"):
            old_on = _read_sysctl() or "0"
            # stack_max_size is a measurement, not a setting: it keeps this run's maximum afterwards
            undo.append(lambda: _write_sysctl(old_on))
            top.write("stack_max_size", "0")
            _write_sysctl("1")
    except BaseException:
        restore(undo)
        raise
    return undo


def restore(undo: List[Callable[[], None]]) -> List[str]:
    """Run the undo actions last first; the errors met (it never stops half way)."""
    errors: List[str] = []
    while undo:
        action = undo.pop()
        try:
            action()
        except AgentError as exc:
            errors.append(exc.message)
    return errors


def results(top: Tracefs, config: Dict[str, Any]) -> Dict[str, Any]:
    """The metadata_end fields of what ran: read before anything is switched off."""
    out: Dict[str, Any] = {}
    if config.get("function_profile"):
        top.write(PROFILE_FILE, "0")  # the counts stop (and stay readable: only enabling resets them)
        stat: Dict[str, str] = {}
        for name in sorted(os.listdir(top.path("trace_stat"))):
            if name.startswith("function") and name[len("function") :].isdigit():
                stat[name[len("function") :]] = top.read(os.path.join("trace_stat", name))
        out["function_profile"] = stat
    if config.get("stack_trace"):
        _write_sysctl("0")  # the maximum stops moving while it is read
        out["stack_max"] = {"size": int(top.read("stack_max_size").split()[0]), "trace": top.read("stack_trace")}
    return out
