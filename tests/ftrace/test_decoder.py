"""Decoder specifications: ring-buffer records built byte by byte, print fmts with exact output, fuzzing."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.errors import DecodeError
from fleet.ftrace.formats import parse_format
from fleet.ftrace.printfmt import Context, PrintFormat
from fleet.ftrace.ringbuf import (
    RB_MISSED_EVENTS,
    RB_MISSED_STORED,
    PageHeader,
    decode_page,
    page_records,
    split_pages,
)

HDR = PageHeader()


def page(records: bytes, ts: int = 1000, flags: int = 0, extra: bytes = b"", e: str = "<", long8: bool = True) -> bytes:
    commit = struct.pack(e + ("Q" if long8 else "I"), len(records) | flags)
    return struct.pack(e + "Q", ts) + commit + records + extra


def word(type_len: int, delta: int, e: str = "<") -> bytes:
    v = (type_len << 27 | delta) if e == ">" else (delta << 5 | type_len)
    return struct.pack(e + "I", v)


@pytest.mark.parametrize("e", ["<", ">"])
@pytest.mark.parametrize("long8", [True, False])
def test_record_types_in_both_byte_orders_and_long_sizes(e: str, long8: bool) -> None:
    hdr = PageHeader(
        big_endian=e == ">", long_size=8 if long8 else 4, commit_size=8 if long8 else 4, data_offset=16 if long8 else 12
    )
    recs = (
        word(2, 5, e)
        + b"ABCDEFGH"  # small data: 2 words
        + word(30, 3, e)
        + struct.pack(e + "I", 1)  # time extend: += (1 << 27) + 3
        + word(0, 1, e)
        + struct.pack(e + "I", 8)
        + b"WXYZ"  # type_len 0: array[0] = payload + 4
        + word(29, 2, e)
        + struct.pack(e + "I", 8)
        + b"\0" * 4  # discarded event (padding with a length)
        + word(31, 7, e)
        + struct.pack(e + "I", 0)  # absolute timestamp 7
        + word(1, 1, e)
        + b"LAST"
    )
    out = list(decode_page(page(recs, e=e, long8=long8), hdr))
    assert out == [(1005, b"ABCDEFGH"), (1005 + (1 << 27) + 3 + 1, b"WXYZ"), (8, b"LAST")]


def test_missed_events_with_stored_count_and_truncated_page_split() -> None:
    p1 = page(word(1, 1) + b"abcd", flags=RB_MISSED_EVENTS | RB_MISSED_STORED, extra=struct.pack("<Q", 42))
    p2 = page(word(1, 1) + b"efgh", ts=2000, flags=RB_MISSED_EVENTS)
    pages = list(split_pages(p1 + p2, HDR))
    assert [len(p) for p in pages] == [16 + 8 + 8, 16 + 8]
    first = list(decode_page(pages[0], HDR))
    assert first[0].count == 42 and first[1] == (1001, b"abcd")  # type: ignore[union-attr]
    assert list(decode_page(pages[1], HDR))[0].count is None  # type: ignore[union-attr]


def test_null_padding_ends_the_page() -> None:
    info, recs = page_records(page(word(1, 1) + b"abcd" + word(29, 0) + b"\0" * 4), HDR)
    assert [r[0] for r in recs] == [1001]


FMT = """name: demo
ID: 900
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:int val;\toffset:24;\tsize:4;\tsigned:1;
\tfield:__data_loc char[] name;\toffset:28;\tsize:4;\tsigned:0;
\tfield:unsigned long flags;\toffset:32;\tsize:8;\tsigned:0;

print fmt: "%s val=%d u=%u x=%08x name=%s f=%s s=%s t=%s", REC->comm, REC->val, REC->val, REC->val, __get_str(name), \
__print_flags(REC->flags, "|", { 1, "A" }, { 4, "C" }), __print_symbolic(REC->val, { -1, "MINUS" }), \
REC->val < 0 ? "neg" : "pos"
"""


def record(val: int, flags: int, name: bytes) -> bytes:
    body = struct.pack("<HBBi16siIQ", 900, 0, 0, 1, b"bash", val, (len(name) + 1) << 16 | 40, flags)
    return body + name + b"\0"


def test_print_fmt_follows_the_kernels_c_semantics() -> None:
    ev = parse_format(FMT, "demo")
    pf = PrintFormat(ev, Context())
    assert not pf.failed
    # a signed field is negative (as in the kernel's C code): -1 matches { -1, ... } and is < 0
    # (libtraceevent reads fields unsigned and prints s=0xffffffff t=pos here)
    assert pf.render(record(-1, 5 | 8, b"x")) == ("bash val=-1 u=4294967295 x=ffffffff name=x f=A|C|0x8 s=MINUS t=neg")


def test_unknown_helper_prints_raw_fields() -> None:
    ev = parse_format(FMT.split("print fmt:")[0] + 'print fmt: "%d", jiffies_to_msecs(REC->val)\n', "demo")
    pf = PrintFormat(ev, Context())
    assert pf.failed
    assert pf.render(record(3, 1, b"nm")) == "[FAILED TO PARSE] comm=bash val=3 name=nm flags=0x1"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzzed_pages_raise_only_decode_error(blob: bytes) -> None:
    try:
        for p in split_pages(blob, HDR):
            list(decode_page(p, HDR))
    except DecodeError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120), st.binary(max_size=64))
def test_fuzzed_print_fmts_never_crash(fmt: str, data: bytes) -> None:
    ev = parse_format(FMT.split("print fmt:")[0] + "print fmt: " + fmt + "\n", "demo")
    assert isinstance(PrintFormat(ev, Context()).render(data), str)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzzed_format_texts_raise_only_decode_error(text: str) -> None:
    try:
        parse_format(text, "x")
    except DecodeError:
        pass
