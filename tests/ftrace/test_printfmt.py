"""Print fmt specifications: each construct of the kernel's TP_printk, with the exact text the kernel prints
(and, where they agree, `trace-cmd report -N`). Records are built byte by byte after hand-written format files."""

from __future__ import annotations

import struct

import pytest

from fleet.ftrace.formats import parse_format
from fleet.ftrace.printfmt import PrintFormat
from tests.ftrace.builders import compiled, context, format_text, header

INT = [("int v", 8, 4, 1)]
U64 = [("unsigned long long v", 8, 8, 0)]


def int_rec(v: int) -> bytes:
    return header() + struct.pack("<i", v)


def u64_rec(v: int) -> bytes:
    return header() + struct.pack("<Q", v & (1 << 64) - 1)


@pytest.mark.parametrize(
    "conv, value, text",
    [
        ("%d", -42, "-42"),
        ("%5d", 42, "   42"),
        ("%-5d|", 42, "42   |"),
        ("%05d", 42, "00042"),
        ("%+d", 42, "+42"),
        ("%u", -1, "4294967295"),
        ("%x", 255, "ff"),
        ("%X", 255, "FF"),
        ("%08x", 255, "000000ff"),
        ("%#x", 255, "0xff"),
        ("%#x", 0, "0"),
        ("%o", 8, "10"),
        ("%#o", 8, "010"),
        ("%hhd", 0x1FF, "-1"),
        ("%hd", 0x18000, "-32768"),
        ("%hu", -1, "65535"),
        ("%c", 65, "A"),
        ("%i", -7, "-7"),
    ],
)
def test_printf_integer_conversions_of_a_32_bit_field(conv: str, value: int, text: str) -> None:
    assert compiled(INT, f'"{conv}", REC->v').render(int_rec(value)) == text


@pytest.mark.parametrize(
    "conv, value, text",
    [
        ("%lld", -5, "-5"),
        ("%llu", -1, "18446744073709551615"),
        ("%llx", -1, "ffffffffffffffff"),
        ("%lx", 0xDEADBEEF, "deadbeef"),
        ("%d", 0x1_0000_0005, "5"),  # a 32-bit conversion truncates
        ("%ld", -2, "-2"),
        ("%zu", 7, "7"),
    ],
)
def test_printf_conversions_with_length_modifiers_of_a_64_bit_field(conv: str, value: int, text: str) -> None:
    assert compiled(U64, f'"{conv}", REC->v').render(u64_rec(value)) == text


def test_star_width_comes_from_the_argument_before_the_value() -> None:
    assert compiled(INT, '"[%*d]", 6, REC->v').render(int_rec(42)) == "[    42]"


STR = [("char name[16]", 8, 16, 0)]


def str_rec(s: bytes) -> bytes:
    return header() + s.ljust(16, b"\0")


@pytest.mark.parametrize(
    "conv, text",
    [("%s", "abcdef"), ("%.3s", "abc"), ("%10s", "    abcdef"), ("%-8s|", "abcdef  |"), ("%%%s%%", "%abcdef%")],
)
def test_string_conversions_of_a_char_array(conv: str, text: str) -> None:
    assert compiled(STR, f'"{conv}", REC->name').render(str_rec(b"abcdef")) == text


def test_percent_p_prints_hex_with_0x_and_nil_for_null() -> None:
    pf = compiled([("void * p", 8, 8, 0)], '"p=%p", REC->p')
    assert pf.render(u64_rec(0xFFFF888100001234)) == "p=0xffff888100001234"
    assert pf.render(u64_rec(0)) == "p=(nil)"


FN = [("void * fn", 8, 8, 0)]


@pytest.mark.parametrize(
    "conv, addr, text",
    [
        ("%ps", 0xFFFFFFFF81000110, "do_thing"),
        ("%pS", 0xFFFFFFFF81000110, "do_thing+0x10"),
        ("%pf", 0xFFFFFFFF81000180, "helper_fn"),
        ("%pF", 0xFFFFFFFF81000181, "helper_fn+0x1"),
        ("%pB", 0xFFFFFFFF81000110, "do_thing+0x10/0x80"),
        ("%ps", 0x1234, "0x1234"),  # below every symbol: the address
    ],
)
def test_symbol_pointers_resolve_through_kallsyms(conv: str, addr: int, text: str) -> None:
    assert compiled(FN, f'"{conv}", REC->fn').render(u64_rec(addr)) == text


def test_symbol_with_offset_in_the_kernels_own_layout_adds_the_symbol_size() -> None:
    ctx = context()
    ctx.kernel_symbols = True
    pf = compiled(FN, '"%pS %ps", REC->fn, REC->fn', ctx)
    assert pf.render(u64_rec(0xFFFFFFFF81000110)) == "do_thing+0x10/0x80 do_thing"
    assert pf.render(u64_rec(0xFFFFFFFF81000100)) == "do_thing+0x0/0x80 do_thing"


