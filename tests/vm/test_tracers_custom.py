"""The custom kernel's tracers through `fleet trace` on two guests at once: irqsoff, preemptoff, preemptirqsoff
(max-latency snapshots), the function profiler and the stack tracer. (Runs after test_tracers.py: the rt lab is
torn down before this one boots.)

A latency tracer's snapshot is the kernel's own `trace` text of its max buffer (the kernel refuses raw reads of that
buffer while such a tracer is current), so fleet must deliver it unaltered, header included."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fleet.cli import main
from fleet.ftrace.stat import parse_function_stat
from fleet.lab.vm.lab import VmLab
from fleet.record.reader import Run
from tests.vm.test_tracers import fleet_trace, max_latency_events, snapshot_report

LATENCY = re.compile(r"^# latency: (\d+) us, #(\d+)/(\d+), CPU#0 \| \(M:preempt VP:0, KP:0, SP:0 HP:0 #P:1\)$")


@pytest.mark.parametrize("tracer", ["irqsoff", "preemptoff", "preemptirqsoff"])
def test_latency_tracer_delivers_kernel_snapshots_from_both_hosts(
    vm_lab_custom: VmLab, tmp_path: Path, capsys, tracer: str
) -> None:
    # -l keeps the tracer's function tracing small: patching every call site takes many seconds under TCG
    rc = fleet_trace(vm_lab_custom, tmp_path / "run", "vm/*", "-p", tracer, "-l", "schedule*", "--duration", "4")
    assert rc == 0
    run = Run.open(tmp_path / "run")
    release = vm_lab_custom.state.release
    for host in run.hosts:
        snaps = max_latency_events(host)
        assert snaps, f"{host.name}: no max-latency snapshot"
        usecs = [int(s["usecs"]) for s in snaps]
        assert usecs == sorted(set(usecs))  # every snapshot is a new maximum
        for snap in snaps:
            assert snap["tracer"] == tracer and not snap["truncated"]
            lines = snap["text"].splitlines()
            assert lines[:2] == [f"# tracer: {tracer}", "#"]
            assert lines[2].startswith(f"# {tracer} latency trace v1.1.5 on {release}")
            m = LATENCY.match(lines[4])
            assert m is not None, lines[4]
            # the header states the snapshot's own latency (tracing_max_latency may have moved past it)
            assert int(m.group(1)) == snap["snapshot_usecs"]
            assert lines[6].startswith("#    | task: ")
            assert any(ln.startswith("#  => started at: ") for ln in lines), snap["text"][:1500]
            assert any(ln.startswith("#  => ended at:   ") for ln in lines), snap["text"][:1500]
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run"), "--snapshots"]) == 0
    assert capsys.readouterr().out == snapshot_report(run, tracer)


def test_function_profile_and_max_stack_per_host_as_the_kernel_shows_them(
    vm_lab_custom: VmLab, tmp_path: Path, capsys
) -> None:
    # the profiler follows the top-level set_ftrace_filter (-l with --top-level)
    flags = ["--function-profile", "--stack-trace", "--top-level", "-l", "schedule*", "-e", "sched:sched_switch"]
    assert fleet_trace(vm_lab_custom, tmp_path / "run", "vm/*", *flags, "--duration", "3") == 0
    run = Run.open(tmp_path / "run")
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run"), "--profile"]) == 0
    profile = capsys.readouterr().out
    assert main(["report", str(tmp_path / "run"), "--stack"]) == 0
    stacks = capsys.readouterr().out
    total_hits = {}
    for host in run.hosts:
        end = host.index.metadata_end or {}
        # after the run the kernel keeps both results: what fleet recorded is the kernel's text
        own = vm_lab_custom.run(host.name, "cat /sys/kernel/tracing/trace_stat/function0", timeout=60)
        assert end["function_profile"] == {"0": own}
        rows = parse_function_stat(own)
        assert rows and all(r.function.startswith("schedule") for r in rows)
        for r in rows:
            total_hits[r.function] = total_hits.get(r.function, 0) + r.hits
        section = profile.split(f"# {host.name}: function profile (1 CPUs)\n", 1)[1].split("\n\n", 1)[0]
        mine = {tuple(ln.split()[:4]) for ln in section.splitlines()[2:]}
        assert mine == {tuple(ln.split()[:4]) for ln in own.splitlines()[2:] if ln.strip()}
        stack = vm_lab_custom.run(host.name, "cat /sys/kernel/tracing/stack_trace", timeout=60)
        size = int(vm_lab_custom.run(host.name, "cat /sys/kernel/tracing/stack_max_size", timeout=60))
        assert end["stack_max"]["trace"] == stack and end["stack_max"]["size"] == size > 0
        assert vm_lab_custom.run(host.name, "cat /proc/sys/kernel/stack_tracer_enabled", timeout=60) == "0\n"
        assert f"# {host.name}: max stack {end['stack_max']['size']} bytes\n{stack}\n" in stacks
        assert stack.startswith("        Depth    Size   Location    (")
    merged = profile.split("# all hosts: function profile (2 hosts)\n", 1)[1]
    assert {ln.split()[0]: int(ln.split()[1]) for ln in merged.splitlines()[2:] if ln.strip()} == total_hits
