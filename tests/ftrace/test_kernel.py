"""The decoder on this kernel's own texts and pages: every format file compiles, and events read raw from an
instance's trace_pipe_raw print exactly as the kernel's own `trace` file prints them."""

from __future__ import annotations

import glob
import os
import re
import struct
import time
from collections import Counter
from typing import Dict, Iterator, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.errors import DecodeError
from fleet.ftrace.events import Decoder, Event
from fleet.ftrace.meta import TraceMeta
from tests.conftest import TRACEFS, have_tracefs, need

INSTANCE = "fleet-test-dec2"

# Formats libtraceevent cannot parse either (trace-cmd prints them `[FAILED TO PARSE]` with raw fields too).
UNPARSABLE = {
    "dma_map_sg": "GNU statement expression ({ ... }) in an argument",
    "kvm_mmu_get_page": "statement expression",
    "kvm_mmu_prepare_zap_page": "statement expression",
    "kvm_mmu_sync_page": "statement expression",
    "kvm_mmu_unsync_page": "statement expression",
    "kvm_inj_exception": "a __print_symbolic entry built from string concatenation with a macro",
    "jbd2_checkpoint_stats": "kernel function jiffies_to_msecs()",
    "jbd2_run_stats": "kernel function jiffies_to_msecs()",
    "mc_event": "kernel function mc_event_error_type()",
}


def read(path: str) -> str:
    with open(path, errors="replace") as f:
        return f.read()


def tracefs_meta(root: str, systems: List[str]) -> TraceMeta:
    """A TraceMeta straight from tracefs texts (the formats of `systems` plus ftrace's own)."""
    ev = os.path.join(root, "events")
    formats: Dict[str, List[str]] = {}
    for system in systems:
        formats[system] = [read(p) for p in sorted(glob.glob(os.path.join(ev, system, "*", "format")))]
    return TraceMeta(
        header_page=read(os.path.join(ev, "header_page")),
        header_event=read(os.path.join(ev, "header_event")),
        ftrace_formats=[read(p) for p in sorted(glob.glob(os.path.join(ev, "ftrace", "*", "format")))],
        event_formats=formats,
        kallsyms=read("/proc/kallsyms"),
        saved_cmdlines=read(os.path.join(TRACEFS, "saved_cmdlines")),
        cpus=os.cpu_count() or 1,
    )


def test_every_format_of_this_kernel_compiles_and_only_libtraceevents_failures_print_raw(tracefs: str) -> None:
    systems = sorted(
        d for d in os.listdir(os.path.join(tracefs, "events")) if os.path.isdir(os.path.join(tracefs, "events", d))
    )
    dec = Decoder(tracefs_meta(tracefs, [s for s in systems if s != "ftrace"]))
    formats = dec.formats()
    assert len(formats) > 1000
    for f in formats:
        dec.renderer(f.id)
    assert set(dec.failed_events) <= set(UNPARSABLE), dec.failed_events
    assert len(dec.failed_events) <= len(UNPARSABLE)


def write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def raw_pages(inst: str, cpu: int) -> Iterator[bytes]:
    fd = os.open(os.path.join(inst, "per_cpu", f"cpu{cpu}", "trace_pipe_raw"), os.O_RDONLY | os.O_NONBLOCK)
    try:
        while True:
            try:
                page = os.read(fd, 4096)
            except BlockingIOError:
                return
            if not page:
                return
            yield page
    finally:
        os.close(fd)


# Events whose print fmt has no %p (the kernel hashes or zero-pads pointers; trace-cmd and fleet print 0x...).
EVENTS = [
    "sched/sched_switch",
    "sched/sched_wakeup",
    "sched/sched_waking",
    "sched/sched_process_exec",
    "sched/sched_process_fork",
    "irq/softirq_entry",
    "irq/softirq_exit",
    "irq/softirq_raise",
    "raw_syscalls/sys_exit",
    "ipi/ipi_send_cpu",
    "ipi/ipi_send_cpumask",
]
# Not compared: syscalls/sys_enter_* (the kernel's `trace` prints them as `sys_openat(dfd: ...)` with its own output
# function, not with their print fmt; trace-cmd and fleet print `sys_enter_openat: dfd: ...`).
KERNEL_LINE = re.compile(r"^\s*(?P<comm>.*)-(?P<pid>\d+)\s+\[(?P<cpu>\d+)\]\s+\S+\s+(?P<ts>\d+\.\d+): (?P<rest>.*)$")


