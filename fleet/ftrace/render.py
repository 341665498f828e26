"""One line per event in `trace-cmd report -N` layout: `COMM-PID [CPU] SECS.USECS: EVENT: BODY`."""

# ruff: noqa: UP031  (trace-cmd layouts are printf formats)
from __future__ import annotations

from typing import Optional, Union

from fleet.ftrace.events import Event, Lost
from fleet.ftrace.meta import TraceMeta

COUNTER_CLOCKS = ("x86-tsc", "counter")


def format_ts(ts: int, ns: bool = False, counter: bool = False) -> str:
    """trace-cmd's timestamp column: SECS.USECS (rounded down), SECS.NSECS with ns, raw counts for counter clocks."""
    if counter:
        return "%12d" % ts
    secs, nsec = divmod(ts, 1_000_000_000)
    if ns:
        return "%5d.%09d" % (secs, nsec)
    return "%5d.%06d" % (secs, nsec // 1000)


def render_line(
    item: Union[Event, Lost],
    ts: Optional[int] = None,
    ns: bool = False,
    counter: bool = False,
    host: Optional[str] = None,
) -> str:
    """Render an Event or Lost marker; `ts` overrides item.ts (after clock conversion); `host` adds a column."""
    if isinstance(item, Lost):
        prefix = f"{host}: " if host else ""
        # ftrace's own wording (trace_pipe, `trace`); the kernel says `[LOST EVENTS]` when it did not count them.
        if not item.count:
            return f"{prefix}CPU:{item.cpu} [LOST EVENTS]"
        return f"{prefix}CPU:{item.cpu} [LOST {item.count} EVENTS]"
    t = item.ts if ts is None else ts
    dec = item.decoder
    line = dec._lines.get(item.id) or dec.line_info(item.id)
    task = dec._tasks.get(item.pid) or dec.task_column(item.pid)
    body = line[1](item.data)
    if body[-1:] == "\n":
        body = body[:-1]
    if counter:  # libtraceevent prints raw counts as %12llu straight after the CPU column
        text = "%s [%03d]%12d: %s %s" % (task, item.cpu, t, line[0], body)
    elif ns:
        text = "%s [%03d] %5d.%09d: %s %s" % (task, item.cpu, t // 1_000_000_000, t % 1_000_000_000, line[0], body)
    else:
        text = "%s [%03d] %5d.%06d: %s %s" % (
            task,
            item.cpu,
            t // 1_000_000_000,
            t % 1_000_000_000 // 1000,
            line[0],
            body,
        )
    return f"{host}: {text}" if host else text


class Renderer:
    """Renders events of one buffer; `counter` clocks (x86-tsc, counter) print raw counts as trace-cmd does."""

    def __init__(self, meta: TraceMeta) -> None:
        self.counter = meta.trace_clock in COUNTER_CLOCKS and not meta.tsc2nsec

    def line(
        self,
        item: Union[Event, Lost],
        ts: Optional[int] = None,
        ns: bool = False,
        raw_counts: Optional[bool] = None,
        host: Optional[str] = None,
    ) -> str:
        """One report line; `raw_counts` overrides the clock's own choice of raw counts vs SECS.USECS."""
        counter = self.counter if raw_counts is None else raw_counts
        return render_line(item, ts=ts, ns=ns, counter=counter, host=host)
