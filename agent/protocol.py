"""The wire protocol between the fleet coordinator and an agent, defined once for both sides.

Transport: a stream of msgpack maps (no extra length prefix: msgpack is self-delimiting) on the agent's stdin
(requests) and stdout (replies and the data stream), so the agent runs unchanged under `ssh host python3 agent.pyz`
or as a local subprocess. stderr is free text for logs and is never parsed.

Every frame is a map with the key "t" naming its type. A request carries an integer "id"; every direct reply to it
echoes that "id" ("ok", "error", "capabilities", "sync", "stats", ...). Stream frames ("data", "metadata", "event")
carry no id.

Requests (coordinator -> agent):
  hello     {version, session}              -> capabilities (or error "version")
  configure {config: TraceConfig-as-dict}   -> metadata, then ok {instance, path, top_level, notices} | error
  start     {credits?, defer?}              -> ok; then the data stream runs (credits: the initial grant,
                                               INITIAL_CREDITS when absent; defer: flight recorder, the
                                               buffer runs in overwrite mode and is read only at stop)
  stop      {}                              -> (final drain: data frames) then metadata_end, then ok
  sync      {marker: bool}                  -> sync {mono_before, mono_after, realtime, realtime_before,
                                               realtime_after, marker, n, host_rx, host_tx}
  marker    {text}                          -> ok
  status    {}                              -> stats
  credit    {frames}                        -> (no reply) allows that many more data frames
  shutdown  {}                              -> ok, then the agent restores the host and exits

Details of the replies:
  capabilities  see CAPABILITY_KEYS; "refusals" maps what the kernel refused when probed (e.g. "tracer:function",
                "set_ftrace_filter") to a one-line message naming the file and the kernel's answer; "notices" are
                sentences for a person (zlib fallback, no copy_trace_marker, top-level tracing_on is 0).
  ok (configure) instance: the instance name ("" when a top-level-only tracer forced the top-level buffer), path:
                its tracefs directory, top_level: bool, notices: list of sentences.
  sync          the clocks are CLOCK_MONOTONIC / CLOCK_REALTIME in ns, read just before and just after the write of
                the marker text `fleet-sync <session> <n>` (SYNC_PREFIX) to the instance's trace_marker; "marker" is
                that text, or None when the request said marker=false (clocks only); "realtime" is the midpoint.
                n counts sync requests of this agent from 0. host_rx / host_tx (CLOCK_MONOTONIC ns, added without a
                version bump: older agents omit them) are NTP's receive and transmit timestamps: when the read that
                completed the request returned, and right before the reply's write (after any wait for the pipe),
                so host_rx <= mono_before <= mono_after <= host_tx and the agent's own work can be taken out.
  stats         {state, credits, instance, per_cpu: {cpu: kernel stats + the agent's tallies}} (see metadata_end).
  The agent may be configured again after a stop (a fresh instance replaces the old one) and started again; the
  data frames' seq restart at 0 on every start.

Stream (agent -> coordinator):
  metadata      after configure: the texts of a trace.dat header (see METADATA_KEYS), kallsyms zstd/zlib-compressed;
                also "events": the 'sys:event' list enabled in the buffer
  data          {cpu, seq, codec, payload, pages, raw_bytes}: payload decompresses to `pages` ring-buffer pages, each
                truncated to its used part (see below); seq counts data frames per CPU from 0 without gaps
                `raw_bytes` is the length of the decompressed payload.
  metadata_end  {saved_cmdlines, saved_tgids, per_cpu: {cpu: {entries, overrun, commit_overrun, dropped_events,
                read_events, bytes}}} after the final drain of a stop. per_cpu also carries the kernel's stats keys
                as they are spelled in per_cpu/cpuN/stats (spaces -> "_", e.g. oldest_event_ts, now_ts) and the
                agent's tallies: sent_frames, sent_pages, sent_raw_bytes, sent_bytes (compressed), missed_events (the
                sum of the missed-event counts stored in the pages sent), missed_unknown_pages (pages flagged
                RB_MISSED_EVENTS without a stored count), frames_seq (next seq, = sent_frames). The per_cpu keys are
                the CPU numbers as strings ("0", "1", ...), so default msgpack unpackers (strict_map_key) accept them.
                With config function_profile: "function_profile" {cpu (string): the text of trace_stat/function<cpu>}
                (columns Function, Hit, Time, Avg, s^2). With config stack_trace: "stack_max" {size: stack_max_size
                in bytes, trace: the stack_trace text}. Both were added without a version bump (absent otherwise).
  event         {kind, message, ...}: something noteworthy happened on the host (trigger fired, tracing_on
                dropped to 0, reader error); kind is one of EVENT_KINDS
  error         {id?, code, message}: a request failed, or (without id) the agent hit a fatal condition

Page truncation: a page is sent as its header plus `commit` bytes of data (commit with the flag bits 31 and 30 masked
off gives the length; the header itself is sent unchanged, flags included), plus one `long` when the commit flags say
RB_MISSED_STORED (the kernel stores the missed-event count right after the data). Pages are whole: never split
across data frames. The receiver
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
EV_MAX_LATENCY = "max_latency"  # a latency tracer recorded a new maximum (or, with tracing_thresh, a latency over it)
EV_SNAPSHOT = "snapshot"  # the buffer's snapshot, taken by a `snapshot` event trigger (sent at stop)
# event frames: {kind, message}; EV_READER adds "cpu", EV_TRIGGER adds "at" (CLOCK_MONOTONIC ns when noticed),
# EV_MAX_LATENCY adds "at" and "usecs" (the new tracing_max_latency; watched whenever a latency tracer runs), and
# "thresh" (us) when a tracing_thresh makes the kernel report every latency over it rather than each new maximum;
# EV_SNAPSHOT adds "at", "text" (the kernel's `snapshot` file), "truncated" and "triggers" (the snapshot triggers).
# With triggers or tracing_thresh configured, tracing_on is checked every few ms instead of every 0.2 s.

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


def frame(kind: str, /, **fields: Any) -> Dict[str, Any]:
    """Build a frame of type `kind`; the one constructor both sides use so keys stay consistent.
    (`kind` is positional-only so an "event" frame can carry a field named kind.)"""
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
    "ftrace_pid": "list of pids for set_ftrace_pid; a name instead of a number means every pid whose comm is that "
    "name on the host (none is an error)",
    "event_pid": "list of pids (or names, as ftrace_pid) for set_event_pid: events only of these tasks",
    "graph_function": "list of globs for set_graph_function",
    "tracing_thresh": "int, microseconds (top level only, so it implies top_level): latency tracers then report "
    "every latency over it, function_graph shows only calls that took longer",
    "buffer_percent": "int, 0-100: how full a page set must be before a blocked reader wakes",
    "copy_trace_marker": "bool (default true): copy top-level trace_marker writes into the instance",
    "top_level": "bool (default false): use the top-level buffer (implied by a tracer only the top level has); "
    "refused with 'busy' if someone else uses it; every file touched is restored afterwards",
    "kallsyms": "bool (default true): send /proc/kallsyms (compressed) in the metadata frame",
    "function_profile": "bool: run the kernel's function profiler (top-level function_profile_enabled, host-wide) "
    "from start to stop; its trace_stat/function<N> texts come in metadata_end",
    "stack_trace": "bool: run the stack tracer (/proc/sys/kernel/stack_tracer_enabled, host-wide, stack_max_size "
    "reset at start); stack_max_size and stack_trace come in metadata_end",
}

# Keys of the capabilities reply (besides "t" and "id").
CAPABILITY_KEYS = (
    "agent_version",
    "protocol_version",
    "python",
    "pid",  # the agent's pid (its instance name ends in -pid<PID>-<start time>)
    "kernel",  # uname release
    "uname",
    "arch",
    "big_endian",
    "long_size",
    "page_size",
    "subbuf_size",  # bytes per ring-buffer page (from events/header_page)
    "cpus",  # number of per_cpu directories
    "online_cpus",
    "tracefs",  # mount point
    "tracers",  # available_tracers at the top level
    "instance_tracers",  # tracers an instance offers
    "top_level_only_tracers",
    "clocks",
    "trace_clock",  # the top level's current clock
    "events",  # number of available events
    "boot_id",
    "tracing_on",  # top-level tracing_on (False: an earlier tool left it off)
    "copy_trace_marker",  # bool: the kernel has options/copy_trace_marker
    "disable_on_free",  # bool: the kernel has options/disable_on_free (SIGKILL guard)
    "codec",  # CODEC_ZSTD, or CODEC_ZLIB when zstandard is missing
    "refusals",  # {what: message}
    "notices",  # [sentence]
    "stale_removed",  # names of stale fleet instances this agent removed at hello
)

SYNC_PREFIX = "fleet-sync"  # sync marker text: f"{SYNC_PREFIX} {session} {n}"
INSTANCE_PREFIX = "fleet-"  # instance names: f"fleet-{session}-pid{pid}-{start}"
