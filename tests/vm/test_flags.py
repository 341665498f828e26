"""fleet trace's kernel flags on the VM lab's guests: event triggers (snapshot, stacktrace), -P (set_ftrace_pid),
--tracing-thresh and -O trace options."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List

import pytest

from fleet.cli import main
from fleet.ftrace.events import Decoder
from fleet.ftrace.latency import KernelText, events_in_order
from fleet.lab.vm.lab import VmLab
from fleet.record.reader import Run
from tests.vm.drive import trace_driving
from tests.vm.oracle import capture, collapse
from tests.vm.test_tracers import decoded, fleet_trace, max_latency_events

# Renames itself (comm), writes its pid to /tmp/NAME.pid, then calls getppid(2) until killed.
LOOPER = (
    "import os, time\nopen('/proc/self/comm', 'w').write('{name}')\n"
    "open('/tmp/{name}.pid', 'w').write(str(os.getpid()))\nwhile True:\n    os.getppid(); time.sleep(0.002)"
)


def test_a_snapshot_trigger_delivers_the_kernels_snapshot_taken_when_it_fired(
    vm_lab: VmLab, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    trigger = 'sched:sched_process_exec:snapshot:1 if filename ~ "*fleet-snap"'
    config = {"events": ["sched:sched_switch", "sched:sched_process_exec"], "triggers": [trigger]}
    trace_driving(vm_lab, tmp_path / "run", config, "cp /bin/true /tmp/fleet-snap; /tmp/fleet-snap", 12.0)
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run"), "--snapshots"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"#### vm1: snapshot taken by trigger {trigger}"
    assert lines[1] == "# tracer: nop"
    # a trigger with a filter runs after its event is recorded: the exec that fired it ends the snapshot
    events = [ln for ln in lines if ln and not ln.startswith("#")]
    assert "sched_process_exec: filename=/tmp/fleet-snap " in events[-1], events[-3:]


def test_kernel_stacks_of_a_stacktrace_trigger_render_as_the_guest_kernel_prints_them(vm_lab: VmLab) -> None:
    cap = capture(
        vm_lab,
        "vm1",
        tracer="nop",
        events=["sched:sched_switch"],
        triggers=[["sched:sched_switch", "stacktrace:3"]],
        workload="sleep 0.05",
    )
    _, mine = cap.kernel_text("nop")
    assert mine.count("<stack trace>") == 3 and "\n => __schedule\n" in mine
    assert collapse(mine) == collapse(cap.text)


@pytest.fixture
def loopers(vm_lab: VmLab) -> Iterator[List[int]]:
    """Two processes on vm1 calling getppid(2): fleet-pid-a and fleet-pid-b; their pids."""
    pids = []
    for name in ("fleet-pid-a", "fleet-pid-b"):
        code = LOOPER.format(name=name)
        vm_lab.run("vm1", f'rm -f /tmp/{name}.pid; setsid python3 -c "{code}" </dev/null >/dev/null 2>&1 &')
        pids.append(int(vm_lab.run("vm1", f"for i in $(seq 100); do cat /tmp/{name}.pid 2>/dev/null && exit; "
                                           "sleep 0.1; done; exit 1")))  # fmt: skip
    yield pids
    vm_lab.run("vm1", "kill " + " ".join(str(p) for p in pids))


def test_p_by_name_limits_the_function_tracer_to_that_process(
    vm_lab: VmLab, tmp_path: Path, loopers: List[int]
) -> None:
    flags = ["-p", "function", "-l", "*sys_getppid", "-P", "fleet-pid-a", "--duration", "3"]
    assert fleet_trace(vm_lab, tmp_path / "run", "vm1", *flags) == 0
    calls = [e for e in decoded(Run.open(tmp_path / "run").host("vm1"))[1] if e.name == "function"]
    assert len(calls) > 10
    assert {e.pid for e in calls} == {loopers[0]}  # set_ftrace_pid: fleet-pid-b calls getppid too, unrecorded


def test_tracing_thresh_delivers_every_latency_over_it_not_only_new_maxima(
    vm_lab: VmLab, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    flags = ["-p", "wakeup_rt", "-l", "schedule*", "--tracing-thresh", "100", "--duration", "6"]
    assert fleet_trace(vm_lab, tmp_path / "run", "vm/*", *flags) == 0
    run = Run.open(tmp_path / "run")
    for host in run.hosts:
        frames = max_latency_events(host)
        assert len(frames) >= 3, host.name
        assert all(f["thresh"] == 100 and f["usecs"] >= 100 for f in frames)
        usecs = [f["usecs"] for f in frames]
        assert usecs != sorted(usecs)  # each latency over the threshold, smaller ones after larger ones too
        read = [f for f in frames if "snapshot_usecs" in f]
        assert read and all(f["snapshot_usecs"] >= 100 for f in read)
        assert all(f["text"].splitlines()[4].startswith(f"# latency: {f['snapshot_usecs']} us, #") for f in read)
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run"), "--snapshots"]) == 0
    banners = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("#### ")]
    assert banners and all(" wakeup_rt latency " in b and " us over tracing_thresh 100 us (" in b for b in banners)


def test_o_func_stack_trace_records_a_kernel_stack_after_each_traced_call(vm_lab: VmLab, tmp_path: Path) -> None:
    config = {"tracer": "function", "ftrace_filter": ["do_nanosleep"], "options": ["func_stack_trace"]}
    host = trace_driving(vm_lab, tmp_path / "run", config, "for i in 1 2 3; do sleep 0.05; done", 8.0)
    decoder = Decoder(host.meta)
    text = KernelText.of(decoder)
    events = [e for e in events_in_order(decoder, {c: list(host.pages(c)) for c in host.cpus}) if e.name != "print"]
    names = [e.name for e in events]
    assert names.count("function") >= 3 and names == ["function", "kernel_stack"] * names.count("function")
    for call, stack in zip(events[::2], events[1::2]):
        assert stack.pid == call.pid and stack.cpu == call.cpu
        frames = text.line(stack).splitlines()[1:]
        assert " => do_nanosleep" in frames and " => hrtimer_nanosleep" in frames
    # func_stack_trace is the function tracer's own flag, shared by every instance: the agent set it back
    assert vm_lab.run("vm1", "cat /sys/kernel/tracing/options/func_stack_trace") == "0\n"


def test_o_sym_offset_shows_in_the_kernels_latency_snapshots(vm_lab: VmLab, tmp_path: Path) -> None:
    flags = ["-p", "wakeup_rt", "-l", "schedule*", "-O", "sym-offset", "--duration", "4"]
    assert fleet_trace(vm_lab, tmp_path / "run", "vm1", *flags) == 0
    frames = [f for f in max_latency_events(Run.open(tmp_path / "run").host("vm1")) if "snapshot_usecs" in f]
    assert frames
    body = [ln for ln in frames[-1]["text"].splitlines() if not ln.startswith("#")]
    # the wakeup tracers record the waker's stack: with sym-offset its frames read `name+0xOFF/0xSIZE`
    stack = [ln for ln in body if ln.startswith(" => ")]
    # (frames in modules add ` [module]`; an address no symbol covers prints as 0x...)
    with_offset = r" => [\w.]+\+0x[0-9a-f]+/0x[0-9a-f]+( \[\w+\])?| => 0x[0-9a-f]+"
    assert stack and [ln for ln in stack if not re.fullmatch(with_offset, ln)] == []
