"""The request loop: frames from stdin, replies and the data stream on stdout (serialized by one Writer)."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from agent import latency, profile, protocol
from agent.cleanup import Terminated, ignore_signals, install_handlers, start_worker
from agent.codec import make_codec
from agent.configure import Setup, configure
from agent.credits import Credits
from agent.errors import AgentError
from agent.instance import instance_name, remove_stale
from agent.metadata import build_metadata, cpu_stats, subbuf_size
from agent.probe import header_page_sizes, probe
from agent.reader import CpuReader, PageLayout, ReaderOptions
from agent.sync import sync_sample, sync_text, write_marker
from agent.tracefs import Tracefs, find_tracefs, os_error
from agent.wire import WireClosed, Writer, read_frames_stamped

MONITOR_INTERVAL = 0.2  # seconds between checks of tracing_on while running (a traceoff trigger may fire)
TRIGGER_INTERVAL = 0.005  # the same with triggers or a latency threshold configured: other hosts wait on us


def read_int(buf: Tracefs, rel: str) -> int:
    try:
        return int(buf.read(rel).split()[0])
    except (IndexError, ValueError):
        return 0


def log(message: str) -> None:
    print(f"fleet-agent[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


class Server:
    """One agent session: hello, configure, start/stop (any number of times), shutdown."""

    def __init__(self, in_fd: int, out_fd: int, tracefs_root: Optional[str] = None) -> None:
        self.in_fd = in_fd
        self.writer = Writer(out_fd)
        self.tracefs_root = tracefs_root
        self.top: Optional[Tracefs] = None
        self.caps: Dict[str, Any] = {}
        self.session = ""
        self.setup: Optional[Setup] = None
        self.config: Dict[str, Any] = {}
        self.marker_fd: Optional[int] = None
        self.credits = Credits()
        self.readers: List[CpuReader] = []
        self.state = "new"  # new -> ready (after hello) -> configured -> running -> stopping -> configured
        self.sync_n = 0
        self.rx_ns = 0  # CLOCK_MONOTONIC when the request being handled was read (NTP's receive timestamp)
        self.lock = threading.Lock()  # guards state changes made by the stop thread
        self.monitor_stop = threading.Event()
        self.reader_options = ReaderOptions()
        self.deferred = False  # flight recorder: the buffer is read only at stop
        self.profile_undo: List[Callable[[], None]] = []  # host-wide profiler / stack tracer, put back at teardown
        self.done = False

    # -- plumbing --

    def send(self, kind: str, /, **fields: Any) -> None:
        self.writer.send(protocol.frame(kind, **fields))

    def reply_error(self, req_id: Any, code: str, message: str) -> None:
        fields: Dict[str, Any] = {"code": code, "message": message}
        if req_id is not None:
            fields["id"] = req_id
        self.send(protocol.ERROR, **fields)

    def serve(self) -> int:
        """Run until shutdown, stdin EOF or a terminating signal; always restore the host."""
        install_handlers()
        code = 0
        try:
            for req, rx in read_frames_stamped(self.in_fd):
                self.rx_ns = rx
                self.dispatch(req)
                if self.done:
                    break
        except Terminated as exc:
            log(str(exc))
            code = 128 + exc.signum
        except WireClosed:
            log("coordinator closed the output pipe")
        finally:
            ignore_signals()
            self.teardown()
        return code

    def dispatch(self, req: Any) -> None:
        req_id = req.get("id") if isinstance(req, dict) else None
        kind = req.get("t") if isinstance(req, dict) else None
        handler: Optional[Callable[[Dict[str, Any]], None]] = getattr(self, f"on_{kind}", None)
        if kind not in protocol.REQUESTS or handler is None:
            self.reply_error(req_id, protocol.E_BAD_REQUEST, f"unknown request type {kind!r}")
            return
        try:
            handler(req)
        except AgentError as exc:
            self.reply_error(req_id, exc.code, exc.message)
        except (KeyError, TypeError, ValueError) as exc:
            self.reply_error(req_id, protocol.E_BAD_REQUEST, f"{kind}: malformed request ({exc!r})")
        except (Terminated, WireClosed):
            raise
        except Exception as exc:  # report agent bugs to the coordinator instead of dying mid-trace
            self.reply_error(req_id, protocol.E_INTERNAL, f"{kind}: {type(exc).__name__}: {exc}")

    def need_state(self, kind: str, *states: str) -> None:
        if self.state not in states:
            raise AgentError(protocol.E_BAD_REQUEST, f"{kind} is not allowed in state {self.state!r}")

    # -- requests --

    def on_hello(self, req: Dict[str, Any]) -> None:
        if req.get("version") != protocol.PROTOCOL_VERSION:
            raise AgentError(
                protocol.E_VERSION,
                f"protocol version {req.get('version')!r} requested, this agent speaks {protocol.PROTOCOL_VERSION}",
            )
        self.need_state("hello", "new")
        self.session = str(req["session"])
        instance_name(self.session, os.getpid())  # validates the session name
        self.top = Tracefs(self.tracefs_root or find_tracefs())
        removed = remove_stale(self.top)
        for name in removed:
            log(f"removed stale instance {name}")
        self.caps = probe(self.top)
        self.caps["stale_removed"] = removed
        self.caps["pid"] = os.getpid()
        self.state = "ready"
        self.send(protocol.CAPABILITIES, id=req["id"], **self.caps)

    def on_configure(self, req: Dict[str, Any]) -> None:
        self.need_state("configure", "ready", "configured")
        config = req.get("config") or {}
        if not isinstance(config, dict):
            raise AgentError(protocol.E_BAD_REQUEST, "configure: config must be a map")
        assert self.top is not None
        self.release_buffer()
        self.state = "ready"
        setup = configure(self.top, instance_name(self.session, os.getpid()), config, self.caps)
        try:
            marker_path = setup.buf.path("trace_marker")
            try:
                self.marker_fd = os.open(marker_path, os.O_WRONLY)
            except OSError as exc:
                raise os_error("open", marker_path, exc) from None
            meta = build_metadata(self.top, setup.buf, setup.name, make_codec(), bool(config.get("kallsyms", True)))
        except BaseException:
            self.setup = setup
            self.release_buffer()
            raise
        self.setup = setup
        self.config = config
        self.state = "configured"
        self.send(protocol.METADATA, **meta)
        self.send(
            protocol.OK,
            id=req["id"],
            instance=setup.name,
            path=setup.buf.root,
            top_level=setup.top_level,
            notices=setup.notices,
        )

    def layout(self, buf: Tracefs) -> PageLayout:
        sizes = header_page_sizes(buf.read("events/header_page"))
        return PageLayout(
            commit_offset=sizes.get("commit_offset", 8),
            commit_size=sizes.get("commit_size", 8),
            data_offset=sizes.get("data_offset", 16),
            subbuf_size=subbuf_size(buf),
            long_size=int(self.caps.get("long_size", 8)),
            byteorder=("big" if self.caps.get("big_endian") else "little"),
        )

    def on_start(self, req: Dict[str, Any]) -> None:
        self.need_state("start", "configured")
        assert self.setup is not None
        buf = self.setup.buf
        layout = self.layout(buf)
        assert self.top is not None
        self.release_profile()
        self.profile_undo = profile.start(self.top, self.config)
        self.credits.reset(int(req.get("credits", protocol.INITIAL_CREDITS)))
        self.readers = [
            CpuReader(
                cpu,
                buf.path(f"per_cpu/cpu{cpu}/trace_pipe_raw"),
                layout,
                self.writer,
                self.credits,
                make_codec(),
                self.reader_options,
                self.reader_failed,
            )
            for cpu in buf.cpus()
        ]
        buf.write("tracing_on", "1")
        # After tracing_on: an armed trigger fires whether or not the buffer records, so armed earlier a
        # 'snapshot:1' or 'stacktrace:1' would be spent on an empty buffer.
        self.setup.arm_triggers()
        self.state = "running"
        self.deferred = bool(req.get("defer", False))
        self.send(protocol.OK, id=req["id"])
        if not self.deferred:
            for reader in self.readers:
                reader.start()
        self.monitor_stop.clear()
        start_worker(threading.Thread(target=self.monitor, name="monitor", daemon=True))

    def on_stop(self, req: Dict[str, Any]) -> None:
        self.need_state("stop", "running")
        assert self.setup is not None
        self.monitor_stop.set()
        self.setup.buf.write("tracing_on", "0")
        self.state = "stopping"
        # The final drain may need credits, which arrive on stdin: finish in a thread, keep reading requests.
        start_worker(threading.Thread(target=self.finish_stop, args=(req["id"],), name="stop", daemon=True))

    def finish_stop(self, req_id: Any) -> None:
        try:
            for reader in self.readers:
                reader.finish()
                if self.deferred:  # flight recorder: the first and only read is this final drain
                    reader.start()
            for reader in self.readers:
                reader.join()
            assert self.setup is not None and self.top is not None
            self.report_trigger_snapshot()
            end = self.end_stats(self.setup.buf)
            end.update(profile.results(self.top, self.config))
            self.release_profile()
            with self.lock:
                self.readers = []
                self.state = "configured"
            self.send(protocol.METADATA_END, **end)
            self.send(protocol.OK, id=req_id)
        except WireClosed:
            pass
        except AgentError as exc:
            self.reply_error(req_id, exc.code, exc.message)

    def end_stats(self, buf: Tracefs) -> Dict[str, Any]:
        per_cpu: Dict[str, Dict[str, Any]] = {}
        for cpu in buf.cpus():
            per_cpu[str(cpu)] = cpu_stats(buf, cpu)
        for reader in self.readers:
            per_cpu.setdefault(str(reader.cpu), {}).update(reader.tally.as_dict())
            per_cpu[str(reader.cpu)]["frames_seq"] = reader.seq
        return {
            "saved_cmdlines": self.top.read("saved_cmdlines") if self.top else "",
            "saved_tgids": self.top.read("saved_tgids") if self.top and self.top.exists("saved_tgids") else "",
            "per_cpu": per_cpu,
        }

    def on_sync(self, req: Dict[str, Any]) -> None:
        self.need_state("sync", "ready", "configured", "running", "stopping")
        fd = self.marker_fd if req.get("marker", True) else None
        if fd is not None and self.setup is not None and self.setup.buf.read("tracing_on").strip() == "0":
            fd = None  # a traceoff trigger stopped the buffer: a marker write would fail (EBADF); clocks only
        text = sync_text(self.session, self.sync_n)
        path = self.setup.buf.path("trace_marker") if self.setup else ""
        sample = sync_sample(fd, path, text)
        sample["n"] = self.sync_n
        sample["host_rx"] = self.rx_ns
        self.sync_n += 1
        # host_tx is read once the output pipe is ours: time spent queued behind a data frame is not host time.
        self.writer.send_stamped(protocol.frame(protocol.SYNC_SAMPLE, id=req["id"], **sample), "host_tx")

    def on_marker(self, req: Dict[str, Any]) -> None:
        self.need_state("marker", "configured", "running", "stopping")
        assert self.setup is not None and self.marker_fd is not None
        write_marker(self.marker_fd, self.setup.buf.path("trace_marker"), str(req["text"]))
        self.send(protocol.OK, id=req["id"])

    def on_status(self, req: Dict[str, Any]) -> None:
        per_cpu: Dict[str, Dict[str, Any]] = {}
        if self.setup is not None:
            for cpu in self.setup.buf.cpus():
                per_cpu[str(cpu)] = cpu_stats(self.setup.buf, cpu)
            for reader in list(self.readers):
                per_cpu.setdefault(str(reader.cpu), {}).update(reader.tally.as_dict())
        self.send(
            protocol.STATS,
            id=req.get("id"),
            state=self.state,
            credits=self.credits.value,
            instance=self.setup.name if self.setup else None,
            per_cpu=per_cpu,
        )

    def on_credit(self, req: Dict[str, Any]) -> None:
        self.credits.grant(int(req["frames"]))

    def on_shutdown(self, req: Dict[str, Any]) -> None:
        self.teardown()
        self.send(protocol.OK, id=req["id"])
        self.done = True

    # -- background --

    def reader_failed(self, cpu: int, message: str) -> None:
        try:
            self.send(protocol.EVENT, kind=protocol.EV_READER, message=f"cpu{cpu}: {message}", cpu=cpu)
        except WireClosed:
            pass

    def monitor(self) -> None:
        """Report a traceoff trigger (tracing_on dropped to 0 while running) once, and each new maximum latency
        a latency tracer records (with a tracing_thresh: each latency over it)."""
        setup = self.setup
        if setup is None:
            return
        config = self.config
        urgent = bool(config.get("triggers")) or "tracing_thresh" in config
        interval = TRIGGER_INTERVAL if urgent else MONITOR_INTERVAL
        lat_tracer = latency.is_latency_tracer(config)
        watch_max = ("tracing_thresh" in config or lat_tracer) and setup.buf.exists("tracing_max_latency")
        # With tracing_thresh the kernel reports every latency over it into tracing_max_latency, larger or not:
        # the agent zeroes it after each one, so any non-zero value is a new latency.
        thresh = int(config.get("tracing_thresh") or 0) if lat_tracer else 0
        if watch_max and lat_tracer:
            try:
                latency.reset_max(setup.buf)
            except AgentError:
                pass
        last_max = read_int(setup.buf, "tracing_max_latency") if watch_max else 0
        while not self.monitor_stop.wait(interval):
            try:
                on = setup.buf.read("tracing_on").strip()
                now_max = read_int(setup.buf, "tracing_max_latency") if watch_max else 0
                if thresh and now_max:
                    latency.reset_max(setup.buf)
            except AgentError:
                return
            try:
                if watch_max and now_max > last_max and self.state == "running":
                    last_max = 0 if thresh else now_max
                    self.report_latency(now_max, thresh)
                if on == "0" and self.state == "running":
                    message = f"tracing_on in {setup.buf.root} dropped to 0 (a traceoff trigger fired?)"
                    at = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
                    self.send(protocol.EVENT, kind=protocol.EV_TRIGGER, message=message, at=at)
                    return
            except WireClosed:
                return

    def report_latency(self, usecs: int, thresh: int) -> None:
        """An EV_MAX_LATENCY frame, with the kernel's snapshot when a latency tracer took one."""
        assert self.setup is not None
        at = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        what = f"latency {usecs} us over tracing_thresh {thresh} us" if thresh else f"new maximum latency {usecs} us"
        extra: Dict[str, Any] = {"thresh": thresh} if thresh else {}
        if latency.is_latency_tracer(self.config):
            tracer = str(self.config["tracer"])
            try:
                extra.update(latency.settled_snapshot(self.setup.buf, tracer, usecs))
            except AgentError as exc:
                extra.update(tracer=tracer, error=exc.message)
        message = f"{what} in {self.setup.buf.root}"
        self.send(protocol.EVENT, kind=protocol.EV_MAX_LATENCY, message=message, at=at, usecs=usecs, **extra)

    def report_trigger_snapshot(self) -> None:
        """At stop, the snapshot a `snapshot` event trigger took (the kernel keeps the latest), as EV_SNAPSHOT."""
        setup = self.setup
        if setup is None or not setup.snapshot_triggers:
            return
        at = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        triggers = [spec for spec, _ in setup.snapshot_triggers]
        try:
            snap = latency.trigger_snapshot(setup.buf, setup.spent_snapshot_trigger())
        except AgentError as exc:
            snap = {"error": exc.message}
        if snap is None:
            return
        message = f"snapshot taken by {', '.join(triggers)} in {setup.buf.root}"
        self.send(protocol.EVENT, kind=protocol.EV_SNAPSHOT, message=message, at=at, triggers=triggers, **snap)

    # -- teardown --

    def release_profile(self) -> None:
        for err in profile.restore(self.profile_undo):
            log(f"teardown: {err}")

    def release_buffer(self) -> None:
        """Stop readers, close our files in the buffer and remove/restore it."""
        self.monitor_stop.set()
        self.release_profile()
        if self.setup is not None:
            try:
                self.setup.buf.write("tracing_on", "0")
            except AgentError:
                pass
        self.credits.cancel()
        for reader in self.readers:
            reader.abort()
        for reader in self.readers:
            reader.join()
        self.readers = []
        if self.marker_fd is not None:
            os.close(self.marker_fd)
            self.marker_fd = None
        if self.setup is not None:
            for err in self.setup.teardown():
                log(f"teardown: {err}")
            self.setup = None

    def teardown(self) -> None:
        self.release_buffer()
        self.state = "ready" if self.top else "new"
