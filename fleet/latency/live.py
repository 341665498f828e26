"""A study fed event by event while tracing (for a live view): the same sides and pairing, a histogram on demand."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Set

from fleet.ftrace.events import Decoder, Event
from fleet.latency.histogram import histogram_lines
from fleet.latency.pairing import Pair, Pairer
from fleet.latency.sides import SideMatcher
from fleet.latency.stats import Summary
from fleet.latency.study import StudySpec


class LiveStudy:
    """Feed (host, aligned ts, event) in aligned order as the merged stream yields them; read pairs any time."""

    def __init__(self, spec: StudySpec, bound: Optional[Callable[[str, int], float]] = None) -> None:
        self.spec = spec
        self.start, self.end = SideMatcher(spec.start), SideMatcher(spec.end)
        self.pairer = Pairer(bound)
        self._ids: Dict[int, tuple] = {}  # id(decoder) -> (start ids, end ids)

    def _sides(self, decoder: Decoder) -> tuple:
        ids = self._ids.get(id(decoder))
        if ids is None:
            ids = self._ids[id(decoder)] = (self.start.ids(decoder), self.end.ids(decoder))
        return ids

    def feed(self, host: str, ts: int, event: Event) -> Optional[Pair]:
        """Take one event; returns the pair it closed, if any."""
        start_ids, end_ids = self._sides(event.decoder)
        pair = None
        if host in self.end.hosts and event.id in end_ids:
            key = self.end.key(event)
            if key is not None:
                pair = self.pairer.add_to(key, host, ts, event.cpu, event.ts)
        if host in self.start.hosts and event.id in start_ids:
            key = self.start.key(event)
            if key is not None:
                self.pairer.add_from(key, host, ts, event.cpu, event.ts)
        return pair

    @property
    def pairs(self) -> List[Pair]:
        return self.pairer.pairs

    def summary(self) -> Summary:
        return Summary.of([p.latency_ns for p in self.pairer.pairs])

    def histogram(self, width: int = 40) -> List[str]:
        return histogram_lines([p.latency_ns for p in self.pairer.pairs], width)

    def hosts(self) -> Set[str]:
        return self.start.hosts | self.end.hosts
