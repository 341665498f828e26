"""`print fmt` of an event: parsed once into closures, then evaluated per record as the kernel's C code does.

Values follow C (what the kernel prints in its `trace` file): signed fields are negative, casts truncate and
sign-extend, `%d` of a 32-bit conversion truncates. Where libtraceevent (`trace-cmd report -N`) reads every field
unsigned it prints differently for narrow negative fields; fleet follows the kernel. Helpers libtraceevent does not
know make the event "[FAILED TO PARSE]" with its raw fields, as trace-cmd prints it.
"""

# ruff: noqa: UP031  (C printf semantics are spelled with %-formatting on purpose)
from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from fleet.errors import DecodeError
from fleet.ftrace.formats import EventFormat, Field
from fleet.ftrace.symbols import Kallsyms

M64 = (1 << 64) - 1
NumFn = Callable[[bytes], int]
StrFn = Callable[[bytes], str]

# libtraceevent's print-arg kinds, numbered as its enum (they appear in "ARG TYPE NOT FIELD BUT %d").
K_ATOM, K_FIELD, K_FLAGS, K_SYMBOL, K_HEX, K_INT_ARRAY, K_TYPE, K_STRING = 1, 2, 3, 4, 5, 6, 7, 8
K_BSTRING, K_DYNARRAY, K_OP, K_FUNC, K_BITMASK, K_DYNARRAY_LEN, K_HEX_STR, K_CPUMASK = 9, 10, 11, 12, 13, 14, 15, 16

_SOFTIRQ_FLAGS = {
    "HI_SOFTIRQ": 0, "TIMER_SOFTIRQ": 1, "NET_TX_SOFTIRQ": 2, "NET_RX_SOFTIRQ": 3, "BLOCK_SOFTIRQ": 4,
    "IRQ_POLL_SOFTIRQ": 5, "TASKLET_SOFTIRQ": 6, "SCHED_SOFTIRQ": 7, "HRTIMER_SOFTIRQ": 8, "RCU_SOFTIRQ": 9,
    "HRTIMER_NORESTART": 0, "HRTIMER_RESTART": 1,
}  # fmt: skip


class ParseFailed(Exception):
    """Internal: the print fmt uses something libtraceevent cannot parse (the event then prints raw fields)."""


