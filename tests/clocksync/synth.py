"""Synthetic but realistic sync exchanges with a known truth: offset, drift, asymmetric delays, delayed replies."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import List

from fleet.clocksync.samples import SyncSample


@dataclass
class Truth:
    """host monotonic h -> coordinator = offset + rate * h; trace clock t -> host h = t_offset + t_rate * t."""

    offset: int = 3_217_000_123
    rate: float = 1 + 23.5e-6
    t_offset: int = -41_000_777
    t_rate: float = 1 - 8.25e-6

    def coord(self, host: float) -> float:
        return self.offset + self.rate * host

    def host_of_trace(self, ts: int) -> float:
        return self.t_offset + self.t_rate * ts

    def trace_of_host(self, host: float) -> int:
        return round((host - self.t_offset) / self.t_rate)

    def aligned(self, ts: int) -> float:
        return self.coord(self.host_of_trace(ts))


def exchanges(
    truth: Truth,
    count: int = 60,
    seed: int = 1,
    start: int = 5_000_000_000_000,
    dense: int = 10,
    interval: int = 1_000_000_000,
    fwd_min: int = 60_000,
    back_min: int = 90_000,
    jitter: int = 30_000,
    delayed: float = 0.05,
    hold: int = 0,
    stamps: bool = False,
) -> List[SyncSample]:
    """`dense` exchanges 2 ms apart, then one per `interval`; delay = min + exponential jitter; a few replies late.

    The agent holds each request `hold` ns (+ up to as much again at random) on each side of its marker write;
    `stamps` records NTP's host_rx/host_tx around that, as newer agents do.
    """
    rng = random.Random(seed)
    out: List[SyncSample] = []
    host = float(start)
    for i in range(count):
        host += 2_000_000 if i < dense else interval + rng.randint(0, interval // 10)
        fwd = fwd_min + rng.expovariate(1 / jitter)
        back = back_min + rng.expovariate(1 / jitter)
        if rng.random() < delayed:
            back += 5_000_000
        write = rng.randint(1_500, 6_000)  # the marker write between the two host clock reads
        stamp = host + rng.uniform(300, write - 300)  # when the ring buffer stamped the marker
        rx = host - (hold + rng.randint(0, hold) if hold else 0)
        tx = host + write + (hold + rng.randint(0, hold) if hold else 0)
        out.append(
            SyncSample(
                seq=i,
                coord_send=round(truth.coord(rx) - fwd),
                coord_recv=round(truth.coord(tx) + back),
                host_before=round(host),
                host_after=round(host + write),
                marker=f"fleet-sync synth {i}",
                trace_ts=truth.trace_of_host(stamp),
                host_rx=round(rx) if stamps else None,
                host_tx=round(tx) if stamps else None,
            )
        )
    return out
