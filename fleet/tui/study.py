"""A latency study fed live from the hosts' decoded data: the events of its two sides wait a moment in a reorder
buffer (hosts' frames arrive out of order with each other) and reach the pairing in aligned-time order."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

from fleet.ftrace.events import Decoder, Event
from fleet.latency.histogram import histogram_lines
from fleet.latency.live import LiveStudy
from fleet.latency.pairing import Pair
from fleet.latency.stats import Summary
from fleet.latency.study import StudySpec

HOLD_NS = 1_000_000_000
"""An event reaches the pairing once an event 1 s later (aligned) has arrived from any host: the agents flush at
least every 0.2 s, so by then every host's events of that time have arrived."""
HOLD_S = 1.5
"""...or once it has waited this long (seconds), so a quiet fleet still shows its last pairs."""


@dataclass
class StudyView:
    """What the dashboard's study panel shows, cut at one moment."""

    title: str
    count: int = 0
    unmatched: int = 0
    """TO events that found no open FROM."""
    open: int = 0
    """FROM events still waiting for their TO."""
    summary: Summary = field(default_factory=lambda: Summary.of([]))
    histogram: List[str] = field(default_factory=list)


class StudyTap:
    """Thread-safe: the coordinator's thread add()s each host's decoded events; the dashboard takes view()s."""

    def __init__(self, spec: StudySpec, clock: Callable[[], float] = time.monotonic) -> None:
        self.spec = spec
        self.study = LiveStudy(spec)
        self.clock = clock
        self._lock = threading.Lock()
        self._held: List[Tuple[int, int, float, str, Event]] = []
        self._seq = itertools.count()
        self._newest = 0
        self._ids: Dict[int, Tuple[Decoder, Set[int]]] = {}
        """id(decoder) -> (the decoder, kept alive so its id is not reused; ids of either side's events)."""
        self._view: Optional[StudyView] = None
        self._viewed = -1

    def _wanted(self, decoder: Decoder) -> Set[int]:
        got = self._ids.get(id(decoder))
        if got is None:
            got = self._ids[id(decoder)] = (decoder, self.study.start.ids(decoder) | self.study.end.ids(decoder))
        return got[1]

    def add(self, host: str, events: Iterable[Event], aligned: Callable[[int], int]) -> None:
        """One host's newly decoded events (one CPU, in time order); `aligned` maps their timestamps."""
        if host not in self.study.hosts():
            return
        now = self.clock()
        with self._lock:
            for e in events:
                if e.id in self._wanted(e.decoder):
                    ts = aligned(e.ts)
                    heapq.heappush(self._held, (ts, next(self._seq), now, host, e))
                    self._newest = max(self._newest, ts)
            self._release()

    def _release(self, everything: bool = False) -> None:
        held = self._held
        upto_ts, upto_wall = self._newest - HOLD_NS, self.clock() - HOLD_S
        while held and (everything or held[0][0] <= upto_ts or held[0][2] <= upto_wall):
            ts, _, _, host, e = heapq.heappop(held)
            self.study.feed(host, ts, e)

    def flush(self) -> None:
        """The run ended: every held event goes to the pairing."""
        with self._lock:
            self._release(everything=True)

    def pairs(self) -> List[Pair]:
        """The pairs closed so far, in the order they closed."""
        with self._lock:
            return list(self.study.pairs)

    def view(self) -> StudyView:
        """The study as it stands (events held longer than HOLD_S are paired first); recomputed only on news."""
        with self._lock:
            self._release()
            pairer = self.study.pairer
            if self._view is None or self._viewed != len(pairer.pairs) + pairer.unmatched_to:
                self._viewed = len(pairer.pairs) + pairer.unmatched_to
                latencies = [p.latency_ns for p in pairer.pairs]
                self._view = StudyView(
                    title=f"{self.spec.start.describe()} -> {self.spec.end.describe()}",
                    count=len(latencies),
                    unmatched=pairer.unmatched_to,
                    open=pairer.unmatched_from,
                    summary=Summary.of(latencies),
                    histogram=histogram_lines(latencies, 40),
                )
            self._view.open = pairer.unmatched_from
            return self._view