ADDRS = [("__u8 saddr[4]", 8, 4, 0), ("__u8 daddr6[16]", 12, 16, 0), ("unsigned char mac[6]", 28, 6, 0)]


def addr_rec() -> bytes:
    v6 = bytes.fromhex("20010db8000000000000000000000001")
    return header() + bytes([192, 168, 1, 7]) + v6 + bytes.fromhex("0011223344ff") + b"\0\0"


@pytest.mark.parametrize(
    "fmt, text",
    [
        ('"%pI4", REC->saddr', "192.168.1.7"),
        ('"%pi4", REC->saddr', "192.168.001.007"),
        ('"%pI6", REC->daddr6', "2001:0db8:0000:0000:0000:0000:0000:0001"),
        ('"%pI6c", REC->daddr6', "2001:db8::1"),
        ('"%pM", REC->mac', "00:11:22:33:44:ff"),
        ('"%pMR", REC->mac', "ff:44:33:22:11:00"),
        ('"%pmR", REC->mac', "ff4433221100"),
    ],
)
def test_network_address_pointers(fmt: str, text: str) -> None:
    assert compiled(ADDRS, fmt).render(addr_rec()) == text


def test_ipv6_compressed_keeps_an_embedded_ipv4_mapped_address() -> None:
    pf = compiled([("__u8 a[16]", 8, 16, 0)], '"%pI6c", REC->a')
    assert pf.render(header() + bytes(10) + b"\xff\xff" + bytes([10, 0, 0, 1])) == "::ffff:10.0.0.1"


UUID = [("u8 fsid[16]", 8, 16, 0)]
UUID_BYTES = bytes(range(0x10, 0x20))


@pytest.mark.parametrize(
    "conv, text",
    [
        ("%pU", "10111213-1415-1617-1819-1a1b1c1d1e1f"),
        ("%pUb", "10111213-1415-1617-1819-1a1b1c1d1e1f"),
        ("%pUB", "10111213-1415-1617-1819-1A1B1C1D1E1F"),
        ("%pUl", "13121110-1514-1716-1819-1a1b1c1d1e1f"),
        ("%pUL", "13121110-1514-1716-1819-1A1B1C1D1E1F"),
    ],
)
def test_uuid_pointers_in_each_byte_order_and_case(conv: str, text: str) -> None:
    assert compiled(UUID, f'"{conv}: ok", REC->fsid').render(header() + UUID_BYTES) == text + ": ok"


SOCK = [("__u8 saddr[28]", 8, 28, 0)]


def test_sockaddr_pointer_with_port_for_ipv4_and_ipv6() -> None:
    pf = compiled(SOCK, '"%pISpc", REC->saddr')
    v4 = struct.pack("<H", 2) + struct.pack(">H", 8080) + bytes([127, 0, 0, 1]) + bytes(20)
    assert pf.render(header() + v4) == "127.0.0.1:8080"
    v6 = struct.pack("<H", 10) + struct.pack(">H", 443) + bytes(4) + bytes(15) + b"\x01" + bytes(4)
    assert pf.render(header() + v6) == "[::1]:443"


def test_get_sockaddr_of_a_dynamic_array() -> None:
    fields = [("__data_loc char[] addr", 8, 4, 0)]
    pf = compiled(fields, '"%pISpc", __get_sockaddr(addr)')
    v4 = struct.pack("<H", 2) + struct.pack(">H", 22) + bytes([10, 1, 2, 3]) + bytes(8)
    assert pf.render(header() + struct.pack("<I", len(v4) << 16 | 12) + v4) == "10.1.2.3:22"


FLAGS = [("unsigned long flags", 8, 8, 0)]
PRINT_FLAGS = '"%s", __print_flags(REC->flags, "|", { 0x1, "A" }, { 0x2, "B" }, { 0x6, "BC" })'


@pytest.mark.parametrize(
    "value, text",
    [(0, ""), (1, "A"), (3, "A|B"), (7, "A|B|0x4"), (0x40, "0x40"), (5, "A|0x4")],
)
def test_print_flags_names_each_set_mask_and_prints_what_is_left_in_hex(value: int, text: str) -> None:
    assert compiled(FLAGS, PRINT_FLAGS).render(u64_rec(value)) == text


def test_print_flags_on_a_masked_value_prints_nothing_when_no_bit_is_set() -> None:
    # The kernel (and fleet) apply the mask first; libtraceevent rotates `a & (b|c)` into `(a & b)|c`.
    fmt = '"f=%s", __print_flags(REC->flags & (0x10 | 0x20), "|", { 0x10, "X" }, { 0x20, "Y" })'
    assert compiled(FLAGS, fmt).render(u64_rec(0)) == "f="
    assert compiled(FLAGS, fmt).render(u64_rec(0x21)) == "f=Y"


