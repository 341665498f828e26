"""The kernel's own `trace` file text, rebuilt from raw pages: the default layout (`TASK-PID [CPU] FLAGS TIMESTAMP:
FUNCTION`) and latency-format (`latency trace v1.1.5` header, `CMD PID CPU FLAGS TIME : EVENT`) as the latency
tracers (wakeup*, irqsoff, preemptoff) print their max-latency snapshot. PREEMPT_RT kernels with lazy preemption
(format field common_preempt_lazy_count) get their extra flag columns."""

# ruff: noqa: UP031  (the kernel's layouts are printf formats)
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Tuple

from fleet.ftrace.events import Decoder, Event

# enum trace_flag_type (include/linux/trace_events.h, 6.x)
FLAG_IRQS_OFF = 0x01
FLAG_IRQS_NOSUPPORT = 0x02
FLAG_NEED_RESCHED = 0x04
FLAG_HARDIRQ = 0x08
FLAG_SOFTIRQ = 0x10
FLAG_PREEMPT_RESCHED = 0x20  # 6.1-rt's lazy preemption uses this bit for NEED_RESCHED_LAZY (verified on its trace)
FLAG_NMI = 0x40
FLAG_BH_OFF = 0x80

# trace_find_mark(): duration markers, largest first (ns thresholds)
MARKS = ((1_000_000_000, "$"), (100_000_000, "@"), (10_000_000, "*"), (1_000_000, "#"), (100_000, "!"), (10_000, "+"))
TASK_STATE_CHARS = "RSDTtXZPI"  # task_index_to_char()


def num(fields: Mapping[str, object], name: str) -> int:
    """An integer field of a decoded record (0 when absent or not a number)."""
    value = fields.get(name, 0)
    return value if isinstance(value, int) else 0


def find_mark(duration_ns: int) -> str:
    for threshold, mark in MARKS:
        if duration_ns > threshold:
            return mark
    return " "


def ns2usecs(ns: int) -> int:
    """The kernel rounds to the nearest microsecond when it prints timestamps."""
    return (ns + 500) // 1000


def has_lazy(decoder: Decoder) -> bool:
    """PREEMPT_RT (6.1) lazy preemption: every event carries common_preempt_lazy_count and two more flag columns."""
    for f in decoder.formats():
        if f.system == "ftrace" and f.name == "function":
            return any(x.name == "common_preempt_lazy_count" for x in f.all_fields())
    return False


