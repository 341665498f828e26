"""`fleet trace`: trace-cmd's record flags, on every host a pattern selects, into one run directory."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from agent import protocol
from fleet.clocksync.align import SYNC_AUTO, SYNC_MODES
from fleet.commands.hosts import add_inventory_arg
from fleet.commands.latency import add_live_study_args, study_spec
from fleet.errors import UsageError
from fleet.inventory import load_inventory
from fleet.progress import PlainProgress, Progress
from fleet.record.reader import Run
from fleet.record.summary import print_summary, summarize
from fleet.record.writer import RunWriter
from fleet.transport import deploy
from fleet.transport.fanout import Fanout, FanoutOptions
from fleet.transport.session import DONE, SessionSettings
from fleet.transport.ssh import SshOptions
from fleet.transport.target import Target
from fleet.triggers.outcome import print_trigger_outcome
from fleet.triggers.setup import select_stop_hosts, stop_spec, trigger_config, trigger_hosts
from fleet.triggers.spec import StopSpec
from fleet.triggers.watch import TriggerWatch


class EventAction(argparse.Action):
    """-e EVENT: appends [event, None]; a following -f fills in that event's filter, as in trace-cmd."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Optional[str] = None) -> None:
        specs = getattr(namespace, "event_specs", None) or []
        specs.append([values, None])
        namespace.event_specs = specs


class FilterAction(argparse.Action):
    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Optional[str] = None) -> None:
        specs = getattr(namespace, "event_specs", None) or []
        if not specs:
            parser.error("-f FILTER applies to the -e EVENT before it; give -e first")
        if specs[-1][1] is not None:
            parser.error(f"-e {specs[-1][0]} already has a filter (-f {specs[-1][1]})")
        specs[-1][1] = values
        namespace.event_specs = specs


def add_trace_args(parser: argparse.ArgumentParser) -> None:
    """The tracing flags (trace-cmd record's names); shared with `fleet demo`."""
    parser.add_argument(
        "-e",
        dest="event_specs",
        action=EventAction,
        metavar="EVENT",
        help="event to trace: sys:event, sys, sys:* (repeatable)",
    )
    parser.add_argument("-f", action=FilterAction, metavar="FILTER", help="filter for the -e before it")
    parser.add_argument("-p", dest="tracer", metavar="TRACER", help="tracer plugin (function, function_graph, ...)")
    parser.add_argument(
        "-l",
        dest="ftrace_filter",
        action="append",
        metavar="FUNC",
        help="trace only this function (set_ftrace_filter; repeatable)",
    )
    parser.add_argument(
        "-n",
        dest="ftrace_notrace",
        action="append",
        metavar="FUNC",
        help="do not trace this function (set_ftrace_notrace; repeatable)",
    )
    parser.add_argument(
        "-g",
        dest="graph_function",
        action="append",
        metavar="FUNC",
        help="function_graph: graph only this function and what it calls (set_graph_function; repeatable)",
    )
    parser.add_argument(
        "-P",
        dest="pids",
        action="append",
        metavar="PID",
        help="trace only this task (set_event_pid, and set_ftrace_pid with -p): a pid, or a process name meaning "
        "every pid of that name on each host (repeatable)",
    )
    parser.add_argument(
        "--tracing-thresh",
        dest="tracing_thresh",
        type=int,
        metavar="US",
        help="tracing_thresh (top level): latency tracers snapshot every latency over US microseconds instead of "
        "each new maximum; function_graph keeps only calls that took longer",
    )
    parser.add_argument(
        "--trigger",
        dest="triggers",
        action="append",
        metavar="SPEC",
        help="a function trigger 'FUNC:traceoff[:N]' / 'FUNC:traceon[:N]', or an event trigger "
        "'sys:event:traceoff|snapshot|stacktrace[ if FILTER]' (repeatable)",
    )
    parser.add_argument(
        "--function-profile",
        action="store_true",
        help="run the kernel's function profiler on each host (function_profile_enabled, host-wide; it follows the "
        "top-level set_ftrace_filter: use --top-level with -l) and record its per-CPU tables; "
        "`fleet report RUN --profile` prints them per host and merged",
    )
    parser.add_argument(
        "--stack-trace",
        action="store_true",
        help="run the stack tracer on each host (stack_tracer_enabled, host-wide, maximum reset at start) and record "
        "the deepest kernel stack seen; `fleet report RUN --stack` prints it per host",
    )
    parser.add_argument("-C", dest="clock", metavar="CLOCK", help="trace clock (local, global, mono, x86-tsc, ...)")
    parser.add_argument("-b", dest="buffer_kb", type=int, metavar="KB", help="ring buffer size per CPU in KiB")
    parser.add_argument(
        "-O",
        dest="options",
        action="append",
        metavar="OPTION",
        help="trace option to set (noOPTION clears it; repeatable)",
    )
    parser.add_argument(
        "-m",
        dest="markers",
        action="append",
        default=[],
        metavar="MARKER",
        help="write this text to trace_marker on every host after start (repeatable)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "trace",
        help="trace hosts (trace-cmd record's flags) into a run directory",
        description="Trace every host PATTERN selects at once and record into one run directory. Stops after "
        "--duration or at Ctrl-C / SIGTERM. Exit code 0 when every host recorded, 1 when some failed.",
    )
    parser.add_argument(
        "--hosts",
        default="localhost",
        metavar="PATTERN",
        help="inventory host pattern (default: localhost, this machine without SSH)",
    )
    add_inventory_arg(parser)
    add_trace_args(parser)
    parser.add_argument("--duration", type=float, metavar="S", help="seconds to trace (default: until Ctrl-C)")
    parser.add_argument("-o", dest="output", type=Path, metavar="RUN", help="run directory (default: runs/<time>)")
    parser.add_argument(
        "--accept-new",
        action="store_true",
        help="accept (and record in known_hosts) keys of hosts known_hosts does not list yet",
    )
    parser.add_argument(
        "--sync-interval",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds between clock sync exchanges while tracing (default 1)",
    )
    parser.add_argument(
        "--sync",
        choices=SYNC_MODES,
        default=SYNC_AUTO,
        help="clock alignment: auto (hosts on this machine's kernel use its clock directly) or network (round "
        "trips for every host, so the estimate can be checked on its own); `fleet info --sync` can redo it",
    )
    parser.add_argument(
        "--keepalive",
        type=float,
        default=5.0,
        metavar="S",
        help="SSH keepalive interval; a dead link is noticed after 3 missed (default 5)",
    )
    parser.add_argument("--connect-timeout", type=float, default=10.0, metavar="S", help="per host (default 10)")
    parser.add_argument(
        "--max-connects", type=int, default=16, metavar="N", help="hosts connecting at the same time (default 16)"
    )
    parser.add_argument("--no-tui", action="store_true", help="plain progress lines instead of the live view")
    parser.add_argument(
        "--top-level",
        action="store_true",
        help="record the top-level buffer instead of a private instance, when no other tool uses it (programs' "
        "trace_marker writes then arrive on kernels without options/copy_trace_marker)",
    )
    add_stop_args(parser)
    add_live_study_args(parser)
    parser.set_defaults(func=run, event_specs=[])


