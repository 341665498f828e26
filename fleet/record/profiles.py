"""The function profiler's and the stack tracer's results recorded in a run (metadata_end's "function_profile" and
"stack_max", see agent/protocol.py): per host (all CPUs summed), merged over hosts, and each host's deepest stack."""

from __future__ import annotations

from typing import IO, Dict, List, Optional, Sequence

from fleet.ftrace.stat import ProfileRow, format_profile, parse_function_stat, sum_profiles
from fleet.record.reader import HostRun, Run


def _selected(run: Run, hosts: Optional[Sequence[str]]) -> List[HostRun]:
    return [h for h in run.hosts if hosts is None or h.name in hosts]


def host_profile(host: HostRun) -> Optional[List[ProfileRow]]:
    """The host's profile summed over its CPUs; None when it recorded none."""
    end = host.index.metadata_end or {}
    tables: Dict[str, str] = end.get("function_profile") or {}
    if "function_profile" not in end:
        return None
    return sum_profiles(parse_function_stat(text) for _, text in sorted(tables.items(), key=lambda kv: int(kv[0])))


def print_profiles(run: Run, out: IO[str], hosts: Optional[Sequence[str]] = None, top: Optional[int] = None) -> int:
    """`# HOST: function profile (N CPUs)` and its table for each host, then `# all hosts` merged (with two or more
    hosts); `top` keeps the first rows of each table. Returns the number of hosts that had a profile."""
    found: List[List[ProfileRow]] = []
    for host in _selected(run, hosts):
        rows = host_profile(host)
        if rows is None:
            continue
        cpus = len((host.index.metadata_end or {}).get("function_profile") or {})
        out.write(f"# {host.name}: function profile ({cpus} CPUs)\n")
        out.write(format_profile(rows[:top] if top else rows) + "\n")
        found.append(rows)
    if len(found) > 1:
        merged = sum_profiles(found)
        out.write(f"# all hosts: function profile ({len(found)} hosts)\n")
        out.write(format_profile(merged[:top] if top else merged) + "\n")
    return len(found)


def print_stacks(run: Run, out: IO[str], hosts: Optional[Sequence[str]] = None) -> int:
    """`# HOST: max stack N bytes` and the kernel's stack_trace text for each host that ran the stack tracer,
    deepest first. Returns how many hosts had one."""
    stacks = []
    for host in _selected(run, hosts):
        stack = (host.index.metadata_end or {}).get("stack_max")
        if stack:
            stacks.append((int(stack.get("size", 0)), host.name, str(stack.get("trace", ""))))
    stacks.sort(key=lambda s: -s[0])
    for size, name, text in stacks:
        out.write(f"# {name}: max stack {size} bytes\n")
        out.write(text if text.endswith("\n") or not text else text + "\n")
        out.write("\n")
    return len(stacks)
