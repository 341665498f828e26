"""Event format files (`events/SYSTEM/EVENT/format`): fields with offsets, sizes, signedness, and the print fmt."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Union

from fleet.errors import DecodeError

FieldValue = Union[int, str, bytes, List[int]]

_FIELD_LINE = re.compile(
    r"^\s*field:(?P<decl>.*?);\s*offset:\s*(?P<off>-?\d+)\s*;\s*size:\s*(?P<size>-?\d+)\s*;"
    r"(?:\s*signed:\s*(?P<signed>-?\d+)\s*;)?"
)
_ARRAY = re.compile(r"^(?P<head>.*?)\s*\[(?P<len>[^\]]*)\]\s*$")
_INT_FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}


@dataclass
class Field:
    """One field of an event record: its C type and where it sits in the payload."""

    name: str
    type: str
    offset: int
    size: int
    signed: bool
    is_array: bool = False
    array_len: int = 0
    is_dynamic: bool = False
    is_relative: bool = False
    is_string: bool = False
    is_pointer: bool = False
    is_long: bool = False
    elem_size: int = 0

    def dynamic_span(self, data: bytes, big_endian: bool) -> tuple[int, int]:
        """(offset, length) of a __data_loc/__rel_loc field's data, both 0 if they fall outside the record."""
        size = len(data)
        if self.offset + self.size > size or self.size not in (2, 4):
            return 0, 0
        fmt = (">" if big_endian else "<") + _INT_FMT[self.size]
        (val,) = struct.unpack_from(fmt, data, self.offset)
        off = val & 0xFFFF
        length = size - off if self.size == 2 else (val >> 16) & 0xFFFF
        if self.is_relative:
            off += self.offset + self.size
        if off > size or off + length > size:
            return (off if off <= size else 0), 0
        return off, length

    def raw_bytes(self, data: bytes, big_endian: bool) -> bytes:
        """The bytes this field covers in `data` (the dynamic area for __data_loc fields)."""
        if self.is_dynamic:
            off, length = self.dynamic_span(data, big_endian)
            return data[off : off + length]
        size = self.size if self.size else max(len(data) - self.offset, 0)
        return data[self.offset : self.offset + size]

    def value(self, data: bytes, big_endian: bool) -> FieldValue:
        """Decode this field from a record payload: int, str (char arrays), bytes or list of ints (arrays)."""
        raw = self.raw_bytes(data, big_endian)
        if self.is_string:
            return raw.split(b"\0", 1)[0].decode("utf-8", "replace")
        e = ">" if big_endian else "<"
        if self.is_array or self.is_dynamic:
            es = self.elem_size
            if es in _INT_FMT and es > 1:
                n = len(raw) // es
                code = _INT_FMT[es].lower() if self.signed else _INT_FMT[es]
                return list(struct.unpack_from(f"{e}{n}{code}", raw, 0))
            return bytes(raw)
        if self.size in _INT_FMT and len(raw) == self.size:
            code = _INT_FMT[self.size].lower() if self.signed else _INT_FMT[self.size]
            return int(struct.unpack_from(e + code, raw, 0)[0])
        return bytes(raw)


@dataclass
class EventFormat:
    """A parsed format file: identity, common and event fields, and the raw print fmt text."""

    system: str
    name: str
    id: int
    common_fields: List[Field] = field(default_factory=list)
    fields: List[Field] = field(default_factory=list)
    print_fmt: str = ""
    by_name: Dict[str, Field] = field(default_factory=dict)

    def field(self, name: str) -> Optional[Field]:
        return self.by_name.get(name)

    def all_fields(self) -> List[Field]:
        return self.common_fields + self.fields


_TYPE_SIZES = {"char": 1, "short": 2, "int": 4, "long long": 8, "bool": 1, "_Bool": 1}


def _element_size(ctype: str, size: int, count: int, long_size: int) -> int:
    t = ctype.replace("unsigned", "").replace("signed", "").replace("const", "").replace("volatile", "").strip()
    t = " ".join(t.split())
    if "*" in t:
        return long_size
    m = re.fullmatch(r"(?:__)?[us](8|16|32|64)", t)
    if m:
        return int(m.group(1)) // 8
    if t in _TYPE_SIZES:
        return _TYPE_SIZES[t]
    if t in ("long", "long int"):
        return long_size
    if t in ("", "short int"):
        return 4 if t == "" else 2
    if count > 0 and size > 0 and size % count == 0:
        return size // count
    return 0


