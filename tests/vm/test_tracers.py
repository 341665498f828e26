"""Tracers end to end through `fleet trace` on the VM lab's guests (the agent deployed over SSH, as on boards)."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any, Dict, List, Tuple

from fleet.cli import main
from fleet.ftrace.events import Decoder, Event
from fleet.ftrace.funcgraph import GraphRenderer
from fleet.ftrace.latency import KernelText, timerlat_summary
from fleet.lab.vm.lab import VmLab
from fleet.record.reader import HostRun, Run
from tests.vm.drive import trace_driving


def fleet_trace(lab: VmLab, out: Path, hosts: str, *flags: str) -> int:
    argv = ["trace", "-i", str(lab.inventory_path), "--hosts", hosts, "--no-tui", "-o", str(out), *flags]
    return main(argv)


def decoded(host: HostRun) -> Tuple[Decoder, List[Event]]:
    """The host's decoder and every event it recorded, CPU after CPU (not merged by time)."""
    decoder = Decoder(host.meta)
    events = [it for cpu in host.cpus for it in decoder.decode_pages(cpu, host.pages(cpu)) if isinstance(it, Event)]
    return decoder, events


def function_names(host: HostRun) -> List[str]:
    decoder, events = decoded(host)
    text = KernelText.of(decoder)
    return [text.sym(int(e.fields()["ip"])) for e in events if e.name == "function"]  # type: ignore[call-overload]


def max_latency_events(host: HostRun) -> List[Dict[str, Any]]:
    return [e for e in host.events if e.get("kind") == "max_latency"]


def test_function_filter_and_notrace_globs_select_the_functions_on_every_host(vm_lab: VmLab, tmp_path: Path) -> None:
    flags = ["-p", "function", "-l", "sched*", "-n", "*lock*", "--duration", "3"]
    rc = fleet_trace(vm_lab, tmp_path / "run", "vm/*", *flags)
    assert rc == 0
    run = Run.open(tmp_path / "run")
    for host in run.hosts:
        names = function_names(host)
        assert names, host.name
        assert all(fnmatch.fnmatch(n, "sched*") and not fnmatch.fnmatch(n, "*lock*") for n in names), set(names)


def test_a_glob_that_matches_no_function_is_an_error_naming_it(vm_lab: VmLab, tmp_path: Path, capsys) -> None:
    flags = ["-p", "function", "-l", "sched*", "-l", "nosuch_fleet_fn*", "--duration", "3"]
    rc = fleet_trace(vm_lab, tmp_path / "run", "vm1", *flags)
    assert rc == 1
    assert Run.open(tmp_path / "run").host("vm1").errors == [
        "configure refused (invalid): no function matches 'nosuch_fleet_fn*' (set_ftrace_filter)"
    ]
    assert "no function matches 'nosuch_fleet_fn*'" in capsys.readouterr().out


def snapshot_report(run: Run, tracer: str) -> str:
    """What `fleet report RUN --snapshots` must print: every host's maxima, largest first, as recorded."""
    expected = []
    for host in run.hosts:
        snaps = []
        for s in max_latency_events(host):
            if not snaps or s["text"] != snaps[-1]["text"]:  # a repeat: the kernel kept the previous snapshot
                snaps.append(s)
        for i, s in enumerate(snaps):
            where = f"maximum {i + 1} of {len(snaps)} on {host.name}"
            usecs = int(s.get("snapshot_usecs", s["usecs"]))
            banner = f"#### {host.name}: {tracer} max latency {usecs} us ({where})"
            # a snapshot the agent could not read says why instead (e.g. the max buffer was still empty)
            body = f"# (snapshot not read: {s['error']})\n" if "error" in s else s["text"]
            expected.append((usecs, banner + "\n" + body + "\n"))
    expected.sort(key=lambda x: -x[0])  # stable: equal latencies stay in host order
    return "".join(text for _, text in expected)


def test_wakeup_rt_streams_max_latency_snapshots_from_both_hosts(vm_lab: VmLab, tmp_path: Path, capsys) -> None:
    # -l limits the tracer's function tracing: patching every call site takes ~17 s per switch under TCG.
    # The rt kernel's own threads (ktimers, rcuc, irq threads) are RT tasks woken all the time.
    rc = fleet_trace(vm_lab, tmp_path / "run", "vm/*", "-p", "wakeup_rt", "-l", "schedule*", "--duration", "10")
    assert rc == 0
    run = Run.open(tmp_path / "run")
    for host in run.hosts:
        snaps = max_latency_events(host)
        assert snaps, f"{host.name}: no max-latency snapshot"
        usecs = [int(s["usecs"]) for s in snaps]
        assert usecs == sorted(set(usecs))  # every snapshot is a new maximum
        last = [s for s in snaps if "snapshot_usecs" in s][-1]
        assert last["tracer"] == "wakeup_rt" and not last["truncated"]
        lines = last["text"].splitlines()
        assert lines[0] == "# tracer: wakeup_rt"
        assert lines[2].startswith("# wakeup_rt latency trace v1.1.5 on ")
        assert lines[4].startswith(f"# latency: {last['snapshot_usecs']} us, #")  # its own maximum
        assert lines[6].startswith("#    | task: ")
    # fleet report --snapshots: all hosts' snapshots, largest first, each after a banner naming host and tracer
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run"), "--snapshots"]) == 0
    assert capsys.readouterr().out == snapshot_report(run, "wakeup_rt")


