"""Numbers of the trace.dat format: magic, option and section ids, flags (trace-cmd.dat(5) v6 and v7)."""

from __future__ import annotations

MAGIC = b"\x17\x08\x44tracing"

FILE_VERSION_SECTIONS = 7  # from version 7 on: sections, compression header, options at an offset

# Option ids; in version 7 the metadata sections use the id of the option that points to them.
OPT_DONE = 0
OPT_DATE = 1
OPT_CPUSTAT = 2
OPT_BUFFER = 3
OPT_TRACECLOCK = 4
OPT_UNAME = 5
OPT_HOOK = 6
OPT_OFFSET = 7
OPT_CPUCOUNT = 8
OPT_VERSION = 9
OPT_PROCMAPS = 10
OPT_TRACEID = 11
OPT_TIME_SHIFT = 12
OPT_GUEST = 13
OPT_TSC2NSEC = 14
OPT_STRINGS = 15
OPT_HEADER_INFO = 16
OPT_FTRACE_EVENTS = 17
OPT_EVENT_FORMATS = 18
OPT_KALLSYMS = 19
OPT_PRINTK = 20
OPT_CMDLINES = 21
OPT_BUFFER_TEXT = 22
OPT_BTF_FILE = 23
OPT_LAST_BOOT_INFO = 24
OPT_MODULES_FILE = 25

# Section ids equal option ids: the options section is DONE (0), a flyrecord section is BUFFER (3).
SEC_OPTIONS = OPT_DONE
SEC_FLYRECORD = OPT_BUFFER
SEC_LATENCY = OPT_BUFFER_TEXT

SEC_FL_COMPRESS = 1

TSYNC_FLAG_INTERPOLATE = 1  # TIME_SHIFT flags: interpolate offsets between samples

PAGES_IN_CHUNK = 10  # what trace-cmd puts in one compressed chunk of CPU data