@pytest.mark.parametrize("value, text", [(0, "ZERO"), (2, "TWO"), (3, "0x3"), (-1, "MINUS")])
def test_print_symbolic_maps_exact_values(value: int, text: str) -> None:
    fmt = '"%s", __print_symbolic(REC->flags, { 0, "ZERO" }, { 2, "TWO" }, { -1, "MINUS" })'
    assert compiled(FLAGS, fmt).render(u64_rec(value)) == text


def test_print_symbolic_names_softirq_vectors_left_as_enum_names() -> None:
    table = '{ HI_SOFTIRQ, "HI" }, { NET_RX_SOFTIRQ, "NET_RX" }'
    fmt = f'"vec=%u [action=%s]", REC->flags, __print_symbolic(REC->flags, {table})'
    assert compiled(FLAGS, fmt).render(u64_rec(3)) == "vec=3 [action=NET_RX]"


def test_unresolved_enum_names_in_flag_masks_count_as_zero_like_libtraceevent() -> None:
    fmt = '"%s", __print_flags(REC->flags, "|", {(1 << SOME_ENUM), "BIT0"}, {(1 << 1), "BIT1"})'
    assert compiled(FLAGS, fmt).render(u64_rec(3)) == "BIT0|BIT1"


DYN = [("__data_loc u8[] buf", 8, 4, 0), ("int len", 12, 4, 1)]


def dyn_rec(payload: bytes, rel: bool = False) -> bytes:
    off = 16
    return header() + struct.pack("<Ii", len(payload) << 16 | off, len(payload)) + payload


@pytest.mark.parametrize(
    "fmt, text",
    [
        ('"%s", __print_hex(__get_dynamic_array(buf), __get_dynamic_array_len(buf))', "de ad 01"),
        ('"%s", __print_hex_str(__get_dynamic_array(buf), REC->len)', "dead01"),
        ('"n=%d", __get_dynamic_array_len(buf)', "n=3"),
        ('"%s", __print_array(__get_dynamic_array(buf), REC->len, 1)', "{0xde,0xad,0x1}"),
        ('"b0=%x", ((u8 *)__get_dynamic_array(buf))[1]', "b0=ad"),
    ],
)
def test_dynamic_array_helpers(fmt: str, text: str) -> None:
    assert compiled(DYN, fmt).render(dyn_rec(b"\xde\xad\x01")) == text


def test_print_array_of_32_bit_elements() -> None:
    fields = [("__data_loc u32[] ids", 8, 4, 0)]
    payload = struct.pack("<3I", 1, 0x20, 0xFFFFFFFF)
    rec = header() + struct.pack("<I", len(payload) << 16 | 12) + payload
    fmt = '"%s", __print_array(__get_dynamic_array(ids), __get_dynamic_array_len(ids) / sizeof(u32), sizeof(u32))'
    assert compiled(fields, fmt).render(rec) == "{0x1,0x20,0xffffffff}"


def test_get_str_of_data_loc_and_rel_loc_strings() -> None:
    fields = [("__data_loc char[] name", 8, 4, 0), ("__rel_loc char[] other", 12, 4, 0)]
    name, other = b"sda1\0", b"eth0\0"
    # __data_loc: offset from the record start; __rel_loc: offset from the end of the rel_loc field itself
    loc = struct.pack("<I", len(name) << 16 | 16)
    rel = struct.pack("<I", len(other) << 16 | (16 + len(name) - 16))
    pf = compiled(fields, '"%s on %s", __get_str(name), __get_rel_str(other)')
    assert pf.render(header() + loc + rel + name + other) == "sda1 on eth0"


def test_get_cpumask_prints_cpu_ranges() -> None:
    fields = [("__data_loc cpumask_t[] cpumask", 8, 4, 0)]
    mask = struct.pack("<Q", 0b1011_0111)
    pf = compiled(fields, '"cpus=%s", __get_cpumask(cpumask)')
    assert pf.render(header() + struct.pack("<I", 8 << 16 | 12) + mask) == "cpus=0-2,4-5,7"


def test_get_bitmask_prints_32_bit_words_most_significant_first() -> None:
    fields = [("__data_loc unsigned long[] mask", 8, 4, 0)]
    mask = struct.pack("<Q", 0x1_0000_00FF)
    pf = compiled(fields, '"m=%s", __get_bitmask(mask)')
    assert pf.render(header() + struct.pack("<I", 8 << 16 | 12) + mask) == "m=00000001,000000ff"


