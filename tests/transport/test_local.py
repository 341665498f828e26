"""The local transport against the real agent and kernel: a whole session recorded, refusals reported."""

from __future__ import annotations

from typing import Callable

from fleet.record.reader import Run
from fleet.transport.target import LOCALHOST
from tests.e2e.runs import event_counts, fleet_instances, marker_texts


def test_a_local_session_records_events_markers_and_syncs(tracefs: str, trace_run: Callable) -> None:
    path = trace_run([LOCALHOST], {"events": ["sched:sched_switch"]}, ["one", "two"], duration=0.5)
    run = Run.open(path)
    host = run.host("localhost")
    states = [s.state for s in host.index.states]
    assert states == ["connecting", "configuring", "ready", "tracing", "stopping", "done"]
    assert marker_texts(host) == ["one", "two"]
    assert event_counts(host)["sched_switch"] > 0
    # 10 dense syncs at start, at least one periodic (0.2 s interval over 0.5 s), 3 at stop; seq without gaps.
    assert [s.seq for s in host.sync_samples] == list(range(len(host.sync_samples)))
    assert len(host.sync_samples) >= 14
    assert all(s.coord_send < s.coord_recv and s.host_before <= s.host_after for s in host.sync_samples)
    assert (host.complete, host.errors, run.complete) == (True, [], True)
    assert host.meta.trace_clock == "local"
    assert fleet_instances(run.manifest.session) == []


def test_the_kernel_refusing_an_event_fails_that_host_with_its_cause(tracefs: str, trace_run: Callable) -> None:
    path = trace_run([LOCALHOST], {"events": ["nosuchsystem:nosuchevent"]})
    host = Run.open(path).host("localhost")
    assert host.entry.state == "error"
    assert len(host.errors) == 1
    assert host.errors[0].startswith("configure refused (")
    assert "nosuchsystem" in host.errors[0]
