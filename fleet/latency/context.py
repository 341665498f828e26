"""The events around the worst pairs: a second pass over the hosts involved, keeping a few lines either side."""

from __future__ import annotations

from collections import deque
from typing import Deque, Dict, List, Optional, Set, Tuple

from fleet.clocksync.model import ClockModel
from fleet.ftrace.events import Decoder, Event, merge_cpus
from fleet.ftrace.render import render_line
from fleet.latency.pairing import Pair
from fleet.record.reader import Run

Spot = Tuple[str, int, int]  # (host, cpu, raw ts) of one end of a pair


def _line(host: str, event: Event, models: Dict[str, ClockModel], mark: str) -> str:
    model = models.get(host)
    ts = model.aligned(event.ts) if model else event.ts
    return f"{mark} " + render_line(event, ts=ts, ns=True, host=host)


def around(run: Run, pairs: List[Pair], models: Dict[str, ClockModel], n: int = 2) -> Dict[Spot, List[str]]:
    """For each end of each pair: `n` events before it on its host, itself (marked `>`), and `n` after."""
    spots: Dict[str, Set[Tuple[int, int]]] = {}
    for p in pairs:
        spots.setdefault(p.from_host, set()).add((p.from_cpu, p.from_raw))
        spots.setdefault(p.to_host, set()).add((p.to_cpu, p.to_raw))
    out: Dict[Spot, List[str]] = {}
    for host_name, wanted in spots.items():
        host = run.host(host_name)
        decoder = Decoder(host.meta)
        items = merge_cpus(decoder.decode_pages(cpu, host.pages(cpu)) for cpu in host.cpus)
        before: Deque[Event] = deque(maxlen=n)
        pending: List[Tuple[Spot, int]] = []  # spots still collecting lines after themselves
        left = len(wanted)
        for item in items:
            if not isinstance(item, Event):
                continue
            still: List[Tuple[Spot, int]] = []
            for spot, need in pending:
                out[spot].append(_line(host_name, item, models, " "))
                if need > 1:
                    still.append((spot, need - 1))
            pending = still
            if (item.cpu, item.ts) in wanted:
                spot = (host_name, item.cpu, item.ts)
                if spot not in out:
                    out[spot] = [_line(host_name, e, models, " ") for e in before]
                    out[spot].append(_line(host_name, item, models, ">"))
                    if n:
                        pending.append((spot, n))
                    left -= 1
            before.append(item)
            if left == 0 and not pending:
                break
    return out


def spot_lines(ctx: Dict[Spot, List[str]], host: str, cpu: int, raw: int) -> Optional[List[str]]:
    return ctx.get((host, cpu, raw))
