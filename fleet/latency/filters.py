"""Field conditions for --from-filter/--to-filter, in the kernel's filter syntax: `next_pid == 42 && comm ~ "x*"`.

Supported: comparisons `== != < <= > >=`, `~` (glob on strings), `&` (bits set), joined by `&&` and `||`
(`&&` binds tighter; no parentheses). Values are numbers (decimal or 0x) or strings (quoted or bare).
"""

from __future__ import annotations

import fnmatch
import operator
import re
from typing import Any, Callable, Dict, List

from fleet.errors import UsageError

Predicate = Callable[[Dict[str, Any]], bool]

_COND = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(==|!=|<=|>=|<|>|~|&)\s*(.+?)\s*$")
_OPS: Dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _value(text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    try:
        return int(text, 0)
    except ValueError:
        return text


def _condition(text: str, expr: str) -> Predicate:
    m = _COND.match(text)
    if not m:
        raise UsageError(f"filter {expr!r}: cannot read {text.strip()!r} (write FIELD OP VALUE, e.g. next_pid == 42)")
    name, op, raw = m.group(1), m.group(2), m.group(3)
    value = _value(raw)
    if op == "~":
        glob = str(value)
        return lambda f: fnmatch.fnmatchcase(str(f.get(name, "")).rstrip("\n"), glob)
    if op == "&":
        if not isinstance(value, int):
            raise UsageError(f"filter {expr!r}: `&` needs a number, got {raw!r}")
        bits = value
        return lambda f: isinstance(f.get(name), int) and bool(f[name] & bits)
    compare = _OPS[op]

    def test(f: Dict[str, Any]) -> bool:
        got = f.get(name)
        if got is None:
            return False
        if isinstance(got, str):
            return bool(compare(got.rstrip("\n"), str(value)))
        if isinstance(got, int) and isinstance(value, int):
            return bool(compare(got, value))
        return False

    return test


def compile_filter(expr: str) -> Predicate:
    """A predicate over an event's fields (name -> value) for `expr`."""
    alternatives: List[List[Predicate]] = [
        [_condition(c, expr) for c in alt.split("&&")] for alt in re.split(r"\|\|", expr)
    ]
    return lambda f: any(all(c(f) for c in conj) for conj in alternatives)