@pytest.fixture
def instance(tracefs: str) -> Iterator[str]:
    inst = os.path.join(tracefs, "instances", INSTANCE)
    if os.path.isdir(inst):
        write(os.path.join(inst, "events", "enable"), "0")
        os.rmdir(inst)
    os.mkdir(inst)
    try:
        yield inst
    finally:
        write(os.path.join(inst, "tracing_on"), "0")
        write(os.path.join(inst, "events", "enable"), "0")
        os.rmdir(inst)


def kernel_lines(inst: str) -> List[Tuple[str, str, str, str]]:
    out = []
    for line in read(os.path.join(inst, "trace")).splitlines():
        m = KERNEL_LINE.match(line)
        if m and not line.startswith("#"):
            out.append((m["pid"], str(int(m["cpu"])), m["ts"], m["rest"].rstrip()))
    return out


def test_pages_of_a_real_instance_decode_to_the_kernels_own_trace_text(instance: str) -> None:
    need(have_tracefs(), "needs tracefs")
    write(os.path.join(instance, "buffer_size_kb"), "1024")
    for e in EVENTS:
        write(os.path.join(instance, "events", e, "enable"), "1")
    for i in range(3):
        write(os.path.join(instance, "trace_marker"), f"fleet decoder test {i}")
    for _ in range(5):
        read("/proc/self/status")
        os.sched_setaffinity(0, {os.sched_getaffinity(0).pop()})  # migrations and wakeups send IPIs
    time.sleep(0.05)
    write(os.path.join(instance, "tracing_on"), "0")
    expected = kernel_lines(instance)
    meta = tracefs_meta(instance, ["sched", "irq", "raw_syscalls", "ipi"])
    dec = Decoder(meta, kernel_symbols=True)  # %pS with the symbol's size, as the `trace` file prints it
    got = []
    for cpu in range(meta.cpus):
        for item in dec.decode_pages(cpu, raw_pages(instance, cpu)):
            assert isinstance(item, Event), item
            # the kernel rounds to the nearest microsecond (ns2usecs); trace-cmd's layout truncates
            us = (item.ts + 500) // 1000
            ts = f"{us // 1_000_000}.{us % 1_000_000:06d}"
            # the kernel prints its own ftrace events (markers) without the `print: ` name; trace-cmd adds it
            head = "" if item.system == "ftrace" else f"{item.name}: "
            got.append((str(item.pid), str(cpu), ts, (head + item.text()).rstrip()))
    assert len(expected) > 20
    assert any("fleet decoder test 2" in rest for *_, rest in expected)
    missing = Counter(expected) - Counter(got)
    extra = Counter(got) - Counter(expected)
    assert not missing and not extra, (list(missing)[:5], list(extra)[:5])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzzed_records_of_real_formats_render_text_without_raising(tracefs: str, data: st.DataObject) -> None:
    dec = _all_formats_decoder(tracefs)
    ids = sorted(dec._index())
    event_id = data.draw(st.sampled_from(ids))
    payload = data.draw(st.binary(max_size=160))
    record = struct.pack("<HBBi", event_id & 0xFFFF, 0, 0, 1) + payload
    try:
        text = Event(0, 0, event_id, 1, 0, 0, record, dec).text()
    except DecodeError:
        return
    assert isinstance(text, str)


_DECODERS: Dict[str, Decoder] = {}


def _all_formats_decoder(tracefs: str) -> Decoder:
    """One decoder over every format of this kernel, shared by the fuzzing examples (parsing them takes a second)."""
    if tracefs not in _DECODERS:
        systems = [d for d in os.listdir(os.path.join(tracefs, "events")) if d != "ftrace"]
        systems = [d for d in systems if os.path.isdir(os.path.join(tracefs, "events", d))]
        _DECODERS[tracefs] = Decoder(tracefs_meta(tracefs, systems))
    return _DECODERS[tracefs]
