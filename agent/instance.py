"""Instances the agent owns: a name that records the owner process, and removal that leaves nothing behind.

The owner is encoded in the name (`fleet-<session>-pid<PID>-<START>`, START being the process start time in clock
ticks from /proc/PID/stat), so any later agent can tell a stale instance from a live one, even across mount
namespaces, and a recycled pid is not mistaken for the owner.
"""

from __future__ import annotations

import errno
import os
import re
import time
from typing import List, Optional, Tuple

from agent import protocol
from agent.errors import AgentError
from agent.tracefs import Tracefs

NAME_RE = re.compile(r"^fleet-(?P<session>.+)-pid(?P<pid>\d+)-(?P<start>\d+)$")
SESSION_RE = re.compile(r"^[A-Za-z0-9_.+-]{1,64}$")


def process_start(pid: int) -> Optional[int]:
    """Start time of `pid` in clock ticks since boot, or None when the process does not exist."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # comm may hold spaces and parentheses: fields after the last ')' start at field 3 (state).
    return int(stat.rsplit(")", 1)[1].split()[19])


def instance_name(session: str, pid: int) -> str:
    if not SESSION_RE.match(session):
        raise AgentError(protocol.E_BAD_REQUEST, f"session {session!r} must match {SESSION_RE.pattern}")
    return f"fleet-{session}-pid{pid}-{process_start(pid) or 0}"


def owner_of(name: str) -> Optional[Tuple[int, int]]:
    """(pid, start) recorded in an agent instance's name; None for names the agent did not make."""
    m = NAME_RE.match(name)
    if not m:
        return None
    return int(m.group("pid")), int(m.group("start"))


def is_stale(name: str) -> bool:
    owner = owner_of(name)
    if owner is None:
        return False
    pid, start = owner
    return process_start(pid) != start


def clear_triggers(inst: Tracefs) -> None:
    """Remove every event trigger in the instance (an armed trigger keeps its event busy and blocks rmdir)."""
    events = inst.path("events")
    for system in os.listdir(events):
        sdir = os.path.join(events, system)
        if not os.path.isdir(sdir):
            continue
        for event in os.listdir(sdir):
            rel = os.path.join("events", system, event, "trigger")
            try:
                lines = inst.lines(rel)
            except AgentError:
                continue
            for line in lines:
                # A trigger line reads "traceoff:count=3 if ..." or "traceoff:unlimited"; removal is "!traceoff".
                try:
                    inst.write(rel, "!" + line.split(" if ")[0].split(":")[0], append=True)
                except AgentError:
                    pass


def quiesce(inst: Tracefs) -> None:
    """Stop tracing in an instance and disable everything that could keep it busy; best effort."""
    for rel, value, append in (
        ("tracing_on", "0", False),
        ("set_event", "", False),
        ("current_tracer", "nop", False),
        ("events/enable", "0", False),
    ):
        try:
            inst.write(rel, value, append)
        except AgentError:
            pass


def remove_instance(top: Tracefs, name: str) -> None:
    """Quiesce and rmdir an instance; scans triggers only when the first rmdir answers EBUSY."""
    inst = top.instance(name)
    quiesce(inst)
    for attempt in range(3):
        try:
            os.rmdir(inst.root)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or attempt == 2:
                raise AgentError(protocol.E_IO, f"rmdir {inst.root}: {exc.strerror}") from None
            clear_triggers(inst)
            quiesce(inst)
            time.sleep(0.01)


def remove_stale(top: Tracefs) -> List[str]:
    """Remove `fleet-…` instances whose owner process is gone; returns their names."""
    removed = []
    for name in top.instances():
        if is_stale(name):
            try:
                remove_instance(top, name)
                removed.append(name)
            except AgentError:
                pass
    return removed