@dataclass
class KernelText:
    """Renders events of one buffer the way the kernel's `trace` file does."""

    decoder: Decoder
    lazy: bool = False
    print_parent: bool = True
    sym_offset: bool = False
    """options/sym-offset: function and stack addresses as `name+0xOFF/0xSIZE`."""
    sym_addr: bool = False
    """options/sym-addr: the address itself after the name, ` <ffffffff81234567>`."""

    @classmethod
    def of(cls, decoder: Decoder, print_parent: bool = True, options: Sequence[str] = ()) -> KernelText:
        """`options`: trace options as given to -O (`sym-offset`, `sym-addr`, `noprint-parent`); the last word
        on one option wins."""
        on = {"print-parent": print_parent, "sym-offset": False, "sym-addr": False}
        for opt in options:
            name, value = (opt[2:], False) if opt.startswith("no") and opt[2:] in on else (opt, True)
            if name in on:
                on[name] = value
        return cls(decoder, has_lazy(decoder), on["print-parent"], on["sym-offset"], on["sym-addr"])

    # ---- symbols and per-event bodies
    def lookup(self, addr: int) -> Optional[Tuple[int, int]]:
        """(index of the first alias, start address) of the symbol covering `addr` as the kernel's printing finds
        it. ftrace's trampolines are listed in /proc/kallsyms (`[__builtin__ftrace]`) but the kernel's address
        lookup does not know them: it prints their address."""
        ks = self.decoder.context.kallsyms
        hit = ks.kernel_lookup(addr)
        if hit is None or ks.modules.get(hit[0]) == "__builtin__ftrace":
            return None
        return hit

    def sym(self, addr: int) -> str:
        """%ps as the kernel prints it: of aliases at one address, the first /proc/kallsyms lists."""
        hit = self.lookup(addr)
        if hit is None:
            return "0x%x" % addr
        return self.decoder.context.kallsyms.names[hit[0]]

    def ip_sym(self, addr: int) -> str:
        """seq_print_ip_sym(): a function or stack address under the sym-offset and sym-addr options."""
        if not addr:
            return "0"
        hit = self.lookup(addr)
        ks = self.decoder.context.kallsyms
        if hit is None:
            text = "0x%x" % addr
        elif self.sym_offset:
            text = ks.kernel_symbol(addr) or "0x%x" % addr  # the same lookup: `name+0xOFF/0xSIZE [module]`
        else:
            text = ks.names[hit[0]]
        if self.sym_addr:
            text += " <%0*x>" % (2 * self.decoder.meta.long_size, addr)
        return text

    def flags(self, ev: Event) -> str:
        """trace_print_lat_fmt(): irqs-off, need-resched, [lazy,] hard/softirq, preempt depth, [lazy depth,]
        migrate-disable."""
        f = ev.flags
        bh_off = f & FLAG_BH_OFF
        irqs_off = f & FLAG_IRQS_OFF
        if irqs_off and bh_off:
            c1 = "D"
        elif irqs_off:
            c1 = "d"
        elif bh_off:
            c1 = "b"
        elif f & FLAG_IRQS_NOSUPPORT:
            c1 = "X"
        else:
            c1 = "."
        nr = f & (FLAG_NEED_RESCHED | (0 if self.lazy else FLAG_PREEMPT_RESCHED))
        c2 = {FLAG_NEED_RESCHED | FLAG_PREEMPT_RESCHED: "N", FLAG_NEED_RESCHED: "n", FLAG_PREEMPT_RESCHED: "p"}.get(
            nr, "."
        )
        nmi, hard, soft = f & FLAG_NMI, f & FLAG_HARDIRQ, f & FLAG_SOFTIRQ
        if nmi and hard:
            c3 = "Z"
        elif nmi:
            c3 = "z"
        elif hard and soft:
            c3 = "H"
        elif hard:
            c3 = "h"
        elif soft:
            c3 = "s"
        else:
            c3 = "."
        pc = ev.preempt_count
        depth = "%x" % (pc & 0xF) if pc & 0xF else "."
        migrate = "%x" % (pc >> 4) if pc & 0xF0 else "."
        if not self.lazy:
            return c1 + c2 + c3 + depth + migrate
        lazy_flag = "L" if f & FLAG_PREEMPT_RESCHED else "."
        lazy_count = num(ev.fields(), "common_preempt_lazy_count")
        return c1 + c2 + lazy_flag + c3 + depth + ("%x" % lazy_count if lazy_count else ".") + migrate

    def body(self, ev: Event) -> str:
        """The part after the timestamp, as the kernel's trace output functions print it."""
        name = ev.name
        if ev.system == "ftrace":
            fields = ev.fields()
            if name == "function":
                text = self.ip_sym(num(fields, "ip"))
                parent = num(fields, "parent_ip")
                if self.print_parent and parent:
                    text += " <-" + self.ip_sym(parent)
                return text
            if name == "kernel_stack":
                return "<stack trace>\n" + "".join(" => %s\n" % self.ip_sym(a) for a in stack_addrs(ev))
            if name in ("wakeup", "context_switch"):
                return ctx_switch(ev, "  +" if name == "wakeup" else "==>")
            if name == "timerlat":
                # trace_timerlat_print(): context 0 is the timer IRQ, 1 the timerlat thread
                context = "thread" if num(fields, "context") else "irq"
                return "#%-5d context %6s timer_latency %9d ns\n" % (
                    num(fields, "seqnum"),
                    context,
                    num(fields, "timer_latency"),
                )
            if name in ("hwlat", "osnoise"):
                from fleet.ftrace.noise import hwlat_body, osnoise_body

                return (hwlat_body if name == "hwlat" else osnoise_body)(fields)
            if name in ("print", "bprint", "bputs"):
                text = ev.text()
                return text if text.endswith("\n") else text + "\n"
        return "%s: %s" % (name, ev.text())

    # ---- the default layout
    def line(self, ev: Event) -> str:
        us = ns2usecs(ev.ts)
        secs, usecs = divmod(us, 1_000_000)
        body = self.body(ev)
        return "%16s-%-7d [%03d] %s %5d.%06d: %s" % (ev.comm, ev.pid, ev.cpu, self.flags(ev), secs, usecs, body)

    def header(self, tracer: str, entries: int, written: int, cpus: int) -> str:
        """trace_default_header() with irq-info: the flag legend matches the columns of flags()."""
        legend = (
            [
                "#                                _-------=> irqs-off/BH-disabled",
                "#                               / _------=> need-resched",
                "#                              | / _-----=> need-resched-lazy",
                "#                              || / _----=> hardirq/softirq",
                "#                              ||| / _---=> preempt-depth",
                "#                              |||| / _--=> preempt-lazy-depth",
                "#                              ||||| / _-=> migrate-disable",
                "#                              |||||| /     delay",
                "#           TASK-PID     CPU#  |||||||  TIMESTAMP  FUNCTION",
                "#              | |         |   |||||||      |         |",
            ]
            if self.lazy
            else [
                "#                                _-----=> irqs-off/BH-disabled",
                "#                               / _----=> need-resched",
                "#                              | / _---=> hardirq/softirq",
                "#                              || / _--=> preempt-depth",
                "#                              ||| / _-=> migrate-disable",
                "#                              |||| /     delay",
                "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION",
                "#              | |         |   |||||     |         |",
            ]
        )
        head = [
            "# tracer: %s" % tracer,
            "#",
            "# entries-in-buffer/entries-written: %d/%d   #P:%d" % (entries, written, cpus),
            "#",
        ]
        return "\n".join(head + legend) + "\n"

    def render(self, tracer: str, events: Sequence[Event], cpus: int, written: Optional[int] = None) -> str:
        """The whole `trace` file of a non-latency tracer (function, nop + events) for `events` in time order."""
        out = [self.header(tracer, len(events), len(events) if written is None else written, cpus)]
        for ev in events:
            text = self.line(ev)
            out.append(text if text.endswith("\n") else text + "\n")
        return "".join(out)

    # ---- latency-format
    def lat_line(self, ev: Event, time_start: int, next_ts: int) -> str:
        """trace_print_lat_context() (not verbose): `%8.8s-%-7d %3d FLAGS %4lldus%c: BODY`."""
        comm = ev.comm[:8]
        abs_us = ns2usecs(ev.ts - time_start)
        rel_us = ns2usecs(next_ts - ev.ts)
        body = self.body(ev)
        return "%8.8s-%-7d %3d%s %4dus%s: %s" % (
            comm,
            ev.pid,
            ev.cpu,
            self.flags(ev),
            abs_us,
            find_mark(rel_us * 1000),
            body,
        )

    def render_latency(self, header: str, events: Sequence[Event], time_start: Optional[int] = None) -> str:
        """A max-latency snapshot as the kernel prints it: `header` is the kernel's own latency header (the task,
        uid, policy and critical start/end exist nowhere else); events of the snapshot buffer in time order."""
        out = [header if header.endswith("\n") or not header else header + "\n"]
        start = events[0].ts if time_start is None and events else (time_start or 0)
        for i, ev in enumerate(events):
            next_ts = events[i + 1].ts if i + 1 < len(events) else ev.ts
            text = self.lat_line(ev, start, next_ts)
            out.append(text if text.endswith("\n") else text + "\n")
        return "".join(out)


