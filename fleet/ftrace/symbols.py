"""Symbol tables a renderer needs: kallsyms (addresses to functions), printk_formats, saved_cmdlines."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

_KALLSYMS_LINE = re.compile(r"^\s*([0-9a-fA-F]+)\s+(\S)\s+(\S+)(?:[ \t]+\[(\S+)\])?", re.M)


@dataclass
class Kallsyms:
    """Sorted kernel symbols; `lookup` finds the function containing an address as libtraceevent does."""

    addrs: List[int] = field(default_factory=list)
    names: List[str] = field(default_factory=list)
    modules: Dict[int, str] = field(default_factory=dict)
    """Index in `names` -> module name, for symbols of loaded modules (`[mod]` in /proc/kallsyms)."""

    @classmethod
    def parse(cls, text: str) -> Kallsyms:
        """Parse /proc/kallsyms text; absolute symbols and ARM '$' mapping symbols are skipped (as trace-cmd)."""
        rows: List[Tuple[int, str, str]] = [
            (int(addr, 16), name, module)
            for addr, kind, name, module in _KALLSYMS_LINE.findall(text)
            if kind not in "Aa" and not name.startswith("$")
        ]
        rows.sort(key=lambda p: p[0])
        modules = {i: r[2] for i, r in enumerate(rows) if r[2]}
        return cls([r[0] for r in rows], [r[1] for r in rows], modules)

    def lookup(self, addr: int) -> Optional[Tuple[str, int]]:
        """(name, start address) of the symbol covering `addr`, or None (also past the last symbol)."""
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0 or i >= len(self.addrs) - 1:
            return None
        return self.names[i], self.addrs[i]

    def kernel_lookup(self, addr: int) -> Optional[Tuple[int, int]]:
        """(index, start address) of the symbol covering `addr` as the kernel's own lookup finds it: of aliases at
        one address, the first /proc/kallsyms lists (libtraceevent's `lookup` takes the last)."""
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0 or i >= len(self.addrs) - 1:
            return None
        start = self.addrs[i]
        return bisect.bisect_left(self.addrs, start), start

    def kernel_name(self, addr: int) -> Optional[str]:
        """The kernel's %ps: the name of the symbol covering `addr`, or None outside every symbol."""
        hit = self.kernel_lookup(addr)
        return None if hit is None else self.names[hit[0]]

    def kernel_symbol(self, addr: int) -> Optional[str]:
        """`name+0xOFF/0xSIZE [module]`, the kernel's %pS (sprint_symbol), or None outside every symbol."""
        hit = self.kernel_lookup(addr)
        if hit is None:
            return None
        i, start = hit
        mod = self.modules.get(i)
        return f"{self.names[i]}+{addr - start:#x}/{self.size_at(addr):#x}" + (f" [{mod}]" if mod else "")

    def size_at(self, addr: int) -> int:
        """Size of the symbol covering `addr` as the kernel's kallsyms computes it (up to the next symbol)."""
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0 or i >= len(self.addrs) - 1:
            return 0
        return self.addrs[i + 1] - self.addrs[i]


def parse_printk_formats(text: str) -> Dict[int, str]:
    """`ADDR : "fmt"` lines -> {addr: fmt}, quotes and one trailing `\\n` stripped (as libtraceevent does)."""
    out: Dict[int, str] = {}
    for line in text.splitlines():
        addr_s, sep, fmt = line.partition(":")
        if not sep:
            continue
        try:
            addr = int(addr_s.strip(), 16)
        except ValueError:
            continue
        fmt = fmt[1:] if fmt.startswith(" ") else fmt
        if fmt.startswith('"'):
            fmt = fmt[1:]
        if fmt.endswith('"'):
            fmt = fmt[:-1]
        if fmt.endswith("\\n"):
            fmt = fmt[:-2]
        out[addr] = fmt
    return out


def parse_cmdlines(text: str) -> Dict[int, str]:
    """`PID COMM` lines (saved_cmdlines) -> {pid: comm}."""
    out: Dict[int, str] = {}
    for line in text.splitlines():
        pid_s, _, comm = line.strip().partition(" ")
        try:
            out[int(pid_s)] = comm
        except ValueError:
            continue
    return out
