"""The wire protocol between the fleet coordinator and an agent, defined once for both sides.

Transport: a stream of msgpack maps (no extra length prefix: msgpack is self-delimiting) on the agent's stdin
(requests) and stdout (replies and the data stream), so the agent runs unchanged under `ssh host python3 agent.pyz`
or as a local subprocess. stderr is free text for logs and is never parsed.

Every frame is a map with the key "t" naming its type. A request carries an integer "id"; every direct reply to it
echoes that "id" ("ok", "error", "capabilities", "sync", "stats", ...). Stream frames ("data", "metadata", "event")
carry no id.

Requests (coordinator -> agent):
  hello     {version, session}              -> capabilities (or error "version")
  configure {config: TraceConfig-as-dict}   -> ok {instance} | error
  start     {}                              -> ok; then the data stream runs
  stop      {}                              -> (final drain: data frames) then metadata_end, then ok
  sync      {marker: bool}                  -> sync {mono_before, mono_after, realtime, marker}
  marker    {text}                          -> ok
  status    {}                              -> stats
  credit    {frames}                        -> (no reply) allows that many more data frames
  shutdown  {}                              -> ok, then the agent restores the host and exits

Stream (agent -> coordinator):
  metadata      after configure: the texts of a trace.dat header (see METADATA_KEYS), kallsyms zstd/zlib-compressed
  data          {cpu, seq, codec, payload, pages, raw_bytes}: payload decompresses to `pages` ring-buffer pages, each
                truncated to its used part (see below); seq counts data frames per CPU from 0 without gaps
  metadata_end  {saved_cmdlines, saved_tgids, per_cpu: {cpu: {entries, overrun, commit_overrun, dropped_events,
                read_events, bytes}}} after the final drain of a stop
  event         {kind, message, ...}: something noteworthy happened on the host (trigger fired, tracing_on
                dropped to 0, reader error); kind is one of EVENT_KINDS
  error         {id?, code, message}: a request failed, or (without id) the agent hit a fatal condition

Page truncation: a page is sent as its header plus `commit` bytes of data (flags masked off), plus one `long` when
the commit flags say RB_MISSED_STORED (the kernel stores the missed-event count right after the data). The receiver
finds each page's length from its own header, so pages are simply concatenated.

Flow control: the agent may send data frames only while it holds credits; the coordinator grants INITIAL_CREDITS at
start and more with "credit" as it consumes. Without credits the agent stops reading the ring buffer, the kernel
overwrites (or drops) events, and the loss is reported in the page flags and in per-CPU stats, never hidden.
"""

from __future__ import annotations

from typing import Any, Dict

PROTOCOL_VERSION = 1

# Request types
HELLO = "hello"
CONFIGURE = "configure"
START = "start"
STOP = "stop"
SYNC = "sync"
MARKER = "marker"
STATUS = "status"
CREDIT = "credit"
SHUTDOWN = "shutdown"
REQUESTS = (HELLO, CONFIGURE, START, STOP, SYNC, MARKER, STATUS, CREDIT, SHUTDOWN)

# Reply and stream types
OK = "ok"
ERROR = "error"
CAPABILITIES = "capabilities"
SYNC_SAMPLE = "sync"
STATS = "stats"
METADATA = "metadata"
METADATA_END = "metadata_end"
DATA = "data"
EVENT = "event"

# Codecs of data payloads and compressed metadata
CODEC_ZSTD = "zstd"
CODEC_ZLIB = "zlib"

# Error codes
E_VERSION = "version"  # protocol version mismatch
E_BAD_REQUEST = "bad_request"  # unknown type, missing field, wrong state
E_PERMISSION = "permission"  # the kernel answered EPERM/EACCES (lockdown, not root)
E_UNSUPPORTED = "unsupported"  # the kernel lacks a file, tracer, clock or event
E_INVALID = "invalid"  # the kernel refused a value (EINVAL): bad filter, glob matching nothing
E_BUSY = "busy"  # the top-level buffer is in use by someone else
E_IO = "io"  # any other OS error
E_INTERNAL = "internal"  # a bug in the agent

# Kinds of "event" frames
EV_TRIGGER = "trigger"  # tracing_on in the instance dropped to 0 (a traceoff trigger fired)
EV_READER = "reader"  # a per-CPU reader failed
EV_MAX_LATENCY = "max_latency"  # a latency tracer recorded a new maximum

INITIAL_CREDITS = 64

# Keys of the metadata frame; they mirror fleet.ftrace.meta.TraceMeta's fields of the same names.
METADATA_KEYS = (
    "header_page",
    "header_event",
    "ftrace_formats",  # list of format texts
    "event_formats",  # {system: [format texts]}
    "kallsyms",  # compressed with "kallsyms_codec"
    "kallsyms_codec",
    "printk_formats",
    "big_endian",
    "long_size",
    "page_size",
    "cpus",
    "trace_clock",
    "uname",
    "buffer_name",
)


def frame(kind: str, **fields: Any) -> Dict[str, Any]:
    """Build a frame of type `kind`; the one constructor both sides use so keys stay consistent."""
    out: Dict[str, Any] = {"t": kind}
    out.update(fields)
    return out

# Keys of the "config" map of a configure request. All are optional; absent means "leave the kernel default".
CONFIG_KEYS = {
    "events": "list of set_event strings: 'sys:event', 'sys:*', 'sys', '*:*', or '!sys:event' to disable",
    "filters": "{'sys:event' or 'sys': filter expression}",
    "triggers": "list of 'sys:event:TRIGGER' (event triggers, e.g. 'sched:sched_switch:traceoff') "
    "or 'func:traceon|traceoff[:N]' (function triggers, written to set_ftrace_filter)",
    "options": "list of trace option names; 'noNAME' clears one",
    "buffer_size_kb": "int, per CPU",
    "trace_clock": "str",
    "tracer": "str, the current_tracer plugin ('nop' by default)",
    "ftrace_filter": "list of globs for set_ftrace_filter (appended in order)",
    "ftrace_notrace": "list of globs for set_ftrace_notrace",
    "ftrace_pid": "list of pids for set_ftrace_pid",
    "graph_function": "list of globs for set_graph_function",
    "tracing_thresh": "int, microseconds",
    "buffer_percent": "int, 0-100: how full a page set must be before a blocked reader wakes",
    "copy_trace_marker": "bool (default true): copy top-level trace_marker writes into the instance",
}
