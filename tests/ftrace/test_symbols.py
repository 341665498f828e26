"""Aliased kernel symbols (several names at one address): trace-cmd names the last, the kernel the first."""

from __future__ import annotations

import struct

from fleet.ftrace.formats import parse_format
from fleet.ftrace.printfmt import Context, PrintFormat
from fleet.ftrace.symbols import Kallsyms
from tests.ftrace.builders import format_text, header

# /proc/kallsyms order: the kernel's lookup steps back to the first name listed at an address.
ALIASED = """ffffffff81000000 T _stext
ffffffff81000100 T __x64_sys_getppid
ffffffff81000100 T __ia32_sys_getppid
ffffffff81000180 t vfs_helper
ffffffffc0000000 t mod_alias_a\t[demo_mod]
ffffffffc0000000 t mod_alias_b\t[demo_mod]
ffffffffc0000040 t mod_next\t[demo_mod]
ffffffffc0000080 T _end_marker
"""


def test_libtraceevent_lookup_names_the_last_alias() -> None:
    assert Kallsyms.parse(ALIASED).lookup(0xFFFFFFFF81000104) == ("__ia32_sys_getppid", 0xFFFFFFFF81000100)


def test_kernel_lookup_names_the_first_alias() -> None:
    ks = Kallsyms.parse(ALIASED)
    assert ks.kernel_name(0xFFFFFFFF81000104) == "__x64_sys_getppid"
    assert ks.kernel_symbol(0xFFFFFFFF81000104) == "__x64_sys_getppid+0x4/0x80"


def test_kernel_symbol_of_a_module_alias_carries_its_module() -> None:
    assert Kallsyms.parse(ALIASED).kernel_symbol(0xFFFFFFFFC0000010) == "mod_alias_a+0x10/0x40 [demo_mod]"


def render(conv: str, addr: int, kernel_symbols: bool) -> str:
    ctx = Context(kallsyms=Kallsyms.parse(ALIASED), kernel_symbols=kernel_symbols)
    pf = PrintFormat(parse_format(format_text([("void * fn", 8, 8, 0)], f'"{conv}", REC->fn'), "demo"), ctx)
    return pf.render(header() + struct.pack("<Q", addr))


def test_kernel_style_ps_and_pS_name_the_kernels_alias() -> None:
    assert render("%ps", 0xFFFFFFFF81000104, True) == "__x64_sys_getppid"
    assert render("%pS", 0xFFFFFFFF81000104, True) == "__x64_sys_getppid+0x4/0x80"


def test_trace_cmd_style_ps_and_pS_name_trace_cmds_alias() -> None:
    assert render("%ps", 0xFFFFFFFF81000104, False) == "__ia32_sys_getppid"
    assert render("%pS", 0xFFFFFFFF81000104, False) == "__ia32_sys_getppid+0x4"
