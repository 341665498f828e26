"""ftrace's own events (function, funcgraph, print, bputs, bprint) from this kernel's format texts, task names from
saved_cmdlines, and report lines (trace-cmd's layout, the kernel's loss wording), through the Decoder and render."""

from __future__ import annotations

import struct
from typing import List, Tuple

from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.errors import DecodeError
from fleet.ftrace.events import Decoder, Event, Lost
from fleet.ftrace.meta import TraceMeta
from fleet.ftrace.render import Renderer, render_line
from tests.ftrace.builders import COMMON, KALLSYMS


def ftrace_format(name: str, event_id: int, fields: str, print_fmt: str) -> str:
    return f"name: {name}\nID: {event_id}\nformat:\n{COMMON}\n{fields}\nprint fmt: {print_fmt}\n"


FORMATS = [
    ftrace_format(
        "function",
        1,
        "\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n"
        "\tfield:unsigned long parent_ip;\toffset:16;\tsize:8;\tsigned:0;\n"
        "\tfield:unsigned long args[];\toffset:24;\tsize:0;\tsigned:0;\n",
        '" %ps <-- %ps", (void *)REC->ip, (void *)REC->parent_ip',
    ),
    ftrace_format(
        "funcgraph_entry",
        11,
        "\tfield:unsigned long func;\toffset:8;\tsize:8;\tsigned:0;\n"
        "\tfield:unsigned int depth;\toffset:16;\tsize:4;\tsigned:0;\n"
        "\tfield:unsigned long args[];\toffset:24;\tsize:0;\tsigned:0;\n",
        '"--> %ps (%u)", (void *)REC->func, REC->depth',
    ),
    ftrace_format(
        "funcgraph_exit",
        10,
        "\tfield:unsigned long func;\toffset:8;\tsize:8;\tsigned:0;\n"
        "\tfield:unsigned int depth;\toffset:16;\tsize:4;\tsigned:0;\n"
        "\tfield:unsigned int overrun;\toffset:20;\tsize:4;\tsigned:0;\n"
        "\tfield:unsigned long long calltime;\toffset:24;\tsize:8;\tsigned:0;\n"
        "\tfield:unsigned long long rettime;\toffset:32;\tsize:8;\tsigned:0;\n",
        '"<-- %ps (%u) (start: %llx  end: %llx) over: %u", (void *)REC->func, REC->depth, REC->calltime, '
        "REC->rettime, REC->depth",
    ),
    ftrace_format(
        "print",
        5,
        "\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n"
        "\tfield:char buf[];\toffset:16;\tsize:0;\tsigned:0;\n",
        '"%ps: %s", (void *)REC->ip, REC->buf',
    ),
    ftrace_format(
        "bprint",
        6,
        "\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n"
        "\tfield:const char * fmt;\toffset:16;\tsize:8;\tsigned:0;\n"
        "\tfield:u32 buf[];\toffset:24;\tsize:0;\tsigned:0;\n",
        '"%ps: %s", (void *)REC->ip, REC->fmt',
    ),
    ftrace_format(
        "bputs",
        15,
        "\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n"
        "\tfield:const char * str;\toffset:16;\tsize:8;\tsigned:0;\n",
        '"%ps: %s", (void *)REC->ip, REC->str',
    ),
]
DO_THING = 0xFFFFFFFF81000110
HELPER = 0xFFFFFFFF81000184
FMT_ADDR = 0xFFFFFFFF82000000
STR_ADDR = 0xFFFFFFFF82000040
PRINTK = f'0x{FMT_ADDR:x} : "value=%d big=%llx name=%s c=%c\\n"\n0x{STR_ADDR:x} : "hello from bputs\\n"\n'


def decoder(cmdlines: str = "") -> Decoder:
    return Decoder(
        TraceMeta(
            header_page="",
            header_event="",
            ftrace_formats=FORMATS,
            kallsyms=KALLSYMS,
            printk_formats=PRINTK,
            saved_cmdlines=cmdlines,
        )
    )


def event(event_id: int, payload: bytes, pid: int = 42, cpu: int = 1, ts: int = 1234_567890123) -> Event:
    data = struct.pack("<HBBi", event_id, 0, 0, pid) + payload
    return Event(ts, cpu, event_id, pid, 0, 0, data, decoder("42 bash\n"))


def test_function_event() -> None:
    assert event(1, struct.pack("<QQ", DO_THING, HELPER)).text() == " do_thing <-- helper_fn"


def test_funcgraph_entry_and_exit() -> None:
    assert event(11, struct.pack("<QI4x", DO_THING, 3)).text() == "--> do_thing (3)"
    exit_rec = struct.pack("<QIIQQ", DO_THING, 3, 0, 0x1000, 0x2F00)
    assert event(10, exit_rec).text() == "<-- do_thing (3) (start: 1000  end: 2f00) over: 3"