# ---------------------------------------------------------------- tokenizer

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<chr>'(?:[^'\\]|\\.)+')
  | (?P<num>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>->|&&|\|\||==|!=|<=|>=|<<|>>|[-+*/%&|^!~<>?:,()\[\]{}.])
    )""",
    re.X | re.S,
)
_ESC = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0", "a": "\a", "b": "\b"}


def _unescape(s: str) -> str:
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            i += 1
            out.append(_ESC.get(s[i], s[i]))
        else:
            out.append(c)
        i += 1
    return "".join(out)


def tokenize(text: str) -> List[Tuple[str, str]]:
    toks: List[Tuple[str, str]] = []
    pos = 0
    n = len(text)
    while pos < n:
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ParseFailed(f"unexpected character {text[pos : pos + 10]!r}")
        kind = m.lastgroup or ""
        toks.append((kind, m.group(kind)))
        pos = m.end()
    return toks


# ---------------------------------------------------------------- AST


@dataclass
class Node:
    kind: str  # num str field atom op unop cond cast call index brace
    value: Any = None
    args: List[Node] = field(default_factory=list)


_BINARY = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, ">": 7, "<=": 7, ">=": 7,
    "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}  # fmt: skip
_TYPE_WORDS = {
    "unsigned", "signed", "int", "long", "short", "char", "void", "struct", "const", "bool", "_Bool", "enum",
    "union", "volatile", "float", "double",
}  # fmt: skip


def _is_type(words: Sequence[Tuple[str, str]]) -> bool:
    if not words:
        return False
    for kind, v in words:
        if not (kind == "id" or v == "*"):
            return False
    ids = [v for k, v in words if k == "id"]
    if not ids:
        return False
    if any(v in _TYPE_WORDS for v in ids) or any(v == "*" for _, v in words):
        return True
    return len(ids) == 1 and bool(re.fullmatch(r"(?:__)?[us](8|16|32|64)|[a-z0-9_]+_t|size_t|pid_t|gfp_t", ids[0]))


class _Parser:
    def __init__(self, toks: List[Tuple[str, str]]) -> None:
        self.t = toks
        self.i = 0

    def peek(self, k: int = 0) -> Tuple[str, str]:
        j = self.i + k
        return self.t[j] if j < len(self.t) else ("eof", "")

    def next(self) -> Tuple[str, str]:
        tok = self.peek()
        if tok[0] == "eof":
            raise ParseFailed("unexpected end of print fmt")
        self.i += 1
        return tok

    def expect(self, v: str) -> None:
        tok = self.next()
        if tok[1] != v or tok[0] not in ("op",):
            raise ParseFailed(f"expected {v!r}, got {tok[1]!r}")

    def expr(self, min_prec: int = 0) -> Node:
        left = self.unary()
        while True:
            kind, v = self.peek()
            if kind == "op" and v == "?" and min_prec <= 0:
                self.next()
                a = self.expr(0)
                self.expect(":")
                b = self.expr(0)
                left = Node("cond", None, [left, a, b])
                continue
            if kind != "op" or v not in _BINARY or _BINARY[v] < min_prec or _BINARY[v] == 0:
                return left
            prec = _BINARY[v]
            if prec < max(min_prec, 1):
                return left
            self.next()
            right = self.expr(prec + 1)
            left = Node("op", v, [left, right])

    def unary(self) -> Node:
        kind, v = self.peek()
        if kind == "op" and v in ("-", "!", "~", "+", "*", "&"):
            self.next()
            return Node("unop", v, [self.unary()])
        if kind == "op" and v == "(":
            # a cast: "(" type words ")" followed by an operand
            j = self.i + 1
            while j < len(self.t) and self.t[j][1] != ")" and self.t[j][1] != "(":
                j += 1
            inner = self.t[self.i + 1 : j]
            after = self.t[j + 1] if j + 1 < len(self.t) else ("eof", "")
            single = len(inner) == 1 and inner[0][0] == "id" and inner[0][1] != "REC"
            if single and j < len(self.t) and self.t[j][1] == ")" and (after[0] in ("id", "num") or after[1] == "("):
                # libtraceevent: "(NAME)" followed by an item or "(" is a typecast, whatever NAME is
                self.i = j + 1
                return Node("cast", inner[0][1], [self.unary()])
            if j < len(self.t) and self.t[j][1] == ")" and _is_type(inner) and after[0] != "eof":
                if not (after[0] == "op" and after[1] in _BINARY and after[1] not in ("-", "*", "&")) and after[
                    1
                ] not in (")", ",", "?", ":", "]"):
                    self.i = j + 1
                    return Node("cast", " ".join(v2 for _, v2 in inner), [self.unary()])
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            kind, v = self.peek()
            if kind == "op" and v == "[":
                self.next()
                idx = self.expr()
                self.expect("]")
                node = Node("index", None, [node, idx])
            elif kind == "op" and v in (".", "->"):
                raise ParseFailed("member access on a non-REC value")
            else:
                return node

    def primary(self) -> Node:
        kind, v = self.next()
        if kind == "num":
            return Node("num", int(v.rstrip("uUlL"), 0) & M64)
        if kind == "chr":
            s = _unescape(v[1:-1])
            return Node("num", ord(s[0]) & 0xFF if s else 0)
        if kind == "str":
            s = _unescape(v[1:-1])
            while self.peek()[0] == "str":
                s += _unescape(self.next()[1][1:-1])
            return Node("str", s)
        if kind == "id":
            if v == "REC":
                self.expect("->")
                k2, name = self.next()
                if k2 != "id":
                    raise ParseFailed("REC-> without a field name")
                return Node("field", name)
            if self.peek()[1] == "(" and self.peek()[0] == "op":
                self.next()
                if v == "sizeof":
                    depth = 1
                    words = []
                    while depth:
                        k3, w = self.next()
                        if w == "(":
                            depth += 1
                        elif w == ")":
                            depth -= 1
                            if not depth:
                                break
                        words.append((k3, w))
                    return Node("sizeof", words)
                args: List[Node] = []
                if self.peek()[1] != ")":
                    while True:
                        args.append(self.arg())
                        if self.peek()[1] == ",":
                            self.next()
                            continue
                        break
                self.expect(")")
                return Node("call", v, args)
            return Node("atom", v)
        if kind == "op" and v == "(":
            if self.peek() == ("id", "REC") and self.peek(1) == ("op", ")") and self.peek(2) == ("op", "->"):
                self.i += 2  # "(REC)->field" as libtraceevent's process_paren accepts it
                k2, name = self.peek(1)
                self.i += 2
                if k2 != "id":
                    raise ParseFailed("REC-> without a field name")
                return Node("field", name)
            e = self.expr()
            self.expect(")")
            return e
        if kind == "op" and v == "{":
            items: List[Node] = []
            while self.peek()[1] != "}":
                items.append(self.arg())
                if self.peek()[1] == ",":
                    self.next()
            self.expect("}")
            return Node("brace", None, items)
        raise ParseFailed(f"unexpected token {v!r}")

    def arg(self) -> Node:
        return self.expr()


def split_print_fmt(text: str) -> Tuple[str, List[Node]]:
    """Split `"fmt", arg, arg` into the unescaped-later format string and parsed argument trees."""
    toks = tokenize(text)
    if not toks or toks[0][0] != "str":
        raise ParseFailed("print fmt does not start with a string")
    p = _Parser(toks)
    fmt = ""
    while p.peek()[0] == "str":
        fmt += p.next()[1][1:-1]
    args: List[Node] = []
    while p.peek()[0] != "eof":
        if p.peek()[1] != ",":
            raise ParseFailed(f"expected ',' in print fmt, got {p.peek()[1]!r}")
        p.next()
        if p.peek()[0] == "eof":
            break
        args.append(p.arg())
    return fmt, args


# ---------------------------------------------------------------- evaluation context


@dataclass
class Context:
    """What rendering needs besides the record: byte order, long size, symbol tables."""

    big_endian: bool = False
    long_size: int = 8
    kallsyms: Kallsyms = field(default_factory=Kallsyms)
    printk: Dict[int, str] = field(default_factory=dict)
    kernel_symbols: bool = False
    """%pS/%pF as the kernel's `trace` file prints them (`name+0xOFF/0xSIZE`), not as trace-cmd (`name+0xOFF`)."""

    def reader(self, size: int, signed: bool = False) -> Callable[[bytes, int], Tuple[int, ...]]:
        code = {1: "B", 2: "H", 4: "I", 8: "Q"}.get(size)
        if code is None:
            big = self.big_endian
            return lambda d, o: (int.from_bytes(d[o : o + size], "big" if big else "little", signed=signed),)
        return struct.Struct((">" if self.big_endian else "<") + (code.lower() if signed else code)).unpack_from


def c_div(a: int, b: int) -> int:
    """C division: truncates toward zero; by zero gives 0 (libtraceevent does not crash either)."""
    if not b:
        return 0
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def c_mod(a: int, b: int) -> int:
    return a - c_div(a, b) * b if b else 0


def _signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def _cast_spec(type_name: str, long_size: int) -> Tuple[int, bool]:
    """(size in bytes, signed) of a C type used in a cast; 0 size means "leave the value as is"."""
    t = " ".join(type_name.replace("const", " ").replace("volatile", " ").split())
    if "*" in t:
        return long_size, False
    unsigned = t.startswith("unsigned") or bool(re.fullmatch(r"(?:__)?u(8|16|32|64)", t))
    base = t.replace("unsigned", "").replace("signed", "").strip()
    m = re.fullmatch(r"(?:__)?[us](8|16|32|64)", base)
    if m:
        return int(m.group(1)) // 8, not unsigned
    if base in ("char",):
        return 1, not unsigned
    if base in ("short", "short int"):
        return 2, not unsigned
    if base in ("int", ""):
        return 4, not unsigned
    if base in ("long", "long int"):
        return long_size, not unsigned
    if base in ("long long", "long long int"):
        return 8, not unsigned
    if base in ("bool", "_Bool"):
        return 1, False
    return _TYPEDEFS.get(t, (0, False)) if t not in ("ulong", "size_t", "ssize_t") else (long_size, t == "ssize_t")


# Kernel typedefs that appear in casts of print fmts (C semantics; libtraceevent leaves them unchanged).
_TYPEDEFS = {"uint": (4, False), "ushort": (2, False), "uchar": (1, False), "pid_t": (4, True), "gfp_t": (4, False)}


# ---------------------------------------------------------------- compiled event


@dataclass
class Part:
    """One piece of a compiled print fmt: literal text or a conversion bound to an argument."""

    literal: str = ""
    fn: Optional[Callable[[bytes], str]] = None


