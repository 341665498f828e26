"""The live dashboard in a real terminal (tmux) against the namespace lab: `fleet trace` opens it, every lab host
shows up and traces, w writes a marker every host records, q ends a complete run; `fleet monitor` shows the hosts,
X stops and T starts again, and leaves no recording behind."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, List

from fleet.inventory import load_inventory
from fleet.record.reader import Run
from fleet.tui.run_index import RunIndex
from tests.tui.test_terminal import capture, keys, tmux, wait_for

__all__ = ["tmux"]  # the fixture, imported for the tests below


def lab_hosts(lab: Any) -> List[str]:
    return sorted(h.name for h in load_inventory([lab.inventory_path]).select("lab/*"))


def host_states(screen: str, hosts: List[str]) -> List[str]:
    """Each host's STATE column as its table row shows it (one row per host, `NAME STATE ...`)."""
    states = []
    for host in hosts:
        m = re.search(rf"^\s*{re.escape(host)}\s+(\S+)", screen, re.M)
        states.append(m.group(1) if m else "")
    return states


def wait_states(session: str, hosts: List[str], state: str, timeout: float = 60.0) -> str:
    """The screen once every host's row says `state` (a readiness wait)."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = capture(session)
        if host_states(screen, hosts) == [state] * len(hosts):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"not every host reached {state!r}; the screen was:\n{screen}")


def test_fleet_trace_dashboard_on_the_lab(lab: Any, tmux: Callable[..., str], tmp_path: Path) -> None:
    hosts = lab_hosts(lab)
    out = tmp_path / "run"
    fleet = f"{sys.executable} -m fleet.cli"
    session = tmux(
        f"{fleet} trace -i {lab.inventory_path} --hosts 'lab/*' -e sched:sched_switch --duration 8 -o {out}"
        "; echo EXITED $?; sleep 60"
    )
    screen = wait_states(session, hosts, "tracing")
    assert f"hosts {len(hosts)} tracing {len(hosts)} failed 0" in screen
    keys(session, "w")
    wait_for(session, "marker:")
    keys(session, "seen by every board", "Enter")
    screen = wait_states(session, hosts, "done")
    assert "marker:" not in screen
    wait_for(session, "finished")
    keys(session, "q")
    wait_for(session, "EXITED 0")
    run = Run.open(out)
    assert run.complete and sorted(run.host_names) == hosts
    index = RunIndex(out)
    index.build()
    marked = {index.host_of(r) for r in index.marker_rows if "seen by every board" in index.row(r).body}
    assert sorted(marked) == hosts


def test_fleet_monitor_on_the_lab_stop_start_and_nothing_kept(
    lab: Any, tmux: Callable[..., str], tmp_path: Path
) -> None:
    hosts = lab_hosts(lab)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    session = tmux(
        f"env TMPDIR={scratch} {sys.executable} -m fleet.cli monitor -i {lab.inventory_path} --hosts 'lab/*'"
        "; echo EXITED $?; sleep 60"
    )
    wait_states(session, hosts, "tracing")
    assert len(list(scratch.glob("fleet-monitor-*"))) == 1
    keys(session, "X")
    wait_states(session, hosts, "done")
    keys(session, "T")
    wait_states(session, hosts, "tracing")
    keys(session, "q")
    wait_for(session, "EXITED 0")
    assert list(scratch.glob("fleet-monitor-*")) == []
