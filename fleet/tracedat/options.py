"""The options of a trace.dat file: parsed records for the ones fleet uses, and their encodings for the writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from fleet.errors import DecodeError
from fleet.tracedat import constants as c
from fleet.tracedat.binary import Cursor, Packer

_U64 = (1 << 64) - 1


@dataclass
class CpuDataRef:
    """Where one CPU's ring-buffer data lies in the file (compressed chunks in v7 compressed files)."""

    cpu: int
    offset: int
    size: int


@dataclass
class BufferOption:
    """A BUFFER (flyrecord) or BUFFER_TEXT (latency) option: one trace instance's data."""

    name: str
    offset: int
    """v7: offset of the buffer's section header; v6: offset of its "flyrecord" block."""
    clock: Optional[str] = None
    page_size: int = 0
    cpus: List[CpuDataRef] = field(default_factory=list)
    latency: bool = False


@dataclass
class TimeShiftSample:
    """One clock-offset measurement: at peer time `time`, add `offset` after scaling by `scaling >> fraction`."""

    time: int
    offset: int
    scaling: int = 1
    fraction: int = 0


@dataclass
class TimeShift:
    """TIME_SHIFT: how this file's timestamps map onto a peer's (the host's) clock, per CPU."""

    peer_trace_id: int
    flags: int
    cpus: List[List[TimeShiftSample]]
    """Per CPU, samples sorted by time without duplicate times (as trace-cmd keeps them)."""

    def correct(self, ts: int, cpu: int) -> int:
        """Map a raw timestamp of `cpu` the way libtracecmd's timestamp_host_sync does."""
        if cpu >= len(self.cpus) or not self.cpus[cpu]:
            return ts
        samples = self.cpus[cpu]
        if len(samples) == 1:
            return (ts + samples[0].offset) & _U64
        if ts <= samples[0].time:
            lo = 0
        elif ts >= samples[-1].time:
            lo = len(samples) - 2
        else:
            lo = _bisect(samples, ts)
        return self._calc(ts, samples[lo], samples[lo + 1])

    def _calc(self, ts: int, lo: TimeShiftSample, hi: TimeShiftSample) -> int:
        if self.flags & c.TSYNC_FLAG_INTERPOLATE and hi.time != lo.time:
            delta = hi.time - lo.time
            num = _s64((ts - lo.time) * (hi.offset - lo.offset)) + delta // 2
            tscor = lo.offset + _cdiv(num, delta)
        else:
            tscor = lo.offset
        scaled = ((ts * lo.scaling) & _U64) >> max(0, min(lo.fraction, 63))
        return (scaled + tscor) & _U64


def _s64(value: int) -> int:
    value &= _U64
    return value - (1 << 64) if value >> 63 else value