def test_print_of_a_marker_keeps_its_text() -> None:
    assert event(5, struct.pack("<Q", HELPER) + b"hello marker\n\0").text() == "helper_fn: hello marker\n"


def test_bputs_finds_its_string_in_printk_formats() -> None:
    assert event(15, struct.pack("<QQ", DO_THING, STR_ADDR)).text() == "do_thing: hello from bputs"


def test_bprint_formats_its_binary_arguments_with_the_printk_format() -> None:
    # vbin_printf's layout: 32-bit int, 64-bit value at 4-byte alignment, string with its NUL, char as one byte
    # (libtraceevent has no %c here and stops printing at it)
    args = struct.pack("<iQ", -5, 0xABCDEF0123) + b"abc\0" + b"Z"
    ev = event(6, struct.pack("<QQ", DO_THING, FMT_ADDR) + args)
    assert ev.text() == "do_thing: value=-5 big=abcdef0123 name=abc c=Z"


def test_bprint_short_and_char_arguments_take_their_own_size() -> None:
    dec = decoder()
    dec.meta.printk_formats = f'0x{FMT_ADDR:x} : "%hhd %hd %d"\n'
    args = struct.pack("<bxhi", -1, -2, -3)
    data = struct.pack("<HBBi", 6, 0, 0, 1) + struct.pack("<QQ", DO_THING, FMT_ADDR) + args
    assert Event(0, 0, 6, 1, 0, 0, data, dec).text() == "do_thing: -1 -2 -3"


def test_bprint_with_an_unknown_format_address_says_so() -> None:
    ev = event(6, struct.pack("<QQ", DO_THING, 0xFFFFFFFF82001000) + bytes(8))
    assert ev.text() == "do_thing: (NO FORMAT FOUND at ffffffff82001000)\n"


def test_task_names_come_from_saved_cmdlines_with_idle_and_unknown_pids() -> None:
    dec = decoder("42 bash\n0 swapper/0\n7 kworker/0:1\n")
    assert [dec.comm(p) for p in (42, 7, 0, 99)] == ["bash", "kworker/0:1", "<idle>", "<...>"]


def test_report_line_in_trace_cmds_layout() -> None:
    ev = event(11, struct.pack("<QI4x", DO_THING, 2))
    assert render_line(ev) == "            bash-42    [001]  1234.567890: funcgraph_entry:      --> do_thing (2)"
    assert render_line(ev, ns=True) == (
        "            bash-42    [001]  1234.567890123: funcgraph_entry:      --> do_thing (2)"
    )


def test_report_line_of_a_counter_clock_prints_raw_counts_as_trace_cmd() -> None:
    ev = event(11, struct.pack("<QI4x", DO_THING, 2), ts=987654321)
    meta = TraceMeta(header_page="", header_event="", trace_clock="x86-tsc")
    assert Renderer(meta).line(ev) == "            bash-42    [001]   987654321: funcgraph_entry:      --> do_thing (2)"


def test_report_line_drops_the_markers_trailing_newline() -> None:
    ev = event(5, struct.pack("<Q", HELPER) + b"hi\n\0", pid=0)
    assert render_line(ev) == "          <idle>-0     [001]  1234.567890: print:                helper_fn: hi"


def test_lost_events_use_the_kernels_wording() -> None:
    lines: List[str] = [
        render_line(Lost(1, 0, 42)),
        render_line(Lost(0, 0, None)),
        render_line(Lost(1, 0, 7), host="h1"),
    ]
    assert lines == ["CPU:1 [LOST 42 EVENTS]", "CPU:0 [LOST EVENTS]", "h1: CPU:1 [LOST 7 EVENTS]"]


def test_unknown_event_id_prints_unknown_type() -> None:
    assert event(4242, b"").text() == "[UNKNOWN TYPE 4242]"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1, 5, 6, 10, 11, 15, 999]), st.binary(max_size=48)), max_size=8))
def test_fuzzed_records_through_decoder_and_render_raise_only_decode_error(records: List[Tuple[int, bytes]]) -> None:
    body = b""
    for event_id, payload in records:
        rec = struct.pack("<HBBi", event_id, 0, 0, 7) + payload
        rec += b"\0" * (-len(rec) % 4)
        body += struct.pack("<I", (len(rec) // 4) | 1 << 5) + rec if len(rec) <= 112 else b""
    page = struct.pack("<QQ", 1000, len(body)) + body
    dec = decoder()
    try:
        for item in dec.decode_pages(0, [page]):
            assert isinstance(render_line(item), str)
    except DecodeError:
        pass
