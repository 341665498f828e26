"""From `--stop-all-on/--stop-match/--stop-all-above` to the kernel triggers the trigger hosts get."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import List

import pytest

from fleet.cli import main
from fleet.errors import UsageError
from fleet.triggers.record import TriggerRecord
from fleet.triggers.setup import parse_latency_us, trigger_config
from fleet.triggers.spec import StopSpec, kernel_triggers, regex_to_glob
from fleet.triggers.watch import TriggerWatch


def test_a_match_becomes_a_kernel_glob_on_the_markers_buf() -> None:
    assert regex_to_glob("boom") == "*boom*"
    assert regex_to_glob("^req .* failed$") == "req * failed*"  # the kernel appends "\n" to markers
    assert regex_to_glob(r"a\.b.c") == "*a.b?c*"


def test_a_regex_the_kernel_cannot_express_is_refused_before_tracing() -> None:
    with pytest.raises(UsageError, match="kernel filters with globs"):
        regex_to_glob(r"req (\d+)")


def test_trigger_hosts_get_a_traceoff_trigger_with_the_filter() -> None:
    spec = StopSpec(event="print", match="boom")
    assert kernel_triggers(spec) == ['ftrace:print:traceoff if buf ~ "*boom*"']
    spec = StopSpec(event="sched:sched_switch", filter="prev_prio < 10")
    assert trigger_config(spec) == {"triggers": ["sched:sched_switch:traceoff if prev_prio < 10"]}


def test_stop_all_above_takes_microseconds_and_leaves_the_kernel_threshold_alone() -> None:
    assert [parse_latency_us(t) for t in ("500us", "2ms", "750", "1.5ms")] == [500, 2000, 750, 1500]
    assert trigger_config(StopSpec(above_us=500)) == {}


def test_stop_all_above_without_a_latency_tracer_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["trace", "-e", "sched:sched_switch", "--stop-all-above", "500us", "--duration", "1"]) == 2
    assert "--stop-all-above needs a latency tracer" in capsys.readouterr().err


def test_refinements_without_a_trigger_are_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["trace", "-e", "sched:sched_switch", "--stop-match", "boom", "--duration", "1"]) == 2
    assert "refine --stop-all-on" in capsys.readouterr().err


def test_only_a_trigger_host_and_a_latency_at_the_threshold_stop_the_run(tmp_path: Path) -> None:
    stop = asyncio.Event()
    said: List[str] = []
    watch = TriggerWatch(StopSpec(above_us=500), {"h2"}, stop, tmp_path, said.append)
    watch.on_event("h1", {"t": "event", "kind": "max_latency", "usecs": 900, "message": "m", "at": 1}, 10)
    watch.on_event("h2", {"t": "event", "kind": "max_latency", "usecs": 499, "message": "m", "at": 2}, 11)
    assert not stop.is_set()
    watch.on_event("h2", {"t": "event", "kind": "max_latency", "usecs": 500, "message": "new max", "at": 3}, 12)
    assert stop.is_set()
    record = TriggerRecord.load(tmp_path)
    assert record is not None
    assert (record.host, record.kind, record.usecs, record.host_at, record.coord_rx) == (
        "h2",
        "max_latency",
        500,
        3,
        12,
    )
    assert said == ["trigger on h2 (new max): stopping every host"]


def test_a_latency_tracer_this_kernel_lacks_fails_the_host_with_the_kernels_answer(
    tracefs: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["trace", "-p", "wakeup_rt", "--stop-all-above", "100us", "--duration", "0.5", "--no-tui"]
    assert main(argv + ["-o", str(tmp_path / "run")]) == 1
    out = capsys.readouterr().out
    assert "localhost  error" in out and "wakeup_rt" in out
    assert "trigger: none fired (the run stopped for another reason)" in out
