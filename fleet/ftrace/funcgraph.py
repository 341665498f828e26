"""function_graph output as the kernel's `trace` file prints it (kernel/trace/trace_functions_graph.c, default
options funcgraph-cpu, -duration, -overhead, -irqs): CPU column, DURATION with its + ! # * @ $ markers, nesting
braces (a leaf call on one line), interrupt arrows, task-switch banners, other events as comments."""

# ruff: noqa: UP031  (the kernel's layouts are printf formats)
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from fleet.ftrace.events import Event
from fleet.ftrace.latency import KernelText, find_mark, num

INDENT = 2  # TRACE_GRAPH_INDENT
PROCINFO_LENGTH = 14  # TRACE_GRAPH_PROCINFO_LENGTH
BANNER = " ------------------------------------------\n"


def graph_duration(ns: int) -> str:
    """trace_print_graph_duration(): microseconds with up to 7 significant digits, then ` us ` padded to 8."""
    usecs, rem = divmod(ns, 1000)
    text = "%d" % usecs
    length = len(text)
    if length < 7:
        nsecs = ("%03d" % rem)[: max(0, min(4, 8 - length) - 1)]
        text += "." + nsecs
        length += len(nsecs) + 1
    return text + " us " + " " * max(0, 8 - length)


@dataclass
class _CpuState:
    last_pid: int = -1
    depth: int = 0
    enter_funcs: Dict[int, int] = field(default_factory=dict)


@dataclass
class GraphOptions:
    """The funcgraph-* options that change the layout (defaults as the kernel's)."""

    cpu: bool = True
    duration: bool = True
    overhead: bool = True
    irqs: bool = True
    proc: bool = False
    tail: bool = False


