"""What this kernel offers and refuses, found by probing a scratch instance rather than assumed."""

from __future__ import annotations

import os
import platform
import struct
import sys
from typing import Any, Dict, List

from agent import __version__, protocol
from agent.codec import make_codec
from agent.errors import AgentError
from agent.instance import instance_name, remove_instance
from agent.tracefs import Tracefs, os_error

# Files whose mere opening for writing the kernel refuses under lockdown; opening with O_APPEND and writing
# nothing changes nothing on kernels that allow them.
FTRACE_FILES = ("set_ftrace_filter", "set_ftrace_notrace", "set_ftrace_pid", "set_graph_function")
TOP_ONLY_FILES = ("kprobe_events", "uprobe_events")


def boot_id() -> str:
    """This kernel's boot id: hosts reporting the same one share one CLOCK_MONOTONIC (the coordinator compares)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


def header_page_sizes(text: str) -> Dict[str, int]:
    """Offsets/sizes from events/header_page: {'commit_offset', 'commit_size', 'data_offset', 'subbuf_size'}."""
    out: Dict[str, int] = {}
    for line in text.splitlines():
        fields = dict((k.strip(), v.strip()) for k, _, v in (p.partition(":") for p in line.strip().split(";")) if v)
        decl = fields.get("field", "")
        if not decl:
            continue
        name = decl.split()[-1].split("[")[0]
        if name == "commit":
            out["commit_offset"] = int(fields["offset"])
            out["commit_size"] = int(fields["size"])
        elif name == "data":
            out["data_offset"] = int(fields["offset"])
            out["subbuf_size"] = int(fields["offset"]) + int(fields["size"])
    return out


def try_open_append(inst: Tracefs, rel: str) -> str:
    """'' when `rel` opens for writing, else the error text naming the file and the kernel's answer."""
    path = inst.path(rel)
    if not os.path.exists(path):
        return f"{path}: not present in this kernel"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except OSError as exc:
        return os_error("write", path, exc, "").message
    os.close(fd)
    return ""


PROBE_FILTER = "schedule"  # one function that every kernel has and lets trace


def limit_function_tracing(inst: Tracefs) -> None:
    """Filter the scratch instance to one function before trying tracers: switching a function-based tracer
    patches every traced call site otherwise (17 s per switch measured in an emulated guest, 0.4 s filtered).
    Under lockdown the filter file is refused, and so are the tracers: nothing is lost by ignoring the error."""
    try:
        inst.write("set_ftrace_filter", PROBE_FILTER)
    except AgentError:
        pass


def probe_scratch(top: Tracefs, caps: Dict[str, Any]) -> None:
    """Try tracers and ftrace files in a scratch instance; fill caps' instance_tracers and refusals."""
    refusals: Dict[str, str] = caps["refusals"]
    name = instance_name("probe", os.getpid())
    try:
        inst = top.mkdir_instance(name)
    except AgentError as exc:
        refusals["instances"] = exc.message
        caps["instance_tracers"] = []
        return
    try:
        inst.write("tracing_on", "0")
        tracers = inst.words("available_tracers")
        caps["instance_tracers"] = tracers
        caps["copy_trace_marker"] = inst.exists("options/copy_trace_marker")
        caps["disable_on_free"] = inst.exists("options/disable_on_free")
        limit_function_tracing(inst)
        for tracer in tracers:
            if tracer == "nop":
                continue
            try:
                inst.write("current_tracer", tracer)
            except AgentError as exc:
                refusals[f"tracer:{tracer}"] = exc.message
            finally:
                try:
                    inst.write("current_tracer", "nop")
                except AgentError:
                    pass
        for rel in FTRACE_FILES:
            msg = try_open_append(inst, rel)
            if msg:
                refusals[rel] = msg
    finally:
        remove_instance(top, name)
    # The scratch instance is gone: name it generically so the messages stay meaningful.
    for key, msg in refusals.items():
        refusals[key] = msg.replace(name, "<instance>")
    for rel in TOP_ONLY_FILES:
        msg = try_open_append(top, rel)
        if msg:
            refusals[rel] = msg


def probe(top: Tracefs) -> Dict[str, Any]:
    """The capabilities map sent at hello (and printed by `agent probe`)."""
    uname = os.uname()
    header_page = top.read("events/header_page")
    sizes = header_page_sizes(header_page)
    codec = make_codec()
    notices: List[str] = []
    if codec.notice:
        notices.append(codec.notice)
    caps: Dict[str, Any] = {
        "agent_version": __version__,
        "protocol_version": protocol.PROTOCOL_VERSION,
        "python": platform.python_version(),
        "kernel": uname.release,
        "uname": " ".join(uname),
        "arch": uname.machine,
        "big_endian": sys.byteorder == "big",
        "long_size": struct.calcsize("l"),
        "page_size": os.sysconf("SC_PAGE_SIZE"),
        "subbuf_size": sizes.get("subbuf_size", os.sysconf("SC_PAGE_SIZE")),
        "cpus": len(top.cpus()),
        "online_cpus": os.cpu_count() or 0,
        "tracefs": top.root,
        "tracers": top.words("available_tracers"),
        "clocks": top.words("trace_clock"),
        "trace_clock": top.selected("trace_clock"),
        "events": sum(1 for ln in top.read("available_events").splitlines() if ln.strip()),
        "boot_id": boot_id(),
        "tracing_on": top.read("tracing_on").strip() == "1",
        "codec": codec.name,
        "refusals": {},
        "notices": notices,
    }
    probe_scratch(top, caps)
    caps["top_level_only_tracers"] = [t for t in caps["tracers"] if t not in caps["instance_tracers"]]
    if not caps.get("copy_trace_marker"):
        notices.append(
            "kernel lacks options/copy_trace_marker: markers written to the top-level trace_marker do not reach "
            "the agent's instance (sync and user markers sent through the agent still do)"
        )
    if not caps.get("disable_on_free"):
        notices.append("kernel lacks options/disable_on_free: a killed agent leaves its instance tracing")
    if not caps["tracing_on"]:
        notices.append("top-level tracing_on is 0 (left by an earlier tool?); the agent's own instance is unaffected")
    return caps