def add_stop_args(parser: argparse.ArgumentParser) -> None:
    """Cross-host triggers and the flight recorder (fleet.triggers)."""
    group = parser.add_argument_group(
        "cross-host triggers",
        "A kernel `traceoff` trigger on EVENT in each --stop-hosts host's instance; when one fires, its agent "
        "notices within milliseconds and every other host is stopped. The run records who fired and when "
        "(RUN/trigger.json), and the propagation to each host is printed.",
    )
    group.add_argument("--stop-all-on", metavar="EVENT", help="stop every host when EVENT fires (print, sys:event)")
    group.add_argument(
        "--stop-match",
        metavar="REGEX",
        help="only print events (markers) whose text matches (literal text with . .* ^ $: the kernel's glob)",
    )
    group.add_argument("--stop-filter", metavar="EXPR", help="kernel filter on EVENT's fields, e.g. 'prev_prio < 10'")
    group.add_argument("--stop-hosts", metavar="PATTERN", help="hosts that carry the trigger (default: every host)")
    group.add_argument(
        "--stop-all-above",
        metavar="LATENCY",
        help="with a latency tracer (-p wakeup_rt, irqsoff, ...): stop every host when one records a maximum "
        "latency at or above LATENCY (e.g. 500us, 2ms)",
    )
    group.add_argument("--keep", type=float, metavar="S", help="keep only the last S seconds before the trigger")
    group.add_argument(
        "--flight-recorder",
        action="store_true",
        help="overwrite-mode buffers, read from every host only when tracing stops (a trigger, --duration, Ctrl-C)",
    )


