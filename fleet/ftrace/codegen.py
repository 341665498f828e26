"""Print fmts compiled to Python source: one function per event that unpacks all fixed fields with one
`struct.Struct.unpack_from` and builds the body with one `%` formatting, the hot path of `fleet report`.

Only what maps exactly onto Python is generated (C integer arithmetic on the fields' values, plain printf
conversions); every other piece calls the closure the Compiler builds for it, so both paths print the same text.
"""

# ruff: noqa: UP031  (generated Python source is spelled with %-formatting, like the C formats it mirrors)

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple, cast

from fleet.ftrace.printfmt import (
    _LEN_BITS,
    _SOFTIRQ_FLAGS,
    Compiler,
    Node,
    ParseFailed,
    PrintFormat,
    _cast_spec,
    _cstr,
    c_div,
    c_mod,
)

Render = Callable[[bytes], str]
_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}
_FLAG_CALLS = ("__print_flags", "__print_symbolic", "__print_flags_u64", "__print_symbolic_u64")
_ARITH = {"+": "+", "-": "-", "*": "*"}
_BITS = {"&": "&", "|": "|", "^": "^"}
_CMP = {"==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}


def _ptr(v: int) -> str:
    """A plain %p as libtraceevent prints it (the kernel hashes pointers unless hash-ptr is off)."""
    return "0x%x" % (v & 0xFFFFFFFFFFFFFFFF) if v else "(nil)"


def _dstr(d: bytes, loc: int) -> str:
    """__get_str of a __data_loc field whose 32-bit word is `loc` (length << 16 | offset)."""
    off = loc & 0xFFFF
    length = loc >> 16
    if not length or off + length > len(d):
        return ""
    end = d.find(b"\0", off)
    return (d[off:end] if end >= 0 else d[off:]).decode("utf-8", "replace")


def _dstr_memo() -> Callable[[bytes, int], str]:
    """_dstr remembering the text of each distinct string (names of caches, files, devices repeat endlessly)."""
    memo: Dict[bytes, str] = {}
    get = memo.get

    def dstr(d: bytes, loc: int) -> str:
        off = loc & 0xFFFF
        end = off + (loc >> 16)
        raw = d[off:end]
        text = get(raw)
        if text is not None and end <= len(d):
            return text
        text = _dstr(d, loc)
        if b"\0" in raw and end <= len(d) and len(memo) < 4096:  # the text depends on these bytes only
            memo[raw] = text
        return text

    return dstr


def _shl(a: int, b: int) -> int:
    return a << b if 0 <= b < 64 else 0


def _shr(a: int, b: int) -> int:
    return a >> b if 0 <= b < 64 else 0


@dataclass
class _Env:
    """What the generated function needs: fields to unpack (offset, size, signed) and closures to call."""

    comp: Compiler
    reads: Dict[Tuple[int, int, bool], str] = field(default_factory=dict)
    names: Dict[str, object] = field(default_factory=dict)

    def read(self, offset: int, size: int, signed: bool) -> str:
        key = (offset, size, signed)
        var = self.reads.get(key)
        if var is None:
            var = self.reads[key] = "v%d" % len(self.reads)
        return var

    def kind_of(self, var: str) -> Optional[Tuple[int, bool]]:
        """(size, signed) when `var` is a plain field read."""
        for (_off, size, signed), v in self.reads.items():
            if v == var:
                return size, signed
        return None

    def name(self, fn: object) -> str:
        name = "_c%d" % len(self.names)
        self.names[name] = fn
        return name

    def memo_call(self, fn: Callable[[int], str], arg: str, masked: bool) -> str:
        """Source calling `fn(arg)`; when `fn` keeps its answers in a dict (attribute `memo`, keyed by the value,
        or by the value masked to 64 bits when `masked`) and `arg` is a plain variable, a hit costs no Python call."""
        memo = getattr(fn, "memo", None)
        name = self.name(fn)
        if memo is None or not re.fullmatch(r"v\d+", arg):
            return "%s(%s)" % (name, arg)
        key = "%s & 18446744073709551615" % arg if masked else arg
        return "(%s(%s) or %s(%s))" % (self.name(memo.get), key, name, arg)

    def call(self, fn: object) -> str:
        return self.name(fn) + "(d)"


def num_src(n: Node, env: _Env) -> str:
    """Python source of an unsigned 64-bit value (libtraceevent's arithmetic), or a call of its closure."""
    k = n.kind
    comp = env.comp
    if k == "num":
        return str(n.value)
    if k == "field":
        f = comp.field(n.value)
        if f is None or f.size not in _CODES:
            return "0"
        return env.read(f.offset, f.size, f.signed)
    if k == "index" and n.args[0].kind == "field" and n.args[1].kind == "num":
        f = comp.field(n.args[0].value)
        if f is not None and f.is_array and not f.is_dynamic and f.elem_size in _CODES:
            off = f.offset + n.args[1].value * f.elem_size
            if off + f.elem_size <= f.offset + f.size:  # a constant index inside a fixed array: one more field
                return env.read(off, f.elem_size, f.signed)
    if k == "atom":
        return str(_SOFTIRQ_FLAGS.get(n.value, 0))
    if k == "str":
        return "0"
    if k == "cast":
        inner = num_src(n.args[0], env)
        size, sign = _cast_spec(n.value, comp.ctx.long_size)
        if size == 0:
            return inner
        mask = (1 << size * 8) - 1
        known = env.kind_of(inner)
        if known is not None and known[0] <= size and known[1] == sign:
            return inner  # a field read no wider than the cast, with the cast's signedness: already its value
        if sign:
            top = 1 << (size * 8 - 1)
            return "(((%s & %d) ^ %d) - %d)" % (inner, mask, top, top)
        return "(%s & %d)" % (inner, mask)
    if k == "unop" and n.value in ("-", "!", "~", "+"):
        x = num_src(n.args[0], env)
        return {"-": "(-%s)" % x, "!": "(0 if %s else 1)" % x, "~": "(~%s)" % x, "+": x}[n.value]
    if k == "cond":
        c, a, b = (num_src(x, env) for x in n.args)
        return "(%s if %s else %s)" % (a, c, b)
    if k == "op":
        op = n.value
        a, b = num_src(n.args[0], env), num_src(n.args[1], env)
        if op in _ARITH:
            return "(%s %s %s)" % (a, op, b)
        if op in _BITS:
            return "(%s %s %s)" % (a, op, b)
        if op in _CMP:
            return "(1 if %s %s %s else 0)" % (a, op, b)
        if op == "&&":
            return "(1 if %s and %s else 0)" % (a, b)
        if op == "||":
            return "(1 if %s or %s else 0)" % (a, b)
        if op in ("<<", ">>") and b.isdigit() and int(b) < 64:  # a constant shift: no range check needed
            if a.isdigit():
                return str(int(a) << int(b) if op == "<<" else int(a) >> int(b))
            return "(%s %s %s)" % (a, op, b)
        helper = {"/": "c_div", "%": "c_mod", "<<": "_shl", ">>": "_shr"}.get(op)
        if helper:
            return "%s(%s, %s)" % (helper, a, b)
    return env.call(comp.num(n))


def str_src(n: Node, env: _Env) -> Optional[str]:
    """Python source of a string argument (what Compiler.str_of computes), or None where only its closure can."""
    k = n.kind
    comp = env.comp
    if k == "str" or k == "atom":
        return repr(n.value)
    if k == "num":
        return repr(str(n.value))
    if k == "cond":
        a, b = str_src(n.args[1], env), str_src(n.args[2], env)
        if a is None or b is None:
            return None
        return "(%s if %s else %s)" % (a, num_src(n.args[0], env), b)
    if k == "call" and n.value in _FLAG_CALLS:
        value, text_of = comp.value_formatter(n)
        return env.memo_call(text_of, num_src(value, env), True)
    if k == "call" and n.value == "__get_str" and len(n.args) == 1:
        f = comp.field(n.args[0].value) if n.args[0].kind in ("atom", "field") else None
        if f is not None and f.size == 4 and f.is_dynamic and not f.is_relative:
            env.names["_ds"] = env.names.get("_ds") or _dstr_memo()
            return "_ds(d, %s)" % env.read(f.offset, 4, False)
        return None
    if k == "field":
        f = comp.field(n.value)
        if f is None:
            return "''"
        ls = comp.ctx.long_size
        if not f.is_array and f.size == ls and ls in _CODES:  # a `const char *`: the format text printk_formats has
            v = env.read(f.offset, ls, False)
            env.names["_pk"] = comp.ctx.printk
            return "(_pk[%s] if %s in _pk else '%%x' %% %s)" % (v, v, v)
        if f.size:
            return "_cstr(d[%d:%d])" % (f.offset, f.offset + f.size)
    return None


def _int_conv(node: Node, spec: str, ls: int, conv: str, env: _Env) -> Tuple[str, str]:
    """(python conversion, value source) for an integer printf conversion without `#`, `*` or `%c`."""
    bits = _LEN_BITS[ls]
    mask = (1 << bits) - 1
    f = env.comp.field(node.value) if node.kind == "field" else None
    pyconv = "d" if conv in "diu" else conv
    if f is not None and f.size in _CODES and f.size * 8 <= bits:
        if bits == 64 and f.size <= 4:  # an int-sized vararg read as a long: its 32-bit pattern, zero-extended
            v = env.read(f.offset, f.size, f.signed)
            return spec + pyconv, v if f.size == 4 and not f.signed else "(%s & 4294967295)" % v
        if conv in "di":  # narrower fields promote to int keeping their sign
            return spec + pyconv, env.read(f.offset, f.size, f.signed or f.size * 8 == bits)
        if not f.signed or f.size * 8 == bits:
            return spec + pyconv, env.read(f.offset, f.size, False)
    v = num_src(node, env)
    if conv in "di":
        top = 1 << (bits - 1)
        return spec + pyconv, "(((%s & %d) ^ %d) - %d)" % (v, mask, top, top)
    return spec + pyconv, ("(%s & %d)" % (v, mask)) if bits < 64 else v


Item = Tuple[str, str, int, bool, str]


def generate(
    owner: PrintFormat, items: List[Item], nodes: List[List[Node]], env: _Env, slow: Render, part_fns: List[Render]
) -> Render:
    """Source for the whole body: literal text and conversions in one `%` format; `slow` for short records."""
    fmt: List[str] = []
    vals: List[str] = []
    for (kind, spec, ls, star, extra), args, fn in zip(items, nodes, part_fns):
        if kind == "lit":
            fmt.append(spec.replace("%", "%%"))
            continue
        node = args[-1]
        if kind == "num" and not star and "#" not in spec and extra != "c" and -2 <= ls <= 2:
            pyfmt, src = _int_conv(node, spec, ls, extra, env)
            fmt.append(pyfmt)
            vals.append(src)
            continue
        if kind == "str" and not star:
            text_src = str_src(node, env)
            if text_src is not None:
                fmt.append(spec + "s")
                vals.append(text_src)
                continue
        if kind == "ptr" and not star and spec == "%" and extra[:1] in ("F", "f", "S", "s", "B") and node.kind != "str":
            fmt.append("%s")
            vals.append(env.memo_call(owner.symbol_formatter(extra[:1]), num_src(node, env), False))
            continue
        if kind == "ptr" and not star and spec == "%" and extra == "" and node.kind != "str":
            fmt.append("%s")
            v = num_src(node, env)
            if re.fullmatch(r"v\d+", v):  # a plain field: no call (this is on most kmem events)
                vals.append("('0x%%x' %% (%s & 18446744073709551615) if %s else '(nil)')" % (v, v))
            else:
                vals.append("_ptr(%s)" % v)
            continue
        fmt.append("%s")
        vals.append(env.call(fn))
    text = "".join(fmt)
    lines = ["def _render(d):"]
    reads = sorted(env.reads.items())
    end = max((off + size for (off, size, _), _v in reads), default=0)
    if reads:
        lines.append("    if len(d) < %d: return _slow(d)" % end)
    ns: Dict[str, object] = dict(
        env.names, _slow=slow, c_div=c_div, c_mod=c_mod, _shl=_shl, _shr=_shr, _ptr=_ptr, _dstr=_dstr, _cstr=_cstr
    )
    e = ">" if env.comp.ctx.big_endian else "<"
    groups: List[List[Tuple[Tuple[int, int, bool], str]]] = []
    for entry in reads:
        (off, size, _s) = entry[0]
        for g in groups:  # fields that overlap (one field read two ways) go into another unpack
            last_off, last_size, _ = g[-1][0]
            if off >= last_off + last_size:
                g.append(entry)
                break
        else:
            groups.append([entry])
    for gi, g in enumerate(groups):
        code = e
        pos = 0
        for (off, size, signed), _v in g:
            code += ("%dx" % (off - pos) if off > pos else "") + (_CODES[size].lower() if signed else _CODES[size])
            pos = off + size
        ns["_S%d" % gi] = struct.Struct(code).unpack_from
        lines.append("    %s, = _S%d(d, 0)" % (", ".join(v for _k, v in g), gi))
    body = lines[1:]
    if vals:
        lines.append("    return %r %% (%s,)" % (text, ", ".join(vals)))
    else:
        lines.append("    return %r" % text.replace("%%", "%"))
    try:
        code_obj = compile("\n".join(lines), "<print fmt>", "exec")
    except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:
        raise ParseFailed("print fmt too complex to compile: %s" % exc) from None
    exec(code_obj, ns)
    # A report line drops the body's final newline; where that is decided here (or by one check of the last value),
    # the whole line can be built in the same `%` (see line_function).
    prelude = [x.replace("return _slow(d)", "return None") for x in body]
    last = items[-1] if items else None
    if last is None:
        pass
    elif last[0] == "lit":
        owner.line_parts = LineParts(prelude, text[:-1] if text.endswith("\n") else text, vals, ns)
    elif last[0] == "num" and last[4] != "c" and fmt[-1] != "%s":
        owner.line_parts = LineParts(prelude, text, vals, ns)
    elif last[1] == "%" and not last[3] and vals:
        prelude += ["    _z = %s" % vals[-1], "    if _z[-1:] == '\\n': _z = _z[:-1]"]
        owner.line_parts = LineParts(prelude, text, vals[:-1] + ["_z"], ns)
    return cast(Render, ns["_render"])


@dataclass
class LineParts:
    """What a body's generated source is made of: unpacking lines, the `%` format (its final newline dropped, as
    reports drop it) and the value sources, with the names they use."""

    prelude: List[str]
    text: str
    vals: List[str]
    names: Dict[str, object]


LineRender = Callable[[bytes, str, object, object], Optional[str]]
"""(record, h, a, b) -> `lead % (h, a, b)` followed by the body and a newline; None for a record too short."""


def line_function(parts: LineParts, lead: str) -> Optional[LineRender]:
    """A function printing a whole report line in one `%`: `lead` is a format taking three values (the task
    column, the two timestamp parts) and already holds the event name column."""
    src = ["def _line(d, h, a, b):"] + parts.prelude
    fmt = lead + parts.text + "\n"
    src.append("    return %r %% (h, a, b, %s)" % (fmt, "".join(v + ", " for v in parts.vals)))
    ns = dict(parts.names)
    try:
        exec(compile("\n".join(src), "<print fmt line>", "exec"), ns)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None
    return cast(LineRender, ns["_line"])


def new_env(comp: Compiler) -> _Env:
    return _Env(comp)
