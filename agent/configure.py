"""Apply a trace configuration to the agent's own instance (or, for top-level-only tracers, the top-level buffer)
and undo it: an instance is simply removed; the top-level buffer gets every file it touched written back."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from agent import profile, protocol
from agent.errors import AgentError
from agent.instance import remove_instance
from agent.tracefs import Tracefs, os_error

LOCK_DIR = "/run/fleet"
TOP_LOCK = "toplevel.lock"  # flock'ed by the agent that uses the top-level buffer


def bad(message: str) -> AgentError:
    return AgentError(protocol.E_BAD_REQUEST, message)


def event_dir(spec: str) -> str:
    """'sys:event' -> 'events/sys/event'; 'sys' -> 'events/sys'."""
    parts = [p for p in spec.split(":") if p]
    if not 1 <= len(parts) <= 2:
        raise bad(f"event {spec!r} must be 'system' or 'system:event'")
    return os.path.join("events", *parts)


def str_list(config: Dict[str, Any], key: str) -> List[str]:
    value = config.get(key) or []
    if isinstance(value, (str, int)):
        value = [value]
    if not isinstance(value, list):
        raise bad(f"config {key!r} must be a list, got {value!r}")
    return [str(v) for v in value]


def wants_top_level(config: Dict[str, Any], caps: Dict[str, Any]) -> bool:
    """True when the tracer asked for exists only at the top level on this kernel, or the config forces it
    (top_level, or tracing_thresh: a file instances do not have)."""
    tracer = config.get("tracer")
    if config.get("top_level") or "tracing_thresh" in config:
        return True
    return tracer is not None and tracer in caps.get("top_level_only_tracers", [])


def is_snapshot_trigger(spec: str) -> bool:
    """'sys:event:snapshot[:N][ if FILTER]' (a function trigger 'func:snapshot' too)."""
    words = spec.split(" if ")[0].split(":")
    return "snapshot" in words[1:]


def pids_named(name: str, proc: str = "/proc") -> List[str]:
    """Every pid whose comm is `name` (comm: the first 15 bytes of the executable's name, as `ps -o comm` shows)."""
    out = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, "comm"), "rb") as f:
                comm = f.read().decode(errors="replace").rstrip("\n")
        except OSError:
            continue  # exited meanwhile
        if comm == name[:15]:
            out.append(entry)
    return sorted(out, key=int)


def resolve_pids(specs: List[str], rel: str) -> List[str]:
    """set_ftrace_pid / set_event_pid entries: numbers as given, names as every pid of that comm on this host."""
    out: List[str] = []
    for spec in specs:
        if spec.isdigit():
            out.append(spec)
            continue
        pids = pids_named(spec)
        if not pids:
            raise AgentError(protocol.E_INVALID, f"no process named {spec!r} on this host ({rel})")
        out.extend(pids)
    return out