def trace_config(args: argparse.Namespace) -> Dict[str, Any]:
    """The agent's configure map (agent/protocol.py CONFIG_KEYS) from trace-cmd style flags."""
    config: Dict[str, Any] = {}
    specs = args.event_specs or []
    if specs:
        config["events"] = [e for e, _ in specs]
        filters = {e: f for e, f in specs if f is not None}
        if filters:
            config["filters"] = filters
    if args.tracer:
        config["tracer"] = args.tracer
    if args.ftrace_filter:
        config["ftrace_filter"] = list(args.ftrace_filter)
    if args.ftrace_notrace:
        config["ftrace_notrace"] = list(args.ftrace_notrace)
    if args.graph_function:
        config["graph_function"] = list(args.graph_function)
    if getattr(args, "pids", None):
        config["event_pid"] = list(args.pids)
        if args.tracer:
            config["ftrace_pid"] = list(args.pids)
    if getattr(args, "tracing_thresh", None) is not None:
        if args.tracing_thresh <= 0:
            raise UsageError(f"--tracing-thresh {args.tracing_thresh}: give a positive number of microseconds")
        config["tracing_thresh"] = args.tracing_thresh
    if args.triggers:
        config["triggers"] = list(args.triggers)
    if args.clock:
        config["trace_clock"] = args.clock
    if args.buffer_kb is not None:
        if args.buffer_kb <= 0:
            raise UsageError(f"-b {args.buffer_kb}: the buffer size is a positive number of KiB")
        config["buffer_size_kb"] = args.buffer_kb
    if args.options:
        config["options"] = list(args.options)
    if getattr(args, "function_profile", False):
        config["function_profile"] = True
    if getattr(args, "stack_trace", False):
        config["stack_trace"] = True
    if not any(config.get(k) for k in ("events", "tracer", "function_profile", "stack_trace")):
        raise UsageError(
            "nothing to trace: give -e EVENT (e.g. -e sched:sched_switch), -p TRACER, --function-profile or "
            "--stack-trace"
        )
    return config


def default_run_dir() -> Path:
    return Path("runs") / time.strftime("%Y%m%d-%H%M%S")


def session_name() -> str:
    """Names the agents' tracefs instances (fleet-<session>-pid...): short, unique, instance-name safe."""
    return f"{time.strftime('%H%M%S')}-{secrets.token_hex(3)}"


@dataclass
class TraceRequest:
    """Everything one trace needs, whether from `fleet trace` or `fleet demo`."""

    targets: List[Target]
    config: Dict[str, Any]
    output: Path
    markers: List[str] = field(default_factory=list)
    duration: Optional[float] = None
    sync_interval: float = 1.0
    ssh: SshOptions = field(default_factory=SshOptions)
    max_connects: int = 16
    command: List[str] = field(default_factory=list)
    stop: StopSpec = field(default_factory=StopSpec)
    sync: str = SYNC_AUTO
    host_clocks: Dict[str, str] = field(default_factory=dict)
    """Host -> trace clock overriding config["trace_clock"] (the inventory's fleet_trace_clock)."""


@contextlib.contextmanager
def agent_build(targets: Sequence[Target]) -> Iterator[Optional[deploy.AgentBuild]]:
    """The agent zipapp, built once per run, only when some host is reached over SSH."""
    if all(t.is_local for t in targets):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="fleet-agent-") as tmp:
        yield deploy.build_agent(Path(tmp))


def execute(
    req: TraceRequest,
    progress: Progress,
    create_writer: Callable[..., RunWriter] = RunWriter.create,
    on_fanout: Optional[Callable[[Fanout], None]] = None,
    signals: bool = True,
) -> Path:
    """Record the run; returns its directory. Host failures are recorded, not raised.

    Front ends take part through the hooks: `create_writer` (the dashboard taps what is written), `on_fanout` (called
    in the coordinator's loop once the sessions exist: the dashboard's keys reach them) and `signals` (SIGINT/SIGTERM
    stop the hosts; off where the caller is not the main thread).
    """
    session = session_name()
    # The manifest's config is the agents' map plus how to align; agents get only their own keys.
    recorded: Dict[str, Any] = {**req.config, "sync": req.sync}
    if req.host_clocks:
        recorded["host_clocks"] = dict(req.host_clocks)
    writer = create_writer(req.output, recorded, req.markers, req.command, session, protocol.PROTOCOL_VERSION)
    host_config: Dict[str, Dict[str, Any]] = {name: {"trace_clock": clock} for name, clock in req.host_clocks.items()}
    for name in trigger_hosts(req):
        host_config.setdefault(name, {}).update(trigger_config(req.stop))
    settings = SessionSettings(session, req.config, req.markers, host_config, sync_interval=req.sync_interval)
    settings.defer_reading = req.stop.flight_recorder
    with agent_build(req.targets) as build:
        try:
            asyncio.run(_trace(req, writer, settings, progress, build, on_fanout, signals))
        finally:
            writer.close()
    return req.output