class Compiler:
    """Compiles the print fmt of one event into a `render(payload) -> str` function."""

    def __init__(self, ev: EventFormat, ctx: Context) -> None:
        self.ev = ev
        self.ctx = ctx
        self.min_size = 0

    # ---- lookups
    def field(self, name: str) -> Optional[Field]:
        return self.ev.by_name.get(name)

    def dyn_span(self, f: Field) -> Callable[[bytes], Tuple[int, int]]:
        big = self.ctx.big_endian
        return lambda d: f.dynamic_span(d, big)

    # ---- numbers
    def num(self, n: Node) -> NumFn:
        k = n.kind
        if k == "num":
            v = n.value
            return lambda d: v
        if k == "field":
            f = self.field(n.value)
            if f is None:
                return lambda d: 0
            # C semantics (what the kernel prints): a signed field's value is negative, an unsigned one is not
            rd = self.ctx.reader(f.size, f.signed) if f.size in (1, 2, 4, 8) else None
            off, end = f.offset, f.offset + f.size
            if rd is None:
                return lambda d: 0
            return lambda d: rd(d, off)[0] if end <= len(d) else 0
        if k == "atom":
            v = _SOFTIRQ_FLAGS.get(n.value, 0)
            return lambda d: v
        if k == "str":
            return lambda d: 0
        if k == "cast":
            return self._cast_fn(n.value, self.num(n.args[0]))
        if k == "unop":
            x = self.num(n.args[0])
            op = n.value
            if op == "-":
                return lambda d: -x(d)
            if op == "!":
                return lambda d: 0 if x(d) else 1
            if op == "~":
                return lambda d: ~x(d)
            if op == "+":
                return x
            raise ParseFailed(f"unary {op} is not supported")
        if k == "cond":
            c, a, b = (self.num(x) for x in n.args)
            return lambda d: a(d) if c(d) else b(d)
        if k == "op":
            return self.binop(n.value, self.num(n.args[0]), self.num(n.args[1]))
        if k == "index":
            return self.index(n)
        if k == "sizeof":
            return self.sizeof(n.value)
        if k == "call":
            return self.num_call(n)
        raise ParseFailed(f"{k} has no numeric value")

    @staticmethod
    def binop(op: str, a: NumFn, b: NumFn) -> NumFn:
        table: Dict[str, NumFn] = {
            "+": lambda d: a(d) + b(d),
            "-": lambda d: a(d) - b(d),
            "*": lambda d: a(d) * b(d),
            "/": lambda d: c_div(a(d), b(d)),
            "%": lambda d: c_mod(a(d), b(d)),
            "&": lambda d: a(d) & b(d),
            "|": lambda d: a(d) | b(d),
            "^": lambda d: a(d) ^ b(d),
            "<<": lambda d: (lambda x, y: x << y if 0 <= y < 64 else 0)(a(d), b(d)),
            ">>": lambda d: (lambda x, y: x >> y if 0 <= y < 64 else 0)(a(d), b(d)),
            "==": lambda d: int(a(d) == b(d)),
            "!=": lambda d: int(a(d) != b(d)),
            "<": lambda d: int(a(d) < b(d)),
            ">": lambda d: int(a(d) > b(d)),
            "<=": lambda d: int(a(d) <= b(d)),
            ">=": lambda d: int(a(d) >= b(d)),
            "&&": lambda d: int(bool(a(d)) and bool(b(d))),
            "||": lambda d: int(bool(a(d)) or bool(b(d))),
        }
        return table[op]

    def index(self, n: Node) -> NumFn:
        base, idx = n.args
        typecast: Optional[Node] = None
        while base.kind == "cast":
            typecast = typecast or base
            base = base.args[0]
        right = self.num(idx)
        ls = self.ctx.long_size
        if base.kind == "field":
            f = self.field(base.value)
            if f is None:
                return lambda d: 0
            es = f.elem_size or ls
            off0 = f.offset
            signed = f.signed

            def offset(d: bytes) -> int:
                return off0 + right(d) * es

        elif base.kind == "call" and base.value in ("__get_dynamic_array", "__get_rel_dynamic_array"):
            f = self._dyn_field(base)
            es = f.elem_size or ls
            span = self.dyn_span(f)
            signed = False

            def offset(d: bytes) -> int:
                return span(d)[0] + right(d)

        else:
            raise ParseFailed("indexing something that is not a field")
        rd = self.ctx.reader(es, signed and es in (1, 2, 4, 8))
        val: NumFn = lambda d: (lambda o: rd(d, o)[0] if o + es <= len(d) else 0)(offset(d))  # noqa: E731
        if typecast is not None:
            return self._cast_fn(typecast.value, val)
        return val

    def _cast_fn(self, type_name: str, inner: NumFn) -> NumFn:
        size, sign = _cast_spec(type_name, self.ctx.long_size)
        if size == 0:
            return inner
        bits = size * 8
        mask = (1 << bits) - 1
        if sign:
            top = 1 << (bits - 1)
            return lambda d: ((inner(d) & mask) ^ top) - top
        return lambda d: inner(d) & mask

    def sizeof(self, words: List[Tuple[str, str]]) -> NumFn:
        text = " ".join(w for _, w in words)
        m = re.fullmatch(r"REC -> (\w+)", text)
        if m:
            f = self.field(m.group(1))
            v = f.size if f else 0
        else:
            size, _ = _cast_spec(text, self.ctx.long_size)
            if size == 0:
                raise ParseFailed(f"sizeof({text}) is unknown")
            v = size
        return lambda d: v

    def _dyn_field(self, n: Node) -> Field:
        if len(n.args) != 1 or n.args[0].kind not in ("atom", "field"):
            raise ParseFailed(f"{n.value} takes one field name")
        f = self.field(n.args[0].value)
        if f is None:
            raise ParseFailed(f"{n.value}: no field {n.args[0].value}")
        return f

    def num_call(self, n: Node) -> NumFn:
        name = n.value
        if name == "__builtin_expect" and len(n.args) == 2:
            return self.num(n.args[0])
        if name in ("__get_dynamic_array_len", "__get_rel_dynamic_array_len"):
            span = self.dyn_span(self._dyn_field(n))
            return lambda d: span(d)[1]
        if name in ("__get_dynamic_array", "__get_rel_dynamic_array", "__get_sockaddr", "__get_sockaddr_rel"):
            span = self.dyn_span(self._dyn_field(n))
            return lambda d: span(d)[0]  # libtraceevent yields an address; only its offset is meaningful here
        if name in _STRING_CALLS:
            self.str_of(n)  # validate
            return lambda d: 0
        raise ParseFailed(f"function {name} not defined")

    # ---- strings (%s)
    def str_of(self, n: Node) -> StrFn:
        k = n.kind
        if k == "str":
            s = n.value
            return lambda d: s
        if k == "num":
            s = str(n.value)
            return lambda d: s
        if k == "atom":
            s = n.value
            return lambda d: s
        if k == "field":
            return self.str_field(n.value)
        if k == "cond":
            c = self.num(n.args[0])
            a, b = self.str_of(n.args[1]), self.str_of(n.args[2])
            return lambda d: a(d) if c(d) else b(d)
        if k == "call":
            return self.str_call(n)
        if k in ("op", "unop", "index", "sizeof"):
            self.num(n)
            return lambda d: ""
        if k == "cast":
            self.num(n)
            return lambda d: ""
        raise ParseFailed(f"{k} cannot print as a string")

    def str_field(self, name: str) -> StrFn:
        f = self.field(name)
        if f is None:
            return lambda d: ""
        ls = self.ctx.long_size
        if not f.is_array and f.size == ls:
            rd = self.ctx.reader(ls)
            printk = self.ctx.printk
            off = f.offset
            return lambda d: (lambda a: printk.get(a, "%x" % a))(rd(d, off)[0]) if off + ls <= len(d) else ""
        off, size = f.offset, f.size
        if size:
            return lambda d: _cstr(d[off : off + size])
        return lambda d: _cstr(d[off:])

    def str_call(self, n: Node) -> StrFn:
        name = n.value
        args = n.args
        if name in ("__get_str", "__get_rel_str"):
            span = self.dyn_span(self._dyn_field(n))
            return lambda d: _dyn_str(d, span(d))
        if name in ("__print_flags", "__print_symbolic", "__print_flags_u64", "__print_symbolic_u64"):
            return self.print_flags(n)
        if name in ("__print_hex", "__print_hex_str"):
            if len(args) != 2:
                raise ParseFailed(f"{name} takes 2 arguments")
            sep = " " if name == "__print_hex" else ""
            buf = self.buffer_of(args[0])
            count = self.num(args[1])
            return lambda d: sep.join("%02x" % b for b in buf(d)[: count(d) & 0xFFFFFFFF])
        if name == "__print_array":
            if len(args) != 3:
                raise ParseFailed("__print_array takes 3 arguments")
            buf = self.buffer_of(args[0])
            count, el = self.num(args[1]), self.num(args[2])
            big = self.ctx.big_endian
            return lambda d: _int_array(buf(d), count(d), el(d), big)
        if name in ("__get_bitmask", "__get_rel_bitmask"):
            span = self.dyn_span(self._dyn_field(n))
            return lambda d: _bitmask(_dyn_bytes(d, span(d)))
        if name in ("__get_cpumask", "__get_rel_cpumask"):
            span = self.dyn_span(self._dyn_field(n))
            return lambda d: _cpumask(_dyn_bytes(d, span(d)))
        if name in ("__get_dynamic_array", "__get_rel_dynamic_array", "__get_sockaddr", "__get_sockaddr_rel"):
            self._dyn_field(n)
            return lambda d: ""
        if name == "__builtin_expect" and len(args) == 2:
            return self.str_of(args[0])
        if name in ("__get_dynamic_array_len", "__get_rel_dynamic_array_len"):
            self._dyn_field(n)
            return lambda d: ""
        raise ParseFailed(f"function {name} not defined")

    def buffer_of(self, n: Node) -> Callable[[bytes], bytes]:
        while n.kind == "cast":
            n = n.args[0]
        if n.kind == "call" and n.value in ("__get_dynamic_array", "__get_rel_dynamic_array"):
            span = self.dyn_span(self._dyn_field(n))
            return lambda d: d[span(d)[0] :]
        if n.kind == "field":
            f = self.field(n.value)
            if f is None:
                raise ParseFailed(f"no field {n.value}")
            off = f.offset
            return lambda d: d[off:]
        raise ParseFailed("buffer argument is not a field or dynamic array")

    def print_flags(self, n: Node) -> StrFn:
        node, fmt = self.value_formatter(n)
        val = self.num(node)
        return lambda d: fmt(val(d))

    def value_formatter(self, n: Node) -> Tuple[Node, Callable[[int], str]]:
        """__print_flags/__print_symbolic: (the value's tree, value -> text) with libtraceevent's matching rules."""
        name = n.value
        is_flags = name.startswith("__print_flags")
        args = n.args
        if len(args) < 1:
            raise ParseFailed(f"{name} without arguments")
        delim = ""
        rest = args[1:]
        if is_flags:
            if not rest or rest[0].kind != "str":
                raise ParseFailed("__print_flags needs a delimiter string")
            delim = rest[0].value
            rest = rest[1:]
        table: List[Tuple[int, str]] = []
        for item in rest:
            if item.kind == "brace" and len(item.args) == 2 and item.args[1].kind != "str":
                continue  # a { 0, NULL } terminator
            if item.kind != "brace" or len(item.args) != 2 or item.args[1].kind != "str":
                raise ParseFailed(f'{name}: malformed {{value, "name"}} entry')
            table.append((_flag_value(item.args[0]), item.args[1].value))
        if is_flags:
            memo: Dict[int, str] = {}

            def flags(v: int) -> str:
                text = memo.get(v & M64)
                if text is None:
                    text = flags_of(v)
                    if len(memo) < 4096:
                        memo[v & M64] = text
                return text

            flags.memo = memo  # type: ignore[attr-defined]  # generated code reads hits straight from it

            def flags_of(v: int) -> str:
                v &= M64  # the kernel's __print_flags takes an unsigned long
                out: List[str] = []
                for fv, s in table:
                    if not v and fv < 0:
                        out.append(s)
                        break
                    if fv > 0 and (v & fv) == fv:
                        out.append(s)
                        v &= ~fv
                text = delim.join(out)
                if v:
                    text += (delim if out else "") + "0x%x" % v
                return text

            return args[0], flags
        lookup: Dict[int, str] = {}
        for fv, s in table:
            lookup.setdefault(fv & M64, s)  # libtraceevent compares as signed; the same match on 64-bit patterns
        get = lookup.get

        def symbolic(v: int) -> str:
            v &= M64  # the kernel's __print_symbolic takes an unsigned long
            s = get(v)
            return s if s is not None else "0x%x" % v

        symbolic.memo = lookup  # type: ignore[attr-defined]  # generated code reads hits straight from it
        return args[0], symbolic


