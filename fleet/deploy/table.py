"""The per-host result table `fleet deploy` prints, and the one-line capability summary per host."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from fleet.deploy.results import HostResult


def result_table(hosts: Sequence[HostResult]) -> List[str]:
    """HOST STATUS OK CHANGED FAILED UNREACHABLE CAUSE, one row per host in inventory order."""
    header = ("HOST", "STATUS", "OK", "CHANGED", "FAILED", "UNREACHABLE", "CAUSE")
    rows = [header] + [
        (
            h.name,
            h.status,
            str(h.ok),
            str(h.changed),
            str(h.failed),
            str(h.unreachable),
            f"{h.failed_task}: {h.cause}" if h.cause else "",
        )
        for h in hosts
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    return ["  ".join([c.ljust(w) for c, w in zip(r, widths)] + [r[-1]]).rstrip() for r in rows]


def capability_line(name: str, caps: Dict[str, Any]) -> str:
    """`h1: agent 0.1.0, python 3.11.2, kernel 6.18, tracers blk function nop, 10 clocks, refused: ...`"""
    refused = sorted(caps.get("refusals") or {})
    return (
        f"{name}: agent {caps.get('agent_version')}, python {caps.get('python')}, kernel {caps.get('kernel')}, "
        f"codec {caps.get('codec')}, tracers {' '.join(caps.get('tracers') or []) or '-'}, "
        f"clocks {' '.join(caps.get('clocks') or []) or '-'}" + (f", refused: {', '.join(refused)}" if refused else "")
    )
