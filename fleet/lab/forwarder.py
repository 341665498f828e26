"""The link impairment forwarder: copies Ethernet frames between two interfaces with delay, jitter, loss, partition.

Run as `python3 -m fleet.lab.forwarder --host-side IF --bridge-side IF --control FILE` (the lab starts it). The
kernel here has no sch_netem, so frames take a detour through this process: AF_PACKET sockets with PACKET_VNET_HDR
(each frame carries its virtio_net_hdr, so GSO super-frames and checksum-offloaded frames pass through intact) and
PACKET_IGNORE_OUTGOING (a socket does not read back the frames it sends). Frames from the host side travel "out",
frames from the bridge side travel "in". The control file holds JSON {"in": {...}, "out": {...}} with delay_ms,
jitter_ms, loss (percent) and partition; SIGHUP re-reads it. Prints "ready" once both sockets are bound.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import json
import os
import random
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Deque, Dict, Optional, Tuple

SOL_PACKET = 263
PACKET_VNET_HDR = 15
PACKET_IGNORE_OUTGOING = 23
ETH_P_ALL = 0x0003
MAX_FRAME = 10 + 65536 + 64  # virtio_net_hdr + the largest GSO frame + slack
PR_SET_TIMERSLACK = 29  # prctl(2)


@dataclass(frozen=True)
class Settings:
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss: float = 0.0
    partition: bool = False

    @classmethod
    def from_dict(cls, raw: Dict[str, object]) -> Settings:
        return cls(
            delay_ms=float(raw.get("delay_ms", 0.0)),  # type: ignore[arg-type]
            jitter_ms=float(raw.get("jitter_ms", 0.0)),  # type: ignore[arg-type]
            loss=float(raw.get("loss", 0.0)),  # type: ignore[arg-type]
            partition=bool(raw.get("partition", False)),
        )


def open_socket(ifname: str) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((ifname, ETH_P_ALL))
    return sock


class Direction:
    """One direction: a reader thread that drops or queues frames, a sender thread that sends them when due."""

    def __init__(self, name: str, src: socket.socket, dst: socket.socket) -> None:
        self.name = name
        self.src = src
        self.dst = dst
        self.settings = Settings()
        self.queue: Deque[Tuple[float, bytes]] = collections.deque()
        self.cond = threading.Condition()
        self.last_due = 0.0
        self.rng = random.Random()

    def start(self) -> None:
        threading.Thread(target=self.read_loop, name=f"{self.name}-read", daemon=True).start()
        threading.Thread(target=self.send_loop, name=f"{self.name}-send", daemon=True).start()

    def update(self, settings: Settings) -> None:
        with self.cond:
            self.settings = settings
            if settings.partition:
                self.queue.clear()
            self.cond.notify()

    def read_loop(self) -> None:
        buf = bytearray(MAX_FRAME)
        view = memoryview(buf)
        while True:
            n = self.src.recv_into(buf)
            s = self.settings
            if s.partition or (s.loss > 0 and self.rng.random() * 100.0 < s.loss):
                continue
            if s.delay_ms <= 0 and s.jitter_ms <= 0 and not self.queue:
                self.send(view[:n])
                continue
            delay = s.delay_ms + (self.rng.uniform(-s.jitter_ms, s.jitter_ms) if s.jitter_ms > 0 else 0.0)
            # Never reorder (TCP would take it for loss): a frame is due no earlier than the one before it.
            due = max(time.monotonic() + max(delay, 0.0) / 1000.0, self.last_due)
            self.last_due = due
            with self.cond:
                self.queue.append((due, bytes(view[:n])))
                self.cond.notify()

    def send_loop(self) -> None:
        while True:
            with self.cond:
                while not self.queue:
                    self.cond.wait()
                due, frame = self.queue[0]
                wait = due - time.monotonic()
                if wait > SPIN_S:
                    self.cond.wait(wait - SPIN_S)
                    continue
                self.queue.popleft()
            while time.monotonic() < due:
                pass  # the last stretch polls the clock: a timed wakeup comes ~0.1 ms late on a busy machine
            self.send(frame)

    def send(self, frame: object) -> None:
        try:
            self.dst.send(frame)  # type: ignore[arg-type]
        except OSError:
            pass  # the peer interface went down (tear-down): a lost frame, as on a real link


SPIN_S = 0.0003  # seconds before a frame is due that the sender stops sleeping and polls the clock


def precise_timing() -> None:
    """Delays should be what was asked for even on a busy machine: real-time priority (the forwarder mostly
    sleeps, so it cannot starve anything), 1 ns timer slack, and a short GIL switch interval between its threads."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    except (OSError, AttributeError):
        pass  # not root, or no real-time scheduling: delays stay as precise as the scheduler allows
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    sys.setswitchinterval(0.0002)


def read_control(path: str) -> Dict[str, Settings]:
    try:
        with open(path) as f:
            raw = json.load(f)
    except (OSError, ValueError):
        return {}
    return {d: Settings.from_dict(raw.get(d, {})) for d in ("in", "out")}


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="fleet.lab.forwarder", description=__doc__.splitlines()[0])
    parser.add_argument("--host-side", required=True, help="interface whose peer is the host's eth0")
    parser.add_argument("--bridge-side", required=True, help="interface whose peer is a bridge port")
    parser.add_argument("--control", required=True, help="JSON settings file, re-read on SIGHUP")
    args = parser.parse_args(argv)

    precise_timing()
    host_sock = open_socket(args.host_side)
    bridge_sock = open_socket(args.bridge_side)
    directions = {"out": Direction("out", host_sock, bridge_sock), "in": Direction("in", bridge_sock, host_sock)}

    def reload() -> None:
        for name, settings in read_control(args.control).items():
            directions[name].update(settings)

    # SIGHUP and SIGTERM are taken synchronously by the main thread in sigwait(). Blocked before any thread starts
    # (threads inherit the mask), so the kernel cannot hand one to a worker, where a Python handler would wait for
    # a main thread asleep in pause() and a reload would be lost.
    wanted = {signal.SIGHUP, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
    reload()
    for d in directions.values():
        d.start()
    print("ready", flush=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    while signal.sigwait(wanted) == signal.SIGHUP:
        reload()
    return 0


if __name__ == "__main__":
    sys.exit(main())