def stack_addrs(ev: Event) -> List[int]:
    """The return addresses of a kernel_stack record as trace_stack_print() walks them: every word from caller[] to
    the end of the record (the format's caller[8] is nominal; `size` is not consulted), up to a ULONG_MAX."""
    fmt = ev.format
    caller = next((f for f in fmt.fields if f.name == "caller"), None) if fmt is not None else None
    if caller is None:
        return []
    long_size = ev.decoder.meta.long_size
    order: Literal["big", "little"] = "big" if ev.decoder.meta.big_endian else "little"
    end_mark = (1 << (8 * long_size)) - 1
    out = []
    for off in range(caller.offset, len(ev.data) - long_size + 1, long_size):
        addr = int.from_bytes(ev.data[off : off + long_size], order)
        if addr == end_mark:
            break
        out.append(addr)
    return out


def ctx_switch(ev: Event, delim: str) -> str:
    """trace_ctxwake_print(): ` PREV_PID:PRIO:S DELIM [CPU] NEXT_PID:PRIO:S COMM`."""
    f = ev.fields()

    def state(name: str) -> str:
        i = num(f, name)
        return TASK_STATE_CHARS[i] if 0 <= i < len(TASK_STATE_CHARS) else "?"

    return " %7d:%3d:%s %s [%03d] %7d:%3d:%s %s\n" % (
        num(f, "prev_pid"),
        num(f, "prev_prio"),
        state("prev_state"),
        delim,
        num(f, "next_cpu"),
        num(f, "next_pid"),
        num(f, "next_prio"),
        state("next_state"),
        ev.decoder.comm(num(f, "next_pid")),
    )


def events_in_order(decoder: Decoder, pages: Dict[int, List[bytes]]) -> List[Event]:
    """Every event of every CPU's pages, merged by timestamp (Lost markers dropped)."""
    from fleet.ftrace.events import merge_cpus

    streams: List[Iterable] = [decoder.decode_pages(cpu, ps) for cpu, ps in sorted(pages.items())]
    return [it for it in merge_cpus(streams) if isinstance(it, Event)]


@dataclass
class LatencyStats:
    """Count, minimum, average and maximum of a set of latencies in ns (rtla-style summary rows)."""

    count: int = 0
    minimum: int = 0
    maximum: int = 0
    total: int = 0

    def add(self, value: int) -> None:
        self.minimum = value if self.count == 0 else min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        self.total += value
        self.count += 1

    @property
    def average(self) -> float:
        return self.total / self.count if self.count else 0.0


def timerlat_summary(events: Iterable[Event]) -> Dict[str, LatencyStats]:
    """Per context ("irq", "thread") statistics of the timerlat tracer's samples."""
    out: Dict[str, LatencyStats] = {}
    for ev in events:
        if ev.system == "ftrace" and ev.name == "timerlat":
            fields = ev.fields()
            context = "thread" if num(fields, "context") else "irq"
            out.setdefault(context, LatencyStats()).add(num(fields, "timer_latency"))
    return out
