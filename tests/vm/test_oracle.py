"""The guest kernel is the oracle: fleet's rendering of the raw ring-buffer pages equals the kernel's own `trace`
file text for the same data (read before the raw pipe consumes it), after collapsing runs of blanks."""

from __future__ import annotations

import re
from typing import List

from fleet.ftrace.events import Decoder
from fleet.ftrace.funcgraph import GraphRenderer
from fleet.ftrace.latency import KernelText, events_in_order
from fleet.lab.vm.lab import VmLab
from tests.vm.oracle import capture, collapse


def test_function_with_filter_globs_renders_as_the_kernel_prints_it(vm_lab: VmLab) -> None:
    cap = capture(vm_lab, "vm1", tracer="function", filter=["schedule*", "*sleep*"], workload="sleep 0.01")
    events, mine = cap.kernel_text("function")
    assert len(events) > 5
    assert collapse(mine) == collapse(cap.text)


def test_function_graph_with_an_event_mixed_in_renders_as_the_kernel_prints_it(vm_lab: VmLab) -> None:
    # set_graph_function exists only at the top level on 6.1
    cap = capture(
        vm_lab,
        "vm1",
        tracer="function_graph",
        instance=False,
        graph=["do_nanosleep"],
        events=["sched:sched_switch"],
        workload="sleep 0.01",
    )
    decoder = Decoder(cap.meta)
    events = events_in_order(decoder, cap.pages)
    mine = GraphRenderer(KernelText.of(decoder), cap.meta.cpus).render(events)
    assert "do_nanosleep() {" in mine and "/* sched_switch: " in mine and " => " in mine
    assert collapse(mine) == collapse(cap.text)


def test_latency_format_renders_as_the_kernel_prints_it(vm_lab: VmLab) -> None:
    cap = capture(
        vm_lab,
        "vm1",
        tracer="function",
        filter=["schedule*"],
        options=["latency-format"],
        events=["sched:sched_wakeup"],
        workload="sleep 0.01",
    )
    decoder = Decoder(cap.meta)
    events = events_in_order(decoder, cap.pages)
    lines = [ln for ln in cap.text.splitlines() if not ln.startswith("#")]
    header = "".join(ln + "\n" for ln in cap.text.splitlines() if ln.startswith("#"))
    assert header.startswith("# tracer: function\n#\n# function latency trace v1.1.5 on ")
    # The buffer's time_start (the zero of the time column) is the one thing tracefs does not export: solve it
    # from the kernel's column; one value must then fit every line (each line narrows it to a 1 us window).
    lo, hi = -(1 << 62), 1 << 62
    for ev, line in zip(events, lines):
        m = re.search(r" (\d+)us", line)
        assert m is not None, line
        lo = max(lo, ev.ts - int(m.group(1)) * 1000 - 500)
        hi = min(hi, ev.ts - int(m.group(1)) * 1000 + 500)
    assert lo < hi
    mine = KernelText.of(decoder).render_latency(header, events, hi)
    assert collapse(mine) == collapse(cap.text)


def test_function_graph_durations_markers_and_interrupt_context_render_as_the_kernel_prints_them(
    vm_lab: VmLab,
) -> None:
    # Timer interrupts under emulation take hundreds of microseconds: the ! and # duration markers appear.
    cap = capture(
        vm_lab,
        "vm2",
        tracer="function_graph",
        instance=False,
        filter=["__sysvec_apic_timer_interrupt", "hrtimer_interrupt", "irq_enter_rcu", "irq_exit_rcu"],
        workload="sleep 0.05",
    )
    decoder = Decoder(cap.meta)
    mine = GraphRenderer(KernelText.of(decoder), cap.meta.cpus).render(events_in_order(decoder, cap.pages))
    assert "__sysvec_apic_timer_interrupt() {" in mine
    assert collapse(mine) == collapse(cap.text)


def test_timerlat_samples_render_as_the_kernel_prints_them(vm_lab: VmLab) -> None:
    cap = capture(vm_lab, "vm1", tracer="timerlat", workload="sleep 0.2")
    events, mine = cap.kernel_text("timerlat")
    assert {e.name for e in events} == {"timerlat"}
    # timerlat prints its own column header; the sample lines are the comparison
    assert [ln for ln in collapse(mine) if not ln.startswith("#")] == [
        ln for ln in collapse(cap.text) if not ln.startswith("#")
    ]


def sample_lines(text: str) -> List[str]:
    return [ln for ln in collapse(text) if ln and not ln.startswith("#")]


def test_osnoise_samples_render_as_the_kernel_prints_them(vm_lab: VmLab) -> None:
    # osnoise and hwlat are top-level tracers on 6.1; one sample per period (1 s) per CPU
    cap = capture(vm_lab, "vm1", tracer="osnoise", instance=False, workload="sleep 2.5")
    events, mine = cap.kernel_text("osnoise")
    assert {e.name for e in events} == {"osnoise"}
    assert sample_lines(mine) == sample_lines(cap.text)


def test_hwlat_samples_render_as_the_kernel_prints_them(vm_lab: VmLab) -> None:
    # under emulation every 0.5 s sampling window sees more than the default 10 us threshold
    cap = capture(vm_lab, "vm2", tracer="hwlat", instance=False, workload="sleep 2.5")
    events, mine = cap.kernel_text("hwlat")
    assert events and {e.name for e in events} == {"hwlat"}
    assert sample_lines(mine) == sample_lines(cap.text)


def test_function_with_sym_offset_sym_addr_and_noprint_parent_renders_as_the_kernel_prints_it(vm_lab: VmLab) -> None:
    options = ["sym-offset", "sym-addr", "noprint-parent"]
    cap = capture(vm_lab, "vm1", tracer="function", filter=["schedule*"], options=options, workload="sleep 0.01")
    events, mine = cap.kernel_text("function", options)
    assert len(events) > 5
    assert "schedule+0x0/0x" in mine and " <ffffffff" in mine and " <-" not in mine
    assert collapse(mine) == collapse(cap.text)


def test_func_stack_trace_stacks_after_each_call_render_as_the_kernel_prints_them(vm_lab: VmLab) -> None:
    options = ["func_stack_trace", "sym-offset"]
    cap = capture(vm_lab, "vm1", tracer="function", filter=["do_nanosleep"], options=options, workload="sleep 0.01")
    events, mine = cap.kernel_text("function", options)
    assert [e.name for e in events][:2] == ["function", "kernel_stack"]
    assert " => hrtimer_nanosleep+0x" in mine
    assert collapse(mine) == collapse(cap.text)
