"""Hand-built format files and records for decoder specifications (layouts as the kernel writes them)."""

from __future__ import annotations

import struct
from typing import List, Tuple

from fleet.ftrace.formats import parse_format
from fleet.ftrace.printfmt import Context, PrintFormat
from fleet.ftrace.symbols import Kallsyms

COMMON = (
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
)

KALLSYMS = """ffffffff81000000 T _stext
ffffffff81000100 T do_thing
ffffffff81000180 t helper_fn
ffffffff81000200 T last_fn
ffffffff81000300 T _etext
"""

Decl = Tuple[str, int, int, int]
"""(declaration as in `field:DECL;`, offset, size, signed)."""


def format_text(fields: List[Decl], print_fmt: str, name: str = "demo", event_id: int = 900) -> str:
    """A format file as tracefs prints it: name, ID, the common fields, the event's fields, the print fmt."""
    body = "".join(f"\tfield:{d};\toffset:{o};\tsize:{s};\tsigned:{g};\n" for d, o, s, g in fields)
    return f"name: {name}\nID: {event_id}\nformat:\n{COMMON}\n{body}\nprint fmt: {print_fmt}\n"


def header(event_id: int = 900, pid: int = 1) -> bytes:
    """The 8-byte common header of a record (little-endian)."""
    return struct.pack("<HBBi", event_id, 0, 0, pid)


def context(big_endian: bool = False, long_size: int = 8, printk: str = "") -> Context:
    from fleet.ftrace.symbols import parse_printk_formats

    return Context(
        big_endian=big_endian,
        long_size=long_size,
        kallsyms=Kallsyms.parse(KALLSYMS),
        printk=parse_printk_formats(printk),
    )


def compiled(fields: List[Decl], print_fmt: str, ctx: Context | None = None) -> PrintFormat:
    pf = PrintFormat(parse_format(format_text(fields, print_fmt), "demo"), ctx or context())
    assert not pf.failed, pf.reason
    return pf
