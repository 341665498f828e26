"""Runs INSIDE a lab VM (python3, stdlib only): trace with a tracer in a scratch tracefs buffer, then dump the
kernel's own `trace` text (read first: it does not consume) and the raw pages of the same data, plus the texts a
decoder needs, as one JSON document on stdout. The test host renders the pages and compares with the text.

argv[1]: JSON {tracer, instance (bool), options: [..], events: [..], filter: [..], notrace: [..], graph: [..],
               workload: shell command, snapshot: bool (raw pages of the max-latency buffer), thresh: int|None,
               triggers: [["sys:event", "TRIGGER"], ..]}
Runs on the test host too (any tracefs): `python3 guest_capture.py JSON` as root.
"""

import base64
import errno
import glob
import json
import os
import subprocess
import sys
import time

T = "/sys/kernel/tracing"


def w(path, text, append=False):
    # os.open: Python's "a" mode seeks to the end, which tracefs list files refuse (EINVAL)
    fd = os.open(path, os.O_WRONLY | (os.O_APPEND if append else os.O_TRUNC))
    try:
        if text:
            os.write(fd, text.encode())
    finally:
        os.close(fd)


def r(path):
    with open(path) as f:
        return f.read()


def raw_pages(path):
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    pages = []
    try:
        while True:
            try:
                b = os.read(fd, 4096)
            except OSError as exc:
                if exc.errno == errno.EAGAIN:
                    break
                raise
            if not b:
                break
            pages.append(base64.b64encode(b).decode())
    finally:
        os.close(fd)
    return pages


def main():
    cfg = json.loads(sys.argv[1])
    top = T
    buf = T
    inst = None
    if cfg.get("instance", True):
        inst = os.path.join(T, "instances", "fleet-oracle")
        if os.path.isdir(inst):
            w(os.path.join(inst, "tracing_on"), "0")
            w(os.path.join(inst, "current_tracer"), "nop")
            w(os.path.join(inst, "events/enable"), "0")
            os.rmdir(inst)
        os.mkdir(inst)
        buf = inst
    out = {}
    try:
        w(os.path.join(buf, "tracing_on"), "0")
        w(os.path.join(buf, "buffer_size_kb"), str(cfg.get("buffer_kb", 512)))
        w(os.path.join(buf, "trace"), "")
        for key, rel in (
            ("filter", "set_ftrace_filter"),
            ("notrace", "set_ftrace_notrace"),
            ("graph", "set_graph_function"),
        ):
            if key in cfg:
                w(os.path.join(buf, rel), "")
                for g in cfg[key]:
                    w(os.path.join(buf, rel), g, append=True)
        if cfg.get("thresh") is not None:
            w(os.path.join(buf, "tracing_thresh"), str(cfg["thresh"]))
        if os.path.exists(os.path.join(buf, "tracing_max_latency")):
            w(os.path.join(buf, "tracing_max_latency"), "0")
        for ev in cfg.get("events", []):
            w(os.path.join(buf, "set_event"), ev, append=True)
        for opt in cfg.get("options", []):
            name, val = (opt[2:], "0") if opt.startswith("no") else (opt, "1")
            w(os.path.join(buf, "options", name), val)
        w(os.path.join(buf, "current_tracer"), cfg["tracer"])
        w(os.path.join(buf, "tracing_on"), "1")
        # Armed after tracing_on: the kernel runs a trigger whether or not the buffer records, so a counted one armed
        # earlier could spend its count on the context switches of the writes above.
        for ev, trigger in cfg.get("triggers", []):
            w(os.path.join(buf, "events", *ev.split(":"), "trigger"), trigger, append=True)
        subprocess.run(cfg.get("workload", "true"), shell=True, check=False)
        w(os.path.join(buf, "tracing_on"), "0")
        out["trace"] = r(os.path.join(buf, "trace"))
        cpus = sorted(int(p.rsplit("cpu", 1)[1]) for p in glob.glob(os.path.join(buf, "per_cpu", "cpu*")))
        raw = "snapshot_raw" if cfg.get("snapshot") else "trace_pipe_raw"
        out["pages"] = {str(c): raw_pages(os.path.join(buf, "per_cpu", "cpu" + str(c), raw)) for c in cpus}
        out["max_latency"] = r(os.path.join(buf, "tracing_max_latency")).strip() if cfg.get("snapshot") else ""
        out["header_page"] = r(os.path.join(top, "events/header_page"))
        out["header_event"] = r(os.path.join(top, "events/header_event"))
        out["ftrace_formats"] = [r(p) for p in sorted(glob.glob(os.path.join(top, "events/ftrace/*/format")))]
        systems = {}
        for ev in cfg.get("events", []):
            sysname = ev.split(":")[0]
            systems[sysname] = [r(p) for p in sorted(glob.glob(os.path.join(top, "events", sysname, "*/format")))]
        out["event_formats"] = systems
        out["kallsyms"] = r("/proc/kallsyms")
        out["printk_formats"] = r(os.path.join(top, "printk_formats"))
        out["saved_cmdlines"] = r(os.path.join(top, "saved_cmdlines"))
        out["saved_tgids"] = r(os.path.join(top, "saved_tgids"))
        out["trace_clock"] = [c for c in r(os.path.join(buf, "trace_clock")).split() if c.startswith("[")][0][1:-1]
        out["cpus"] = len(cpus)
        out["uname"] = " ".join(os.uname())
    finally:
        w(os.path.join(buf, "tracing_on"), "0")
        w(os.path.join(buf, "current_tracer"), "nop")
        for ev, trigger in cfg.get("triggers", []):
            w(os.path.join(buf, "events", *ev.split(":"), "trigger"), "!" + trigger, append=True)
        if inst:
            w(os.path.join(inst, "events/enable"), "0")
            time.sleep(0.1)
            os.rmdir(inst)
        else:
            w(os.path.join(buf, "set_event"), "")
            for rel in ("set_ftrace_filter", "set_ftrace_notrace", "set_graph_function"):
                if os.path.exists(os.path.join(buf, rel)):
                    w(os.path.join(buf, rel), "")
            for opt in cfg.get("options", []):
                name, val = (opt[2:], "1") if opt.startswith("no") else (opt, "0")
                w(os.path.join(buf, "options", name), val)
    json.dump(out, sys.stdout)


main()
