"""Run a latency study over a recorded run: one streaming pass over the hosts' selected events in aligned time."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set

from fleet.clocksync.model import ClockModel
from fleet.ftrace.events import Decoder, Lost
from fleet.latency.pairing import Pair, Pairer
from fleet.latency.scan import select_events
from fleet.latency.sides import Side, SideMatcher
from fleet.latency.timeline import FastAligned, fast
from fleet.merge import merge_hosts
from fleet.record.reader import Run


@dataclass
class StudySpec:
    """What to pair: the two sides."""

    start: Side
    end: Side


@dataclass
class StudyResult:
    """Pairs in the order they closed, what stayed unmatched, and what the run lost on the hosts involved."""

    spec: StudySpec
    pairs: List[Pair] = field(default_factory=list)
    unmatched_from: int = 0
    unmatched_to: int = 0
    events: int = 0
    """Selected events the pass looked at (both sides)."""
    lost: Dict[str, int] = field(default_factory=dict)
    """Host -> events the kernel lost while recording (pairs may be missing around them)."""
    notes: List[str] = field(default_factory=list)

    @property
    def unmatched(self) -> int:
        return self.unmatched_from + self.unmatched_to

    @property
    def latencies(self) -> List[int]:
        return [p.latency_ns for p in self.pairs]

    def worst(self, n: int) -> List[Pair]:
        return sorted(self.pairs, key=lambda p: p.latency_ns, reverse=True)[:n]

    def by_host_pair(self) -> Dict[tuple, List[Pair]]:
        out: Dict[tuple, List[Pair]] = {}
        for p in self.pairs:
            out.setdefault((p.from_host, p.to_host), []).append(p)
        return out


def _bound(models: Dict[str, FastAligned]) -> Optional[Callable[[str, int], float]]:
    if not models:
        return None

    def bound(host: str, raw: int) -> float:
        model = models.get(host)
        return model.bound(raw) if model is not None else math.inf

    return bound


def run_study(run: Run, spec: StudySpec, models: Dict[str, ClockModel]) -> StudyResult:
    """Pair spec.start with spec.end over `run` (models: host -> clock model; {} keeps raw timestamps)."""
    start, end = SideMatcher(spec.start), SideMatcher(spec.end)
    quick = fast(models)
    result = StudyResult(spec)
    streams: Dict[str, Sequence[Iterable[Any]]] = {}
    start_ids: Dict[str, Set[int]] = {}
    end_ids: Dict[str, Set[int]] = {}
    for host in run.hosts:
        if host.name not in start.hosts and host.name not in end.hosts:
            continue
        if not host.has_metadata:
            result.notes.append(f"{host.name}: nothing recorded (no metadata)")
            continue
        decoder = Decoder(host.meta)
        start_ids[host.name] = start.ids(decoder) if host.name in start.hosts else set()
        end_ids[host.name] = end.ids(decoder) if host.name in end.hosts else set()
        ids = start_ids[host.name] | end_ids[host.name]
        if not ids:
            result.notes.append(f"{host.name}: recorded none of the events asked for")
            continue
        streams[host.name] = [select_events(decoder, cpu, host.pages(cpu), ids) for cpu in host.cpus]
    for name, model in models.items():
        if name in streams and not model.aligned_ok:
            result.notes.append(f"{name}: clock not aligned ({'; '.join(model.notes)})")
    pairer = Pairer(_bound(quick))
    lost: Counter = Counter()
    events = 0
    add_from, add_to = pairer.add_from, pairer.add_to
    item: Any
    aligned: Dict[str, Any] = {h: m for h, m in quick.items() if h in streams}
    for name, ts, item in merge_hosts(streams, aligned):
        if isinstance(item, Lost):
            lost[name] += item.count or 1
            continue
        events += 1
        eid = item.id
        if eid in end_ids[name]:
            key = end.key(item)
            if key is not None:
                add_to(key, name, ts, item.cpu, item.ts)
        if eid in start_ids[name]:
            key = start.key(item)
            if key is not None:
                add_from(key, name, ts, item.cpu, item.ts)
    result.pairs = pairer.pairs
    result.unmatched_from = pairer.unmatched_from
    result.unmatched_to = pairer.unmatched_to
    result.events = events
    result.lost = dict(lost)
    for host, n in sorted(lost.items()):
        result.notes.append(f"{host}: the kernel lost {n} event(s) while recording; pairs around them may be missing")
    return result