async def _trace(
    req: TraceRequest,
    writer: RunWriter,
    settings: SessionSettings,
    progress: Progress,
    build: Optional[deploy.AgentBuild],
    on_fanout: Optional[Callable[[Fanout], None]],
    signals: bool,
) -> None:
    fanout = Fanout(req.targets, writer, settings, FanoutOptions(req.ssh, req.max_connects), progress, build)
    if on_fanout is not None:
        on_fanout(fanout)
    if req.stop.active:
        watch = TriggerWatch(
            req.stop, set(trigger_hosts(req)), fanout.stop, writer.path, progress.line, fanout.sessions
        )
        for session in fanout.sessions:
            session.on_event = watch.on_event
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    interrupts = 0

    def on_signal(signame: str) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            progress.line(f"{signame}: stopping every host (again to abort)")
            fanout.stop.set()
        elif main is not None:
            progress.line(f"{signame} again: aborting; the run keeps what was recorded")
            main.cancel()

    handled = (signal.SIGINT, signal.SIGTERM) if signals else ()
    for signum in handled:
        loop.add_signal_handler(signum, on_signal, signal.Signals(signum).name)

    async def announce_start() -> None:
        await fanout.started()
        writer.mark_started()
        if req.duration is None and not fanout.stop.is_set():
            progress.line("tracing; Ctrl-C to stop")

    announcer = asyncio.ensure_future(announce_start())
    try:
        await fanout.run_all(req.duration)
    except asyncio.CancelledError:
        pass
    finally:
        announcer.cancel()
        for signum in handled:
            loop.remove_signal_handler(signum)


def targets_for(pattern: str, inventories: Optional[List[Path]]) -> List[Target]:
    return [Target.from_host(h) for h in load_inventory(inventories).select(pattern)]


def host_clocks_for(pattern: str, inventories: Optional[List[Path]]) -> Dict[str, str]:
    """Host -> trace clock for the selected hosts whose inventory sets fleet_trace_clock (it overrides -C)."""
    return {h.name: h.trace_clock for h in load_inventory(inventories).select(pattern) if h.trace_clock}


def report_outcome(path: Path, stream: Any = None) -> int:
    """Print the summary table of the run at `path`; 0 when every host recorded to the end, else 1."""
    stream = stream or sys.stdout
    run_ = Run.open(path)
    rows = summarize(run_)
    print(file=stream)
    print_summary(rows, stream)
    failed = [r for r in rows if r.state != DONE]
    print(f"\nrun: {path}   (fleet report {path})", file=stream)
    return 1 if failed else 0


def run(args: argparse.Namespace) -> int:
    config = trace_config(args)
    if args.top_level:
        config["top_level"] = True
    if args.duration is not None and args.duration <= 0:
        raise UsageError("--duration must be positive")
    if args.sync_interval <= 0:
        raise UsageError("--sync-interval must be positive")
    targets = targets_for(args.hosts, args.inventory)
    keepalive = max(0.1, args.keepalive)
    req = TraceRequest(
        targets=targets,
        config=config,
        output=args.output or default_run_dir(),
        markers=list(args.markers),
        duration=args.duration,
        sync_interval=args.sync_interval,
        ssh=SshOptions(args.connect_timeout, keepalive, 2, args.accept_new),
        max_connects=args.max_connects,
        command=["fleet", *sys.argv[1:]] if sys.argv else [],
        sync=args.sync,
        host_clocks=host_clocks_for(args.hosts, args.inventory),
        stop=stop_spec(args, config),
    )
    if req.stop.active:
        req.stop.hosts = ",".join(select_stop_hosts(args.stop_hosts, targets, args.inventory))
    study = study_spec(args, [t.name for t in targets], args.inventory, "study-")
    if not args.no_tui and os.isatty(sys.stdout.fileno()):
        from fleet.tui.live import trace_with_dashboard

        path = trace_with_dashboard(req, study)
    else:
        if study is not None:
            print(
                "fleet: the live study shows in the dashboard only; run `fleet latency RUN` on the run", file=sys.stderr
            )
        progress = PlainProgress(sys.stdout)
        progress.line(f"{len(targets)} host(s): {', '.join(t.name for t in targets)} -> {req.output}")
        path = execute(req, progress)
    code = report_outcome(path)
    if req.stop.active:
        print_trigger_outcome(path, req.stop)
    return code