_STRING_CALLS = {
    "__get_str", "__get_rel_str", "__print_flags", "__print_symbolic", "__print_flags_u64", "__print_symbolic_u64",
    "__print_hex", "__print_hex_str", "__print_array", "__get_bitmask", "__get_rel_bitmask", "__get_cpumask",
    "__get_rel_cpumask",
}  # fmt: skip


def _const(n: Node) -> Union[int, str]:
    """Evaluate a constant expression of a flag/symbol table; an identifier stays a name."""
    if n.kind == "num":
        return n.value
    if n.kind == "atom":
        return n.value
    if n.kind == "unop" and n.value == "-":
        v = _const(n.args[0])
        return -v if isinstance(v, int) else 0
    if n.kind == "unop" and n.value == "~":
        v = _const(n.args[0])
        return ~v & M64 if isinstance(v, int) else 0
    if n.kind == "cast":
        return _const(n.args[0])
    if n.kind == "op":
        # Inside an expression libtraceevent reads a name with strtoll: an enum the kernel left unresolved counts 0.
        a, b = _const(n.args[0]), _const(n.args[1])
        a = 0 if isinstance(a, str) else a
        b = 0 if isinstance(b, str) else b
        try:
            return Compiler.binop(n.value, lambda d: a & M64, lambda d: b & M64)(b"")
        except KeyError:
            raise ParseFailed("bad operator in flag value") from None
    raise ParseFailed("non-constant flag value")