def parse_field(decl: str, offset: int, size: int, signed: Optional[int], long_size: int = 8) -> Field:
    """Parse one `field:TYPE NAME[N]` declaration into a Field."""
    decl = " ".join(decl.split())
    is_dyn = is_rel = False
    if decl.startswith("__data_loc "):
        is_dyn = True
        decl = decl[len("__data_loc ") :]
    elif decl.startswith("__rel_loc "):
        is_dyn = is_rel = True
        decl = decl[len("__rel_loc ") :]
    is_array = False
    count = 0
    m = _ARRAY.match(decl)
    if m:
        is_array = True
        decl = m.group("head")
        n = m.group("len").strip()
        count = int(n, 0) if re.fullmatch(r"0[xX][0-9a-fA-F]+|\d+", n) else 0
    mname = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*$", decl)
    if not mname:
        raise DecodeError(f"format: cannot find the field name in {decl!r}")
    name = mname.group(1)
    ctype = decl[: mname.start()].strip()
    if is_dyn:
        # "__data_loc char[] name": the [] belongs to the type
        am = _ARRAY.match(ctype)
        if am:
            ctype = am.group("head")
            is_array = True
        else:
            is_array = True
    if not ctype:
        raise DecodeError(f"format: field {name!r} has no type")
    base = ctype.replace("const ", "").strip()
    is_pointer = "*" in ctype
    is_string = is_array and base in ("char", "unsigned char", "signed char", "u8", "__u8")
    if is_string and base not in ("char",):
        is_string = base == "char"
    is_long = base in ("long", "unsigned long", "long int", "unsigned long int")
    if signed is None:
        signed_b = not ctype.startswith("unsigned") and not re.match(r"(?:__)?u(8|16|32|64)\b", base)
        signed_b = signed_b and not is_pointer
    else:
        signed_b = bool(signed)
    elem = _element_size(ctype, size, count, long_size) if is_array else size
    return Field(
        name=name,
        type=ctype,
        offset=offset,
        size=size,
        signed=signed_b,
        is_array=is_array,
        array_len=count,
        is_dynamic=is_dyn,
        is_relative=is_rel,
        is_string=is_string,
        is_pointer=is_pointer and not is_array,
        is_long=is_long,
        elem_size=elem,
    )


def parse_format(text: str, system: str = "", long_size: int = 8) -> EventFormat:
    """Parse one format file's text. `system` names the directory it came from (ftrace's own events: "ftrace")."""
    if not isinstance(text, str):
        raise DecodeError("format: text expected")
    name = None
    ev_id = None
    common: List[Field] = []
    fields: List[Field] = []
    print_fmt = ""
    in_common = True
    seen_format = False
    lines = text.splitlines()
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith("name:"):
            name = s[5:].strip()
        elif s.startswith("ID:"):
            try:
                ev_id = int(s[3:].strip(), 0)
            except ValueError:
                raise DecodeError(f"format: bad ID line {s!r}") from None
        elif s.startswith("format:"):
            seen_format = True
        elif s.startswith("field:") or s.startswith("field "):
            m = _FIELD_LINE.match(s if s.startswith("field:") else "field:" + s[6:])
            if not m:
                raise DecodeError(f"format {name}: malformed field line {s!r}")
            f = parse_field(
                m.group("decl"),
                int(m.group("off")),
                int(m.group("size")),
                int(m.group("signed")) if m.group("signed") is not None else None,
                long_size,
            )
            if f.offset < 0 or f.size < 0 or f.offset > 0xFFFF or f.size > 0xFFFF:
                raise DecodeError(f"format {name}: field {f.name} has an impossible offset/size")
            (common if in_common and f.name.startswith("common_") else fields).append(f)
            if not f.name.startswith("common_"):
                in_common = False
        elif s == "":
            if common:
                in_common = False
        elif s.startswith("print fmt:"):
            print_fmt = "\n".join([line.split("print fmt:", 1)[1].strip()] + lines[i + 1 :]).strip()
            break
    if name is None or ev_id is None or not seen_format:
        raise DecodeError("format: missing name, ID or format section")
    ev = EventFormat(system=system, name=name, id=ev_id, common_fields=common, fields=fields, print_fmt=print_fmt)
    for f in common + fields:
        ev.by_name.setdefault(f.name, f)
    return ev