@dataclass
class Setup:
    """One configured buffer: where it is, what was changed, and how to undo it."""

    top: Tracefs
    buf: Tracefs
    name: str  # instance name; "" for the top-level buffer
    undo: List[Callable[[], None]] = field(default_factory=list)
    notices: List[str] = field(default_factory=list)
    free_fd: Optional[int] = None
    lock_fd: Optional[int] = None
    option_undo: List[Callable[[], None]] = field(default_factory=list)
    """Options an instance changed, written back before it is removed (see set_option)."""
    triggers: List[Tuple[str, str]] = field(default_factory=list)
    """Checked triggers as (file, text), written by arm_triggers() when tracing starts."""
    snapshot_triggers: List[Tuple[str, str]] = field(default_factory=list)
    """The `snapshot` triggers as (spec, trigger file); with any, the buffer's snapshot is read when tracing stops."""

    @property
    def top_level(self) -> bool:
        return self.name == ""

    # -- writes that remember how to restore themselves (top-level mode only needs them) --

    def save_scalar(self, rel: str, selected: bool = False) -> None:
        if not self.top_level:
            return
        # buffer_size_kb may read "7 (expanded: 1408)": the first word is what can be written back.
        old = self.buf.selected(rel) if selected else (self.buf.read(rel).split() or [""])[0]
        self.undo.append(lambda: self.buf.write(rel, old))

    def save_lines(self, rel: str, add_prefix: str = "") -> None:
        """Restore a list file (set_event, set_ftrace_filter, ...) by rewriting its former lines."""
        if not self.top_level:
            return
        old = self.buf.lines(rel)

        def restore() -> None:
            self.buf.write(rel, "")
            for line in old:
                self.buf.write(rel, add_prefix + line, append=True)

        self.undo.append(restore)

    def set(self, rel: str, value: Any, selected: bool = False) -> None:
        self.save_scalar(rel, selected)
        self.buf.write(rel, str(value))

    def set_option(self, name: str, on: bool) -> None:
        rel = os.path.join("options", name)
        if not self.top_level:
            # A tracer's own options (func_stack_trace, funcgraph-*, display-graph, ...) are one flag shared by
            # every instance: removing ours would not restore them. Write back what was there before.
            old = self.buf.read(rel).strip()
            if old != ("1" if on else "0"):
                self.option_undo.append(lambda: self.buf.write(rel, old))
        self.set(rel, "1" if on else "0")

    # -- the configuration keys --

    def apply(self, config: Dict[str, Any], caps: Dict[str, Any]) -> None:
        unknown = sorted(set(config) - set(protocol.CONFIG_KEYS))
        if unknown:
            raise bad(f"unknown config keys {unknown}; known: {sorted(protocol.CONFIG_KEYS)}")
        self.set("tracing_on", "0")
        # Closing free_buffer at teardown shrinks the buffer: remember its size to write it back (top level).
        self.save_scalar("buffer_size_kb")
        if caps.get("disable_on_free"):
            self.set_option("disable_on_free", True)
            path = self.buf.path("free_buffer")
            try:
                # Held open until teardown: if the agent dies, the kernel stops tracing here (disable_on_free).
                self.free_fd = os.open(path, os.O_WRONLY)
            except OSError as exc:
                raise os_error("open", path, exc) from None
        copy = config.get("copy_trace_marker", True)
        if not self.top_level:
            if caps.get("copy_trace_marker"):
                self.set_option("copy_trace_marker", bool(copy))
            elif "copy_trace_marker" in config and copy:
                raise AgentError(protocol.E_UNSUPPORTED, "this kernel has no options/copy_trace_marker")
            elif copy:
                self.notices.append(
                    "kernel lacks options/copy_trace_marker: programs' writes to the top-level trace_marker (and "
                    f"trace_marker_raw) are NOT recorded; have them write to {self.buf.path('trace_marker')} "
                    "(or trace_marker_raw) instead, or record the top-level buffer (fleet trace --top-level) "
                    "when no other tool uses it"
                )
        for key, rel in (("buffer_size_kb", "buffer_size_kb"), ("tracing_thresh", "tracing_thresh")):
            if key in config:
                self.set(rel, int(config[key]))
        self.set("buffer_percent", int(config.get("buffer_percent", DEFAULT_BUFFER_PERCENT)))
        if "trace_clock" in config:
            self.set("trace_clock", config["trace_clock"], selected=True)
        self.apply_ftrace_lists(config)
        if "tracer" in config:
            self.set("current_tracer", config["tracer"], selected=True)
        events = str_list(config, "events")
        if events:
            self.save_lines("set_event")
            for spec in events:
                self.buf.write("set_event", spec, append=True)
        filters = config.get("filters") or {}
        if not isinstance(filters, dict):
            raise bad(f"config 'filters' must be a map, got {filters!r}")
        for spec, expr in filters.items():
            rel = os.path.join(event_dir(spec), "filter")
            self.save_filter(rel)
            self.buf.write(rel, str(expr))
        for spec in str_list(config, "triggers"):
            self.check_trigger(spec)
        for opt in str_list(config, "options"):
            # 'noNAME' clears NAME, unless an option is really called noNAME.
            if opt.startswith("no") and not self.buf.exists(f"options/{opt}"):
                self.set_option(opt[2:], False)
            else:
                self.set_option(opt, True)

    def save_filter(self, rel: str) -> None:
        if not self.top_level:
            return
        old = self.buf.read(rel).strip()
        self.undo.append(lambda: self.buf.write(rel, "0" if old == "none" else old))

    def apply_ftrace_lists(self, config: Dict[str, Any]) -> None:
        for key, rel in (
            ("ftrace_filter", "set_ftrace_filter"),
            ("ftrace_notrace", "set_ftrace_notrace"),
            ("ftrace_pid", "set_ftrace_pid"),
            ("event_pid", "set_event_pid"),
            ("graph_function", "set_graph_function"),
        ):
            if key not in config:
                continue
            values = str_list(config, key)
            if rel.endswith("_pid"):
                values = resolve_pids(values, rel)
            self.save_lines(rel)
            self.buf.write(rel, "")
            for glob in values:
                self.write_glob(rel, glob)

    def write_glob(self, rel: str, glob: str) -> None:
        """Append one glob (or pid). The newline makes the kernel match it during the write, so a glob that
        matches nothing is refused (EINVAL) here rather than silently dropped when the file is closed."""
        try:
            self.buf.write(rel, glob + "\n", append=True)
        except AgentError as exc:
            if exc.code != protocol.E_INVALID or rel.endswith("_pid"):
                raise
            raise AgentError(protocol.E_INVALID, f"no function matches {glob!r} ({rel})") from None

    def trigger_file(self, spec: str) -> Tuple[str, str]:
        """'sys:event:TRIGGER' -> (events/sys/event/trigger, TRIGGER); 'func:traceon|traceoff[:N]' ->
        (set_ftrace_filter, spec)."""
        parts = spec.split(":")
        if len(parts) >= 3 and self.buf.exists(os.path.join("events", parts[0], parts[1])):
            return os.path.join("events", parts[0], parts[1], "trigger"), ":".join(parts[2:])
        if len(parts) in (2, 3) and parts[1] in ("traceon", "traceoff"):
            return "set_ftrace_filter", spec
        raise bad(f"trigger {spec!r} must be 'sys:event:TRIGGER' or 'func:traceon|traceoff[:N]' (event exists?)")

    def check_trigger(self, spec: str) -> None:
        """Let the kernel check a trigger now (written, then removed) and arm it at start: an armed trigger fires
        even while tracing_on is 0, so between configure and start it would spend its count for nothing."""
        rel, trigger = self.trigger_file(spec)
        if is_snapshot_trigger(spec):
            self.keep_snapshot_allocation()
            self.snapshot_triggers.append((spec, rel))
        self.buf.write(rel, trigger, append=True)
        self.buf.write(rel, "!" + trigger, append=True)
        self.triggers.append((rel, trigger))

    def arm_triggers(self) -> None:
        """Write the checked triggers (once; a second start keeps them as they are)."""
        for rel, trigger in self.triggers:
            self.buf.write(rel, trigger, append=True)
            if self.top_level:
                self.undo.append(self.trigger_remover(rel, trigger))
        self.triggers = []

    def trigger_remover(self, rel: str, trigger: str) -> Callable[[], None]:
        return lambda: self.buf.write(rel, "!" + trigger, append=True)

    def spent_snapshot_trigger(self) -> bool:
        """True when a counted snapshot trigger has fired all its times (its trigger file reads count=0)."""
        for _, rel in self.snapshot_triggers:
            try:
                lines = self.buf.lines(rel)
            except AgentError:
                continue
            if any(line.startswith("snapshot:count=0") for line in lines):
                return True
        return False

    def keep_snapshot_allocation(self) -> None:
        """A snapshot trigger allocates the buffer's snapshot (a second ring buffer): free it again at teardown
        when it was not allocated before (an instance frees its own when removed)."""
        if self.snapshot_triggers:
            return
        if not self.buf.exists("snapshot"):
            raise AgentError(protocol.E_UNSUPPORTED, "this kernel has no snapshot buffer (CONFIG_TRACER_SNAPSHOT)")
        if self.top_level and "Snapshot is freed" in self.buf.read("snapshot")[:200]:
            self.undo.append(lambda: self.buf.write("snapshot", "0"))

    # -- teardown --

    def teardown(self) -> List[str]:
        """Undo everything; returns the errors met (teardown never stops half way)."""
        errors: List[str] = []
        try:
            self.buf.write("tracing_on", "0")
        except AgentError as exc:
            errors.append(exc.message)
        if self.free_fd is not None:
            os.close(self.free_fd)
            self.free_fd = None
        if self.top_level:
            errors.extend(undo_all(self.undo))
            if self.lock_fd is not None:
                os.close(self.lock_fd)
                self.lock_fd = None
        else:
            errors.extend(undo_all(self.option_undo))
            try:
                remove_instance(self.top, self.name)
            except AgentError as exc:
                errors.append(exc.message)
        return errors