class GraphRenderer:
    """Turns one buffer's events (time order) into function_graph text; keeps the kernel's per-CPU state."""

    def __init__(self, text: KernelText, cpus: int, options: Optional[GraphOptions] = None) -> None:
        self.text = text
        self.opts = options or GraphOptions()
        self.cpu_width = len("%d" % max(0, cpus - 1))
        self.state: Dict[int, _CpuState] = {}
        ks = text.decoder.context.kallsyms
        self.irq_range: Optional[Tuple[int, int]] = None
        starts = [a for a, n in zip(ks.addrs, ks.names) if n == "__irqentry_text_start"]
        ends = [a for a, n in zip(ks.addrs, ks.names) if n == "__irqentry_text_end"]
        if starts and ends:
            self.irq_range = (starts[0], ends[0])

    # ---- columns
    def cpu_col(self, cpu: int) -> str:
        return " %*d) " % (self.cpu_width, cpu)

    def proc_col(self, pid: int) -> str:
        comm = self.text.decoder.comm(pid)[:7]
        pid_str = "%d" % pid
        spaces = max(0, PROCINFO_LENGTH - (len(comm) + len(pid_str) + 1))
        return " " * (spaces // 2) + "%s-%s" % (comm, pid_str) + " " * (spaces - spaces // 2)

    def fill(self, kind: str) -> str:
        if not self.opts.duration:
            return ""
        return {"full": "              |  ", "start": "  ", "end": " |"}[kind]

    def duration(self, ns: int) -> str:
        if not self.opts.duration:
            return ""
        mark = find_mark(ns) if self.opts.overhead else " "
        return "%s %s|  " % (mark, graph_duration(ns))

    # ---- prologue: task switch banner, irq arrows, the context columns
    def _cpu(self, cpu: int) -> _CpuState:
        return self.state.setdefault(cpu, _CpuState())

    def banner(self, ev: Event) -> str:
        st = self._cpu(ev.cpu)
        if st.last_pid == ev.pid:
            return ""
        prev, st.last_pid = st.last_pid, ev.pid
        if prev == -1:
            return ""
        return (
            BANNER + self.cpu_col(ev.cpu) + self.proc_col(prev) + " => " + self.proc_col(ev.pid) + "\n" + BANNER + "\n"
        )

    def context(self, ev: Event) -> str:
        out = ""
        if self.opts.cpu:
            out += self.cpu_col(ev.cpu)
        if self.opts.proc:
            out += self.proc_col(ev.pid) + " | "
        return out

    def irq_arrow(self, ev: Event, func: int, entering: bool) -> str:
        if not self.opts.irqs or self.irq_range is None or not self.irq_range[0] <= func < self.irq_range[1]:
            return ""
        arrow = "==========>" if entering else "<=========="
        return self.context(ev) + self.fill("start") + arrow + self.fill("end") + "\n"

    # ---- the three kinds of lines
    def entry(self, ev: Event, nxt: Optional[Event]) -> Tuple[str, bool]:
        """A funcgraph_entry; (text, True) when it was a leaf and consumed `nxt` (its own return)."""
        f = ev.fields()
        func, depth = num(f, "func"), num(f, "depth")
        st = self._cpu(ev.cpu)
        head = self.banner(ev) + self.irq_arrow(ev, func, True) + self.context(ev)
        name = self.text.sym(func)
        if nxt is not None and nxt.name == "funcgraph_exit" and nxt.pid == ev.pid and nxt.cpu == ev.cpu:
            g = nxt.fields()
            if num(g, "func") == func:
                st.depth = depth - 1
                st.enter_funcs.pop(depth, None)
                took = num(g, "rettime") - num(g, "calltime")
                return head + self.duration(took) + " " * (depth * INDENT) + "%s();\n" % name, True
        st.depth = depth
        st.enter_funcs[depth] = func
        return head + self.fill("full") + " " * (depth * INDENT) + "%s() {\n" % name, False

    def exit(self, ev: Event) -> str:
        f = ev.fields()
        func, depth = num(f, "func"), num(f, "depth")
        st = self._cpu(ev.cpu)
        st.depth = depth - 1
        matched = st.enter_funcs.pop(depth, None) == func
        took = num(f, "rettime") - num(f, "calltime")
        head = self.banner(ev) + self.irq_arrow(ev, func, False) + self.context(ev) + self.duration(took)
        close = "}\n" if matched and not self.opts.tail else "} /* %s */\n" % self.text.sym(func)
        return head + " " * (depth * INDENT) + close

    def comment(self, ev: Event) -> str:
        st = self._cpu(ev.cpu)
        head = self.banner(ev) + self.context(ev) + self.fill("full")
        indent = " " * ((st.depth + 1) * INDENT) if st.depth > 0 else ""
        body = self.text.body(ev)
        if body.endswith("\n"):
            body = body[:-1]
        return head + indent + "/* " + body + " */\n"

    def render_events(self, events: Sequence[Event]) -> List[str]:
        """Line groups for `events`; a leaf's return is consumed by its entry (same CPU, next on that CPU)."""
        # The kernel peeks at the next event of the same CPU to find a leaf.
        next_on_cpu: Dict[int, Optional[int]] = {}
        following: List[Optional[int]] = [None] * len(events)
        for i in range(len(events) - 1, -1, -1):
            following[i] = next_on_cpu.get(events[i].cpu)
            next_on_cpu[events[i].cpu] = i
        out: List[str] = []
        skip = set()
        for i, ev in enumerate(events):
            if i in skip:
                continue
            if ev.system == "ftrace" and ev.name == "funcgraph_entry":
                j = following[i]
                text, leaf = self.entry(ev, events[j] if j is not None else None)
                if leaf and j is not None:
                    skip.add(j)
                out.append(text)
            elif ev.system == "ftrace" and ev.name == "funcgraph_exit":
                out.append(self.exit(ev))
            else:
                out.append(self.comment(ev))
        return out

    def header(self) -> str:
        first, second = "#", "#"
        if self.opts.cpu:
            first += " CPU"
            second += " |  "
        if self.opts.proc:
            first += "  TASK/PID       "
            second += "   |    |      "
        if self.opts.duration:
            first += "  DURATION   "
            second += "   |   |      "
        return (
            "# tracer: function_graph\n#\n"
            + first
            + "               FUNCTION CALLS\n"
            + second
            + ("               |   |   |   |\n")
        )

    def render(self, events: Sequence[Event]) -> str:
        """The whole `trace` file of the function_graph tracer for `events` in time order."""
        return self.header() + "".join(self.render_events(events))


class GraphSlot:
    """One event's place in the output: its text is known once the next event of its CPU has been seen."""

    __slots__ = ("text",)

    def __init__(self, text: Optional[str] = None) -> None:
        self.text = text


class GraphStream:
    """GraphRenderer fed one event at a time (time order): a funcgraph_entry waits for the next event of its CPU
    (the kernel peeks at it to print a leaf call on one line), so each event gets a GraphSlot filled in later;
    callers print slots in the order they got them, each once it holds text."""

    def __init__(self, renderer: GraphRenderer) -> None:
        self.renderer = renderer
        self.pending: Dict[int, Tuple[Event, GraphSlot]] = {}

    def feed(self, ev: Event) -> Optional[GraphSlot]:
        """The slot of `ev`, or None when `ev` is the return of a leaf call already printed with its entry."""
        held = self.pending.pop(ev.cpu, None)
        if held is not None:
            text, leaf = self.renderer.entry(held[0], ev)
            held[1].text = text
            if leaf:
                return None
        slot = GraphSlot()
        if ev.system == "ftrace" and ev.name == "funcgraph_entry":
            self.pending[ev.cpu] = (ev, slot)
        elif ev.system == "ftrace" and ev.name == "funcgraph_exit":
            slot.text = self.renderer.exit(ev)
        else:
            slot.text = self.renderer.comment(ev)
        return slot

    def flush(self) -> None:
        """Entries still waiting are calls whose CPU recorded nothing after them: not leaves."""
        for ev, slot in self.pending.values():
            slot.text = self.renderer.entry(ev, None)[0]
        self.pending.clear()