@pytest.mark.parametrize(
    "expr, text",
    [
        ("REC->v + 3", "13"),
        ("REC->v - 12", "-2"),
        ("REC->v * 3 / 4", "7"),
        ("REC->v % 4", "2"),
        ("REC->v << 2 | 1", "41"),
        ("REC->v >> 1 & 0x3", "1"),
        ("REC->v ^ 0xf", "5"),
        ("~REC->v & 0xff", "245"),
        ("!REC->v", "0"),
        ("-REC->v", "-10"),
        ("REC->v > 5 && REC->v < 20", "1"),
        ("REC->v == 3 || REC->v != 10", "0"),
        ("REC->v > 5 ? 100 : 200", "100"),
        ("(u8)(REC->v + 250)", "4"),
        ("(short)(REC->v - 11)", "-1"),
        ("sizeof(u32) + sizeof(long)", "12"),
        ("sizeof(REC->v)", "4"),
        ("(int)((REC->v) << 28)", "-1610612736"),
    ],
)
def test_arithmetic_bit_operators_casts_ternaries_and_sizeof(expr: str, text: str) -> None:
    assert compiled(INT, f'"%d", {expr}').render(int_rec(10)) == text


def test_ternary_choosing_a_string() -> None:
    pf = compiled(INT, '"%s", REC->v < 0 ? "neg" : "pos"')
    assert pf.render(int_rec(10)) == "pos"


def test_an_int_field_printed_with_a_long_conversion_shows_its_32_bit_pattern() -> None:
    # C passes the int as an int; %ld reads the register, whose upper half the 32-bit load cleared
    assert compiled(INT, '"%ld %lx", REC->v, REC->v').render(int_rec(-3)) == "4294967293 fffffffd"


def test_an_int_field_cast_to_long_keeps_its_sign() -> None:
    assert compiled(INT, '"%ld", (long)REC->v').render(int_rec(-3)) == "-3"


def test_a_negative_narrow_field_promotes_to_int() -> None:
    pf = compiled([("s8 small", 8, 1, 1)], '"%d %u %x", REC->small, REC->small, REC->small')
    # libtraceevent reads the byte unsigned and prints "252 252 fc"
    assert pf.render(header() + b"\xfc" + bytes(3)) == "-4 4294967292 fffffffc"


def test_signed_fields_print_their_sign_with_long_long_conversions() -> None:
    pf = compiled([("long delta", 8, 8, 1), ("s8 small", 16, 1, 1)], '"%ld %d", REC->delta, REC->small')
    assert pf.render(header() + struct.pack("<qb", -3, -4) + bytes(7)) == "-3 -4"


def test_cast_to_signed_long_then_subtraction_prints_a_negative_timeout() -> None:
    fields = [("unsigned long expires", 8, 8, 0), ("unsigned long now", 16, 8, 0)]
    pf = compiled(fields, '"[timeout=%ld]", (long)REC->expires - REC->now')
    assert pf.render(header() + struct.pack("<QQ", 100, 103)) == "[timeout=-3]"


def test_a_tab_in_the_format_string_prints_as_a_tab() -> None:
    # maple_tree's ma_write: libtraceevent's tokenizer stops a string at a tab and fails the whole format
    pf = compiled([("unsigned long v", 8, 8, 0)], '"fn\tNode %lu", REC->v')
    assert pf.render(u64_rec(5)) == "fn\tNode 5"


def test_big_endian_records_read_fields_in_their_byte_order() -> None:
    ctx = context(big_endian=True)
    fields = [("unsigned int a", 8, 4, 0), ("short b", 12, 2, 1), ("__data_loc char[] s", 16, 4, 0)]
    pf = compiled(fields, '"a=%u b=%d s=%s", REC->a, REC->b, __get_str(s)', ctx)
    rec = struct.pack(">HBBi", 900, 0, 0, 1) + struct.pack(">Ih2xI", 7, -2, 3 << 16 | 20) + b"hi\0"
    assert pf.render(rec) == "a=7 b=-2 s=hi"


def test_32_bit_long_fields() -> None:
    ctx = context(long_size=4)
    pf = compiled([("unsigned long v", 8, 4, 0), ("void * p", 12, 4, 0)], '"%lu %p", REC->v, REC->p', ctx)
    assert pf.render(header() + struct.pack("<II", 4000000000, 0xC0001000)) == "4000000000 0xc0001000"


def test_short_record_prints_what_its_bytes_hold() -> None:
    pf = compiled(U64, '"v=%llu", REC->v')
    assert pf.render(header() + b"\x01\x02") == "v=0"


def test_unknown_function_prints_failed_to_parse_and_raw_fields() -> None:
    ev = parse_format(format_text(INT, '"%d", jiffies_to_msecs(REC->v)'), "demo")
    pf = PrintFormat(ev, context())
    assert pf.failed and pf.reason == "function jiffies_to_msecs not defined"
    assert pf.render(int_rec(-3)) == "[FAILED TO PARSE] v=-3"