def _cdiv(num: int, den: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(num) // abs(den)
    return q if (num >= 0) == (den >= 0) else -q


def _bisect(samples: List[TimeShiftSample], ts: int) -> int:
    """Index of the sample pair around `ts`, as trace-cmd's binary search chooses it."""
    lo, hi = 0, len(samples) - 1
    mid = (lo + hi) // 2
    while lo <= hi:
        if ts < samples[mid].time:
            hi = mid - 1
        elif ts > samples[mid].time:
            lo = mid + 1
        else:
            break
        mid = (lo + hi) // 2
    return min(max(mid, 0), len(samples) - 2)


@dataclass
class Tsc2Nsec:
    """TSC2NSEC: ns = (count * mult) >> shift; offset is informational (trace-cmd does not add it)."""

    mult: int
    shift: int
    offset: int


@dataclass
class Guest:
    """GUEST: a traced virtual machine, its session id and the host task running each of its vCPUs."""

    name: str
    trace_id: int
    vcpu_pids: Dict[int, int]


@dataclass
class TraceOptions:
    """Every option of a file, parsed; unknown or unused ones are kept raw in `other`."""

    trace_clock_text: str = ""
    """The TRACECLOCK option: the whole `trace_clock` file, current clock in brackets."""
    uname: str = ""
    version: str = ""
    date: Optional[str] = None
    offset: Optional[str] = None
    cpustats: List[str] = field(default_factory=list)
    cpucount: Optional[int] = None
    trace_id: Optional[int] = None
    time_shift: Optional[TimeShift] = None
    tsc2nsec: Optional[Tsc2Nsec] = None
    guests: List[Guest] = field(default_factory=list)
    hooks: List[str] = field(default_factory=list)
    procmaps: str = ""
    last_boot_info: List[str] = field(default_factory=list)
    buffers: List[BufferOption] = field(default_factory=list)
    sections: Dict[int, int] = field(default_factory=dict)
    """v7: metadata section id -> file offset (HEADER_INFO, FTRACE_EVENTS, ...)."""
    other: List[Tuple[int, bytes]] = field(default_factory=list)

    @property
    def clock(self) -> Optional[str]:
        """The current clock named by TRACECLOCK (the bracketed word), if any."""
        for word in self.trace_clock_text.split():
            if word.startswith("["):
                return word.strip("[]\0") or None
        return None

    @property
    def ts_offset(self) -> int:
        """Nanoseconds trace-cmd adds to every timestamp: DATE (microseconds) plus OFFSET."""
        total = 0
        if self.date is not None:
            total += strtoll(self.date) * 1000
        if self.offset is not None:
            total += strtoll(self.offset)
        return total


def strtoll(text: str) -> int:
    """C strtoll(text, NULL, 0): optional sign, 0x for hex, leading 0 for octal; stops at the first bad digit."""
    s = text.strip().rstrip("\0")
    sign = 1
    if s[:1] in "+-" and s:
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    base = 10
    if s[:2].lower() == "0x":
        base, s = 16, s[2:]
    elif s[:1] == "0" and len(s) > 1:
        base, s = 8, s[1:]
    digits = "0123456789abcdef"[:base]
    n = 0
    for ch in s.lower():
        if ch not in digits:
            break
        n = n * base + digits.index(ch)
    return sign * n


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def parse_option(opts: TraceOptions, oid: int, raw: bytes, big_endian: bool, sectioned: bool) -> None:
    """Fold one option's payload into `opts`; malformed payloads raise DecodeError."""
    cur = Cursor(raw, big_endian, f"trace.dat option {oid}")
    if oid == c.OPT_DATE:
        opts.date = _text(raw)
    elif oid == c.OPT_OFFSET:
        opts.offset = _text(raw)
    elif oid == c.OPT_CPUSTAT:
        opts.cpustats.append(_text(raw))
    elif oid in (c.OPT_BUFFER, c.OPT_BUFFER_TEXT):
        opts.buffers.append(_parse_buffer(cur, oid, sectioned))
    elif oid == c.OPT_TRACECLOCK:
        opts.trace_clock_text = _text(raw)
    elif oid == c.OPT_UNAME:
        opts.uname = _text(raw)
    elif oid == c.OPT_VERSION:
        opts.version = _text(raw)
    elif oid == c.OPT_HOOK:
        opts.hooks.append(_text(raw))
    elif oid == c.OPT_PROCMAPS:
        opts.procmaps = _text(raw)
    elif oid == c.OPT_CPUCOUNT:
        opts.cpucount = cur.u32()
    elif oid == c.OPT_TRACEID:
        opts.trace_id = cur.u64()
    elif oid == c.OPT_TIME_SHIFT:
        opts.time_shift = _parse_time_shift(cur)
    elif oid == c.OPT_GUEST:
        opts.guests.append(_parse_guest(cur))
    elif oid == c.OPT_TSC2NSEC:
        opts.tsc2nsec = Tsc2Nsec(cur.u32(), cur.u32(), cur.u64())
    elif oid == c.OPT_LAST_BOOT_INFO:
        opts.last_boot_info.append(_text(raw))
    elif (sectioned and c.OPT_HEADER_INFO <= oid <= c.OPT_CMDLINES) or oid in (c.OPT_BTF_FILE, c.OPT_MODULES_FILE):
        opts.sections[oid] = cur.u64()
    else:
        opts.other.append((oid, raw))


def _parse_buffer(cur: Cursor, oid: int, sectioned: bool) -> BufferOption:
    offset = cur.u64()
    buf = BufferOption(name=cur.cstring(), offset=offset, latency=oid == c.OPT_BUFFER_TEXT)
    if not sectioned:
        return buf
    buf.clock = cur.cstring()
    if oid == c.OPT_BUFFER_TEXT:
        return buf
    buf.page_size = cur.u32()
    count = cur.u32()
    if count * 20 > cur.remaining():
        raise DecodeError(f"BUFFER option {buf.name!r}: {count} CPUs do not fit in the option")
    seen = set()
    for _ in range(count):
        ref = CpuDataRef(cur.u32(), cur.u64(), cur.u64())
        if ref.cpu in seen:
            raise DecodeError(f"BUFFER option {buf.name!r}: CPU {ref.cpu} is described twice")
        seen.add(ref.cpu)
        buf.cpus.append(ref)
    return buf


def _parse_time_shift(cur: Cursor) -> Optional[TimeShift]:
    if cur.remaining() < 16:
        return None  # trace-cmd ignores a TIME_SHIFT shorter than its fixed part
    peer, flags, ncpu = cur.u64(), cur.u32(), cur.u32()
    if ncpu * 4 > cur.remaining():
        raise DecodeError(f"TIME_SHIFT option: {ncpu} CPUs do not fit in the option")
    per_cpu: List[List[TimeShiftSample]] = []
    for _ in range(ncpu):
        count = cur.u32()
        if count * 24 > cur.remaining():
            raise DecodeError(f"TIME_SHIFT option: {count} samples do not fit in the option")
        times = [cur.s64() for _ in range(count)]
        offsets = [cur.s64() for _ in range(count)]
        scalings = [cur.s64() for _ in range(count)]
        per_cpu.append([TimeShiftSample(t, o, s) for t, o, s in zip(times, offsets, scalings)])
    if cur.remaining() > 0:  # optional trailing arrays of scaling fraction bits, one per sample
        for samples in per_cpu:
            for sample in samples:
                sample.fraction = cur.s64()
    for i, samples in enumerate(per_cpu):
        samples.sort(key=lambda s: s.time)
        per_cpu[i] = [s for k, s in enumerate(samples) if k == 0 or s.time != samples[k - 1].time]
    return TimeShift(peer, flags, per_cpu)


def _parse_guest(cur: Cursor) -> Guest:
    name = cur.cstring()
    trace_id = cur.u64()
    count = cur.u32()
    if count * 8 > cur.remaining():
        raise DecodeError(f"GUEST option {name!r}: {count} vCPUs do not fit in the option")
    pids = {}
    for _ in range(count):
        cpu = cur.u32()
        pids[cpu] = cur.u32()
    return Guest(name, trace_id, pids)


# Encoders (writer side)


def encode_option(pack: Packer, oid: int, payload: bytes) -> bytes:
    return pack.u16(oid) + pack.u32(len(payload)) + payload


def encode_text(text: str) -> bytes:
    return text.encode() + b"\0"


def encode_buffer(pack: Packer, buf: BufferOption) -> bytes:
    out = pack.u64(buf.offset) + Packer.cstring(buf.name) + Packer.cstring(buf.clock or "local")
    out += pack.u32(buf.page_size) + pack.u32(len(buf.cpus))
    for ref in buf.cpus:
        out += pack.u32(ref.cpu) + pack.u64(ref.offset) + pack.u64(ref.size)
    return out


def encode_time_shift(pack: Packer, shift: TimeShift) -> bytes:
    out = pack.u64(shift.peer_trace_id) + pack.u32(shift.flags) + pack.u32(len(shift.cpus))
    for samples in shift.cpus:
        out += pack.u32(len(samples))
        out += b"".join(pack.s64(s.time) for s in samples)
        out += b"".join(pack.s64(s.offset) for s in samples)
        out += b"".join(pack.s64(s.scaling) for s in samples)
    for samples in shift.cpus:
        out += b"".join(pack.s64(s.fraction) for s in samples)
    return out


def encode_tsc2nsec(pack: Packer, conv: Tsc2Nsec) -> bytes:
    return pack.u32(conv.mult) + pack.u32(conv.shift) + pack.u64(conv.offset)
