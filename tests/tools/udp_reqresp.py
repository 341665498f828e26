"""A UDP request/response pair for latency tests: `req N sent` / `req N recv` markers plus its own measurement.

    server PORT COUNT OUT     answer COUNT requests; write `req N recv` on each; OUT gets one JSON line per request
    client ADDR PORT COUNT INTERVAL   send COUNT requests, writing `req N sent` just before each

Markers go to the top-level trace_marker (what any program writes). The one-way delay is measured with
CLOCK_MONOTONIC, which every namespace host of the lab shares: each side reads the clock right before and right
after its marker write, and the server records (midpoint recv - midpoint sent) and the half-widths of both windows.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import time

MARKER = "/sys/kernel/tracing/trace_marker"
PACKET = struct.Struct("<Iqq")  # n, mono before the `sent` marker write, mono after it


def open_marker() -> int:
    """The top-level trace_marker; inside `ip netns exec` /sys is fresh, so mount tracefs there when needed."""
    if not os.path.exists(MARKER):
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], check=True)
    return os.open(MARKER, os.O_WRONLY)


def marked(fd: int, text: str) -> tuple:
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    os.write(fd, text.encode())
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    return before, after


def server(port: int, count: int, out: str) -> int:
    fd = open_marker()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", port))
    sock.settimeout(10.0)
    print("ready", flush=True)
    with open(out, "w") as f:
        for _ in range(count):
            data, peer = sock.recvfrom(64)
            n, s0, s1 = PACKET.unpack(data)
            r0, r1 = marked(fd, f"req {n} recv")
            oneway = (r0 + r1) // 2 - (s0 + s1) // 2
            f.write(json.dumps({"n": n, "oneway_ns": oneway, "window_ns": (s1 - s0 + r1 - r0) // 2 + 1}) + "\n")
            sock.sendto(data, peer)
    return 0


def client(addr: str, port: int, count: int, interval: float) -> int:
    fd = open_marker()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(5.0)
    for n in range(count):
        s0, s1 = marked(fd, f"req {n} sent")
        sock.sendto(PACKET.pack(n, s0, s1), (addr, port))
        sock.recvfrom(64)
        time.sleep(interval)
    return 0


def main(argv: list) -> int:
    if argv[:1] == ["server"]:
        return server(int(argv[1]), int(argv[2]), argv[3])
    if argv[:1] == ["client"]:
        return client(argv[1], int(argv[2]), int(argv[3]), float(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