def _flag_value(n: Node) -> int:
    """libtraceevent's eval_flag on the printed value: decimal text parses, names map, anything else is -1."""
    v = _const(n)
    if isinstance(v, str):
        return _SOFTIRQ_FLAGS.get(v, -1)
    if v < 0:
        return -1
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def _dyn_bytes(d: bytes, span: Tuple[int, int]) -> bytes:
    return d[span[0] : span[0] + span[1]]


def _dyn_str(d: bytes, span: Tuple[int, int]) -> str:
    return _cstr(d[span[0] :]) if span[1] else ""


def _cstr(b: bytes) -> str:
    i = b.find(b"\0")
    if i >= 0:
        b = b[:i]
    return b.decode("utf-8", "replace")


def _int_array(buf: bytes, count: int, el: int, big: bool) -> str:
    if el not in (1, 2, 4, 8):
        return "{" + ",".join("BAD SIZE:%d 0x%x" % (el, b) for b in buf[:count]) + "}"
    out = []
    for i in range(count & 0xFFFFFFFF):
        chunk = buf[i * el : i * el + el]
        if len(chunk) < el:
            break
        out.append("0x%x" % int.from_bytes(chunk, "big" if big else "little"))
    return "{" + ",".join(out) + "}"


def _bitmask(b: bytes) -> str:
    """The kernel's %*pb layout: 32-bit words, most significant first, comma separated, leading zeros kept."""
    if not b:
        return ""
    words = [int.from_bytes(b[i : i + 4], "little") for i in range(0, len(b), 4)]
    return ",".join("%08x" % w for w in reversed(words))