def undo_all(actions: List[Callable[[], None]]) -> List[str]:
    """Run undo actions newest first, each whatever the others did; empties the list; the errors met."""
    errors = []
    for action in reversed(actions):
        try:
            action()
        except AgentError as exc:
            errors.append(exc.message)
    actions.clear()
    return errors


DEFAULT_BUFFER_PERCENT = 10  # lab notes: wakes a poll()ing reader about once per 90%-full page set


def lock_top_level(top: Tracefs) -> int:
    """Take the top-level buffer for this agent, or raise E_BUSY when anyone else appears to use it."""
    os.makedirs(LOCK_DIR, exist_ok=True)
    fd = os.open(os.path.join(LOCK_DIR, TOP_LOCK), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise AgentError(protocol.E_BUSY, "the top-level buffer is in use by another fleet agent") from None
    tracer = top.selected("current_tracer")
    events = top.lines("set_event")
    if tracer != "nop" or events:
        os.close(fd)
        raise AgentError(
            protocol.E_BUSY,
            f"the top-level buffer is in use (current_tracer={tracer}, {len(events)} events enabled in set_event)",
        )
    return fd


def configure(top: Tracefs, name: str, config: Dict[str, Any], caps: Dict[str, Any]) -> Setup:
    """Create the buffer (`name` under instances/, or the top level when needed) and apply `config` to it.
    On failure everything done so far is undone before the error propagates."""
    profile.check(top, config)
    if wants_top_level(config, caps):
        lock = lock_top_level(top)
        setup = Setup(top, top, "", lock_fd=lock)
    else:
        setup = Setup(top, top.mkdir_instance(name), name)
    try:
        setup.apply({k: v for k, v in config.items() if k != "top_level"}, caps)
    except BaseException:
        setup.teardown()
        raise
    return setup