def test_a_function_traceoff_trigger_stops_the_host_when_the_function_runs(vm_lab: VmLab, tmp_path: Path) -> None:
    config = {"tracer": "function", "ftrace_filter": ["ksys_sync"], "triggers": ["ksys_sync:traceoff"]}
    host = trace_driving(vm_lab, tmp_path / "run", config, "sync; sync", 20.0)
    triggers = [e for e in host.events if e.get("kind") == "trigger"]
    assert len(triggers) == 1 and "dropped to 0" in triggers[0]["message"]
    # the traceoff probe and the function tracer are two callbacks on ksys_sync: the first call may or may not be
    # recorded, the second (after tracing stopped) never is
    assert function_names(host) in (["ksys_sync"], [])


def test_function_graph_recorded_through_fleet_renders_nested_calls(vm_lab: VmLab, tmp_path: Path, capsys) -> None:
    flags = ["-p", "function_graph", "-l", "hrtimer_*", "--duration", "3"]
    assert fleet_trace(vm_lab, tmp_path / "run", "vm1", *flags) == 0
    host = Run.open(tmp_path / "run").host("vm1")
    decoder, every = decoded(host)
    events = [e for e in every if e.system == "ftrace" and e.name.startswith("funcgraph_")]
    events.sort(key=lambda e: e.ts)
    text = GraphRenderer(KernelText.of(decoder), host.meta.cpus).render(events)
    lines = text.splitlines()
    # fleet report prints the run the same way (its sync markers as comments), each line prefixed with its host
    every.sort(key=lambda e: e.ts)
    expected = GraphRenderer(KernelText.of(decoder), host.meta.cpus).render(every).splitlines()
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[:4] == expected[:4]
    assert [ln[len("vm1: ") :] if ln.startswith("vm1: ") else "!" + ln for ln in printed[4:]] == expected[4:]
    assert lines[:2] == ["# tracer: function_graph", "#"]
    # the timer interrupt (hrtimer_interrupt) calls other hrtimer_* functions: nested calls with leaves inside
    assert " 0)               |  hrtimer_interrupt() {" in lines, text[:2000]
    assert any(re.fullmatch(r" 0\) [ +!#*@$] +\d+\.\d+ us +\|    hrtimer_\w+\(\);", ln) for ln in lines), text[:2000]
    assert any(re.fullmatch(r" 0\) [ +!#*@$] +\d+\.\d+ us +\|  \}", ln) for ln in lines), text[:2000]


def test_timerlat_samples_and_their_summary_per_host(vm_lab: VmLab, tmp_path: Path) -> None:
    assert fleet_trace(vm_lab, tmp_path / "run", "vm/*", "-p", "timerlat", "--duration", "2") == 0
    for host in Run.open(tmp_path / "run").hosts:
        summary = timerlat_summary(decoded(host)[1])
        assert sorted(summary) == ["irq", "thread"], host.name
        for stats in summary.values():
            # every timer activation gives one irq and one thread sample (the last may lack its thread one)
            assert stats.count > 10 and stats.minimum <= stats.average <= stats.maximum
        assert abs(summary["irq"].count - summary["thread"].count) <= 1


def test_osnoise_samples_and_their_per_cpu_summary_per_host(vm_lab: VmLab, tmp_path: Path, capsys) -> None:
    assert fleet_trace(vm_lab, tmp_path / "run", "vm/*", "-p", "osnoise", "--duration", "3") == 0
    run = Run.open(tmp_path / "run")
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run"), "--summary"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for host in run.hosts:
        at = lines.index(f"# {host.name}: osnoise")
        assert lines[at + 1].split() == [
            "CPU", "periods", "runtime", "us", "noise", "us", "%", "avail", "max", "noise", "max", "single",
            "hw", "nmi", "irq", "softirq", "thread",
        ]  # fmt: skip
        cpu, periods, runtime, noise, avail = lines[at + 2].split()[:5]
        # one sample per 1 s period; the noise is part of the runtime
        assert cpu == "0" and int(periods) >= 1 and 0 <= int(noise) <= int(runtime)
        assert abs(float(avail) - 100.0 * (int(runtime) - int(noise)) / int(runtime)) < 1e-4


def test_stop_all_above_stops_every_host_once_one_reports_a_latency_over_the_threshold(
    vm_lab: VmLab, tmp_path: Path
) -> None:
    from fleet.triggers.record import TriggerRecord

    # Under TCG every wakeup_rt maximum is far above 1 us: the first one a host reports fires the stop.
    flags = ("-p", "wakeup_rt", "-l", "schedule*", "--stop-all-above", "1us", "--duration", "30")
    assert fleet_trace(vm_lab, tmp_path / "run", "vm/*", *flags) == 0
    record = TriggerRecord.load(tmp_path / "run")
    assert record is not None
    assert record.host in {"vm1", "vm2"} and record.kind == "max_latency"
    assert [h.entry.state for h in Run.open(tmp_path / "run").hosts] == ["done", "done"]