def _cpumask(b: bytes) -> str:
    """The kernel's %*pbl layout: ranges of set bits, e.g. 0-3,8."""
    bits = [i for i in range(len(b) * 8) if b[i // 8] >> (i % 8) & 1]
    out = []
    i = 0
    while i < len(bits):
        j = i
        while j + 1 < len(bits) and bits[j + 1] == bits[j] + 1:
            j += 1
        out.append(str(bits[i]) if i == j else "%d-%d" % (bits[i], bits[j]))
        i = j + 1
    return ",".join(out)


# ---------------------------------------------------------------- conversions

_LEN_BITS = {-2: 8, -1: 16, 0: 32, 1: 64, 2: 64}


def _c_number(spec: str, conv: str, v: int, ls: int, star: Optional[int]) -> str:
    """printf of one integer conversion the way glibc does after libtraceevent's cast by length modifier."""
    bits = _LEN_BITS.get(ls, 64)
    if conv in "di":
        v = _signed(v, bits)
    else:
        v &= (1 << bits) - 1
    if star is not None:
        spec = spec.replace("*", str(_signed(star, 32)), 1)
    if conv == "c":
        return (spec + "s") % chr(v & 0xFF)
    pyconv = "d" if conv in "diu" else conv
    if "#" in spec and (v == 0 or conv == "o"):
        if conv == "o" and v:
            spec = spec.replace("#", "")
            width = spec
            return (width + "s") % ("0" + "%o" % v) if not re.search(r"\d", spec) else (spec + "s") % ("0" + "%o" % v)
        spec = spec.replace("#", "")
    return (spec + pyconv) % v


class PrintFormat:
    """A compiled print fmt: `render(payload)` returns the body text; `failed` says it could not be parsed."""

    def __init__(self, ev: EventFormat, ctx: Context, fmt_text: Optional[str] = None) -> None:
        self.ev = ev
        self.ctx = ctx
        self.failed = False
        self.reason = ""
        self.line_parts: Optional[Any] = None
        """codegen.LineParts when the body compiled to one `%` that can be merged into a report line's."""
        self._render: Callable[[bytes], str] = self._raw
        try:
            if fmt_text is None:
                fmt, args = split_print_fmt(ev.print_fmt)
            else:
                fmt, args = fmt_text, []
            self._render = self._compile(fmt, args, Compiler(ev, ctx), codegen=True)
        except (ParseFailed, RecursionError, ValueError, OverflowError) as e:
            self.failed = True
            self.reason = str(e) or type(e).__name__

    def render(self, data: bytes) -> str:
        try:
            return self._render(data)
        except (struct.error, ValueError, OverflowError, IndexError, TypeError, KeyError, RecursionError):
            return self._raw(data)

    def _raw(self, data: bytes) -> str:
        return "[FAILED TO PARSE]" + raw_fields(self.ev, data, self.ctx)

    @staticmethod
    def parse_conversions(fmt: str) -> List[Tuple[str, str, int, bool, str]]:
        """Split a C format into (kind, spec, ls, star, extra) items; kind is "lit", "num", "str", "ptr"."""
        out: List[Tuple[str, str, int, bool, str]] = []
        i = 0
        n = len(fmt)
        lit: List[str] = []
        while i < n:
            c = fmt[i]
            if c == "\\" and i + 1 < n:
                lit.append(_ESC.get(fmt[i + 1], fmt[i + 1]) if fmt[i + 1] != "0" else "0")
                i += 2
                continue
            if c != "%":
                lit.append(c)
                i += 1
                continue
            if i + 1 < n and fmt[i + 1] == "%":
                lit.append("%")
                i += 2
                continue
            if lit:
                out.append(("lit", "".join(lit), 0, False, ""))
                lit = []
            j = i + 1
            ls = 0
            star = False
            spec_chars = ["%"]
            while j < n:
                ch = fmt[j]
                if ch == "#" or ch == "." or ch.isdigit() or ch in "-+":
                    spec_chars.append(ch)
                elif ch == "h":
                    ls -= 1
                elif ch == "l":
                    ls += 1
                elif ch == "L":
                    ls = 2
                elif ch in "zZ":
                    ls = 1
                elif ch == "*":
                    star = True
                    spec_chars.append("*")
                elif ch == "p":
                    ext = _pointer_ext(fmt, j + 1)
                    out.append(("ptr", "".join(spec_chars), ls, star, fmt[j + 1 : j + 1 + ext]))
                    j += 1 + ext
                    break
                elif ch in "cdiuxXo":
                    out.append(("num", "".join(spec_chars), ls, star, ch))
                    j += 1
                    break
                elif ch == "s":
                    out.append(("str", "".join(spec_chars), 0, star, ""))
                    j += 1
                    break
                else:
                    out.append(("lit", ">%s<" % ch, 0, False, ""))
                    j += 1
                    break
                j += 1
            i = j
        if lit:
            out.append(("lit", "".join(lit), 0, False, ""))
        return out

    def _compile(self, fmt: str, args: List[Node], comp: Compiler, codegen: bool = False) -> Callable[[bytes], str]:
        """Compile `fmt` with its argument trees; with `codegen`, into generated Python source (see codegen.py)."""
        items = self.parse_conversions(fmt)
        parts: List[Union[str, Callable[[bytes], str]]] = []
        item_nodes: List[List[Node]] = []
        ai = 0

        def take() -> Node:
            nonlocal ai
            if ai >= len(args):
                raise ParseFailed("no argument match")
            ai += 1
            return args[ai - 1]

        for kind, spec, ls, star, extra in items:
            if kind == "lit":
                parts.append(spec)
                item_nodes.append([])
                continue
            star_node = take() if star else None
            star_fn = comp.num(star_node) if star_node is not None else None
            node = take()
            item_nodes.append([node] if star_node is None else [star_node, node])
            if kind == "num":
                parts.append(self._num_part(comp, node, spec, ls, extra, star_fn))
            elif kind == "str":
                parts.append(self._str_part(comp, node, spec, star_fn))
            else:
                parts.append(self._ptr_part(comp, node, extra))
        fns = [p if not isinstance(p, str) else (lambda s: lambda d: s)(p) for p in parts]
        if all(isinstance(p, str) for p in parts):
            text = "".join(p for p in parts if isinstance(p, str))
            return lambda d: text
        if len(parts) == 1 and not isinstance(parts[0], str):
            slow = parts[0]
        else:
            slow = lambda d: "".join([f(d) for f in fns])  # noqa: E731
        if not codegen:
            return slow
        from fleet.ftrace import codegen as cg

        return cg.generate(self, items, item_nodes, cg.new_env(comp), slow, fns)

    def _num_part(
        self, comp: Compiler, node: Node, spec: str, ls: int, conv: str, star_fn: Optional[NumFn]
    ) -> Callable[[bytes], str]:
        val = comp.num(node)
        if ls < -2 or ls > 2:
            raise ParseFailed("bad count")
        simple = spec == "%" and star_fn is None
        bits = _LEN_BITS[ls]
        fld = comp.field(node.value) if node.kind == "field" else None
        if fld is not None and bits == 64 and 0 < fld.size <= 4:
            # C passes an int-sized field as an int: a 64-bit conversion sees its 32-bit pattern, zero-extended
            inner = val
            val = lambda d: inner(d) & 0xFFFFFFFF  # noqa: E731
        if simple and conv in "di":
            top = 1 << (bits - 1)
            mask = (1 << bits) - 1
            return lambda d: str(((val(d) & mask) ^ top) - top)
        if simple and conv == "u":
            mask = (1 << bits) - 1
            return lambda d: str(val(d) & mask)
        if simple and conv in "xX":
            mask = (1 << bits) - 1
            f = "%" + conv
            return lambda d: f % (val(d) & mask)
        if star_fn is not None:
            sf = star_fn
            return lambda d: _c_number(spec, conv, val(d), ls, sf(d))
        return lambda d: _c_number(spec, conv, val(d), ls, None)

    def _str_part(self, comp: Compiler, node: Node, spec: str, star_fn: Optional[NumFn]) -> Callable[[bytes], str]:
        sfn = comp.str_of(node)
        if spec == "%" and star_fn is None:
            return sfn
        if star_fn is not None:
            sf = star_fn
            return lambda d: (spec.replace("*", str(_signed(sf(d), 32)), 1) + "s") % sfn(d)
        pyspec = spec + "s"
        return lambda d: pyspec % sfn(d)

    def _ptr_part(self, comp: Compiler, node: Node, ext: str) -> Callable[[bytes], str]:
        c = ext[:1]
        if node.kind == "str":  # a trace_printk string argument printed with %p prints the string
            text = node.value
            return lambda d: text
        if c in ("F", "f", "S", "s", "B"):
            val = comp.num(node)
            func = self.symbol_formatter(c)
            return lambda d: func(val(d))
        if c in ("M", "m", "I", "i", "U"):
            return self._field_ptr(comp, node, ext)
        val = comp.num(node)
        return lambda d: (lambda v: "0x%x" % (v & M64) if v else "(nil)")(val(d))

    def symbol_formatter(self, c: str) -> Callable[[int], str]:
        """%ps/%pf (function name), %pS/%pF (name+0xoffset) or %pB (name+0xoffset/0xsize) via kallsyms, memoized."""
        ks = self.ctx.kallsyms
        with_off = c in ("F", "S")
        kernel_style = self.ctx.kernel_symbols
        cache: Dict[int, str] = {}

        def func(v: int) -> str:
            text = cache.get(v)
            if text is None:
                if c == "B":  # the kernel's sprint_backtrace: symbol of addr-1, `name+0xOFF/0xSIZE`
                    hit = ks.lookup(v - 1)
                    size = ks.size_at(v - 1)
                    text = "0x%x" % v if hit is None else "%s+%#x/%#x" % (hit[0], v - hit[1], size)
                    if len(cache) < 65536:
                        cache[v] = text
                    return text
                hit = ks.lookup(v)
                if hit is None:
                    text = "0x%x" % v
                elif kernel_style:  # the kernel's choice of alias, and %pS with the symbol's size
                    text = (ks.kernel_symbol(v) if with_off else ks.kernel_name(v)) or "0x%x" % v
                else:
                    text = hit[0] + ("+0x%x" % (v - hit[1]) if with_off else "")
                if len(cache) < 65536:
                    cache[v] = text
            return text

        func.memo = cache  # type: ignore[attr-defined]  # generated code reads hits straight from it
        return func

    def _field_ptr(self, comp: Compiler, node: Node, ext: str) -> Callable[[bytes], str]:
        while node.kind == "cast":
            node = node.args[0]
        c = ext[:1]
        if (
            node.kind == "call"
            and node.value in ("__get_dynamic_array", "__get_sockaddr", "__get_rel_dynamic_array", "__get_sockaddr_rel")
            and ext[:2] in ("IS", "iS")
        ):
            span = comp.dyn_span(comp._dyn_field(node))
            return lambda d: _sockaddr(ext, _dyn_bytes(d, span(d)))
        if node.kind != "field":
            kind = K_DYNARRAY if node.kind == "call" and "dynamic" in str(node.value) else K_OP
            if ext[:2] in ("IS", "iS"):
                msg = "ARG NOT FIELD NOR DYNAMIC ARRAY BUT TYPE %d" % kind
            else:
                msg = "ARG TYPE NOT FIELD BUT %d" % kind
            return lambda d: msg
        f = comp.field(node.value)
        if f is None:
            return lambda d: ""
        off, size = f.offset, f.size
        if c in ("M", "m"):
            sep = "" if c == "m" else ("-" if ext[1:2] == "F" else ":")
            rev = "R" in ext[1:]
            if size != 6:
                return lambda d: "INVALIDMAC"
            return lambda d: sep.join("%02x" % b for b in (d[off : off + 6][::-1] if rev else d[off : off + 6]))
        if c == "U":
            if size != 16:
                return lambda d: "INVALIDUUID"
            upper = ext[1:2] in ("L", "B")
            guid = ext[1:2] in ("L", "l")
            return lambda d: _uuid(d[off : off + 16], upper, guid)
        # I / i
        ver = ext[1:2]
        if ver == "4":
            if size != 4:
                return lambda d: "INVALIDIPv4"
            return lambda d: _ip4(d[off : off + 4], c)
        if ver == "6":
            if size != 16:
                return lambda d: "INVALIDIPv6"
            compressed = c == "I" and ext[2:3] == "c"
            return lambda d: _ip6c(d[off : off + 16]) if compressed else _ip6(d[off : off + 16], c)
        if ver == "S":
            return lambda d: _sockaddr(ext, d[off : off + size])
        return lambda d: ""


def _pointer_ext(fmt: str, i: int) -> int:
    """How many characters after %p belong to the conversion (libtraceevent's parse_arg_format_pointer)."""
    c = fmt[i : i + 1]
    nxt = fmt[i + 1 : i + 2]
    if c in ("F", "S", "f", "s", "B"):  # libtraceevent leaves %pB to plain %p; fleet prints it as the kernel does
        return 1
    if c in ("M", "m"):
        return 2 if nxt in ("R", "F") else 1
    if c in ("I", "i"):
        ret = 0
        index = 2
        if nxt == "S":
            while fmt[i + index : i + index + 1] in ("p", "f", "s") and fmt[i + index : i + index + 1]:
                ret += 1
                index += 1
        if nxt in ("S", "4"):
            if fmt[i + index : i + index + 1] in ("h", "n", "l", "b") and fmt[i + index : i + index + 1]:
                ret += 1
                index += 1
            if nxt == "4":
                return ret + 2
        if nxt in ("S", "6"):
            if fmt[i + index : i + index + 1] == "c":
                ret += 1
            return ret + 2
        return 1
    if c == "U":
        return 2 if nxt in ("L", "l", "B", "b") else 1
    if c == "h":
        return 2 if nxt in ("C", "D", "N") else 1
    return 0


def _ip4(b: bytes, c: str) -> str:
    if c == "i":
        return "%03d.%03d.%03d.%03d" % tuple(b)
    return "%d.%d.%d.%d" % tuple(b)


def _ip6(b: bytes, c: str) -> str:
    groups = ["%02x%02x" % (b[j], b[j + 1]) for j in range(0, 16, 2)]
    return (":" if c == "I" else "").join(groups)


def _ip6c(b: bytes) -> str:
    words = [b[j] << 8 | b[j + 1] for j in range(0, 16, 2)]
    v4mapped = words[:5] == [0, 0, 0, 0, 0] and words[5] == 0xFFFF
    isatap = (words[4] | 0x0200) == 0x0200 and words[5] == 0x5EFE
    use4 = v4mapped or isatap
    rng = 6 if use4 else 8
    zl = [0] * 8
    for i in range(rng):
        for j in range(i, rng):
            if words[j]:
                break
            zl[i] += 1
    longest, colonpos = 1, -1
    for i in range(rng):
        if zl[i] > longest:
            longest, colonpos = zl[i], i
    out = []
    need = False
    i = 0
    while i < rng:
        if i == colonpos:
            if need or i == 0:
                out.append(":")
            out.append(":")
            need = False
            i += longest
            continue
        if need:
            out.append(":")
        out.append("%x" % words[i])
        need = True
        i += 1
    if use4:
        if need:
            out.append(":")
        out.append("%d.%d.%d.%d" % tuple(b[12:16]))
    return "".join(out)


def _sockaddr(ext: str, b: bytes) -> str:
    c = ext[:1]
    have_p = "p" in ext[2:]
    have_c = "c" in ext[2:]
    if len(b) < 2:
        return ""
    family = int.from_bytes(b[0:2], "little")
    if family == 2:  # AF_INET
        if len(b) < 16:
            return "INVALIDIPv4"
        s = _ip4(b[4:8], c)
        return s + (":%d" % int.from_bytes(b[2:4], "big") if have_p else "")
    if family == 10:  # AF_INET6
        if len(b) < 28:
            return "INVALIDIPv6"
        addr = b[8:24]
        s = _ip6c(addr) if have_c else _ip6(addr, c)
        return ("[" + s + "]:%d" % int.from_bytes(b[2:4], "big")) if have_p else s
    return ""


def _uuid(b: bytes, upper: bool, guid: bool) -> str:
    idx = (3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15) if guid else tuple(range(16))
    f = "%02X" if upper else "%02x"
    out = []
    for i in range(16):
        out.append(f % b[idx[i]])
        if i in (3, 5, 7, 9):
            out.append("-")
    return "".join(out)


def _is_printable(b: bytes) -> bool:
    for ch in b:
        if ch == 0:
            break
        if not (0x20 <= ch < 0x7F or ch in (9, 10, 11, 12, 13)):
            return False
    return True


def raw_field_text(f: Field, data: bytes, ctx: Context) -> str:
    """One field printed the way libtraceevent prints it when the print fmt failed (print_field_raw)."""
    big = ctx.big_endian
    if f.is_array:
        raw = f.raw_bytes(data, big)
        if f.is_string and _is_printable(raw):
            if f.is_dynamic:
                off, _ = f.dynamic_span(data, big)
                return _cstr(data[off:])
            return _cstr(data[f.offset :])
        return "ARRAY[" + ", ".join("%02x" % b for b in raw) + "]"
    if f.size not in (1, 2, 4, 8) or f.offset + f.size > len(data):
        return "0" if f.size in (1, 2, 4, 8) else ""
    v = ctx.reader(f.size)(data, f.offset)[0]
    if f.is_pointer:
        return "0x%x" % v
    if f.signed:
        if f.size == 4:
            return "0x%x" % (v & 0xFFFFFFFF) if f.is_long else str(_signed(v, 32))
        if f.size == 2:
            return "%2d" % _signed(v, 16)
        if f.size == 1:
            return "%1d" % _signed(v, 8)
        return str(_signed(v, 64))
    if f.is_long:
        return "0x%x" % v
    return str(v)


def raw_fields(ev: EventFormat, data: bytes, ctx: Context) -> str:
    """` name=value` for every non-common field, as trace-cmd prints an event it cannot format."""
    return "".join(" %s=%s" % (f.name, raw_field_text(f, data, ctx)) for f in ev.fields)


def make_bprint_args(fmt: str, data: bytes, buf_off: int, ctx: Context) -> List[Node]:
    """The argument list of a trace_printk record, read from its binary buffer as vbin_printf stored it."""
    args: List[Node] = []
    pos = buf_off
    size = len(data)
    i = 0
    n = len(fmt)
    rd4 = ctx.reader(4)
    while i < n and pos < size:
        if fmt[i] != "%":
            i += 1
            continue
        ls = 0
        i += 1
        while i < n:
            c = fmt[i]
            if c == "%":
                break
            if c == "l":
                ls += 1
            elif c == "h":
                ls -= 1
            elif c == "L":
                ls = 2
            elif c.isdigit() or c in ".#+-":
                pass
            elif c in "zZ":
                ls = 1
            elif c == "p" or c in "duixXoc" or c == "*":
                string = False
                if c == "p":
                    ls = 1
                    nx = fmt[i + 1 : i + 2]
                    if nx.isalnum():
                        i += 1
                        if nx in ("s", "S", "x") or (nx in ("f", "F") and fmt[i + 1 : i + 2] != "w"):
                            pass
                        elif 0x20 <= data[pos] < 0x7F:
                            string = True
                if string:
                    end = data.find(b"\0", pos)
                    end = size if end < 0 else end
                    args.append(Node("str", data[pos:end].decode("utf-8", "replace")))
                    pos = end + 1
                    break
                # the kernel's vbin_printf: char 1 byte, short 2, int 4, long, long long 8 (at 4-byte alignment)
                if c == "*":
                    vsize = 4
                elif c == "c":
                    vsize = 1
                else:
                    vsize = {-2: 1, -1: 2, 0: 4, 1: ctx.long_size, 2: 8}.get(ls, 4)
                align = min(vsize, 4)
                pos = (pos + align - 1) & ~(align - 1)
                if pos + vsize > size:
                    return args
                v = rd4(data, pos)[0] if vsize == 4 else ctx.reader(vsize)(data, pos)[0]
                pos += vsize
                args.append(Node("num", v))
                if c == "*":
                    i += 1
                    continue
                break
            elif c == "s":
                end = data.find(b"\0", pos)
                end = size if end < 0 else end
                args.append(Node("str", data[pos:end].decode("utf-8", "replace")))
                pos = end + 1
                break
            else:
                break
            i += 1
        i += 1
    return args


class BprintRenderer:
    """trace_printk records: the format comes from printk_formats by address, the arguments from the buffer."""

    def __init__(self, ev: EventFormat, ctx: Context) -> None:
        self.ev = ev
        self.ctx = ctx
        ip = ev.by_name.get("ip")
        fmt = ev.by_name.get("fmt")
        buf = ev.by_name.get("buf")
        if ip is None or fmt is None or buf is None:
            raise DecodeError(f"bprint format lacks ip/fmt/buf fields ({ev.name})")
        self.ip, self.fmt, self.buf = ip, fmt, buf
        self.cache: Dict[int, List[Tuple[str, str, int, bool, str]]] = {}

    def render(self, data: bytes) -> str:
        ctx = self.ctx
        if len(data) < self.fmt.offset + self.fmt.size:
            return PrintFormat(self.ev, ctx)._raw(data)
        ip = ctx.reader(self.ip.size)(data, self.ip.offset)[0]
        addr = ctx.reader(self.fmt.size)(data, self.fmt.offset)[0]
        pf = ctx.printk.get(addr)
        if pf is None:
            fmt = "%%ps: (NO FORMAT FOUND at %x)\n" % addr
        else:
            fmt = "%ps: " + pf
        args = [Node("num", ip)] + make_bprint_args(fmt[5:], data, self.buf.offset, ctx)
        tmp = PrintFormat.__new__(PrintFormat)
        tmp.ev, tmp.ctx, tmp.failed, tmp.reason = self.ev, ctx, False, ""
        try:
            render = tmp._compile(fmt, args, _BprintCompiler(self.ev, ctx))
        except ParseFailed:
            # libtraceevent prints what it could; with too few arguments the rest of the format is dropped
            return _bprint_partial(tmp, fmt, args, self.ev, ctx, data)
        try:
            return render(data)
        except (struct.error, ValueError, OverflowError, IndexError, TypeError):
            return ""


class _BprintCompiler(Compiler):
    """Bprint arguments are literal values: a string argument printed with %p prints the string itself."""


def _bprint_partial(pf: PrintFormat, fmt: str, args: List[Node], ev: EventFormat, ctx: Context, data: bytes) -> str:
    items = PrintFormat.parse_conversions(fmt)
    comp = _BprintCompiler(ev, ctx)
    out: List[str] = []
    ai = 0
    for kind, spec, ls, star, extra in items:
        if kind == "lit":
            out.append(spec)
            continue
        need = 2 if star else 1
        if ai + need > len(args):
            break
        sub = pf._compile(_respec(kind, spec, ls, extra), args[ai : ai + need], comp)
        out.append(sub(data))
        ai += need
    return "".join(out)


def _respec(kind: str, spec: str, ls: int, extra: str) -> str:
    lens = {-2: "hh", -1: "h", 0: "", 1: "l", 2: "ll"}.get(ls, "")
    if kind == "num":
        return spec.replace("%", "%%", 0) + lens + extra
    if kind == "str":
        return spec + "s"
    return spec + "p" + extra
