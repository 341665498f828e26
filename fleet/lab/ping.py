"""ICMP echo round trips to a lab host, for measuring what an impairment does (this machine has no `ping`)."""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import time
from typing import List, Optional

from fleet.lab.errors import LabError
from fleet.lab.subnet import POOL


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ping(address: str, count: int = 5, timeout: float = 1.0, interval: float = 0.0) -> List[Optional[float]]:
    """Round-trip times in seconds of `count` echo requests to `address` (None for each one lost); needs root.

    Only lab addresses (fleet.lab.subnet.POOL): a mistyped address must not send traffic out of this machine."""
    if ipaddress.ip_address(address) not in POOL:
        raise LabError(f"{address} is not a lab address (the labs use {POOL}): not pinged")
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    except PermissionError as exc:
        raise LabError("measuring round trips needs root (raw ICMP socket)") from exc
    ident = os.getpid() & 0xFFFF
    rtts: List[Optional[float]] = []
    with sock:
        for seq in range(count):
            payload = b"fleet-lab-ping" + bytes(18)
            header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
            sent = time.monotonic()
            sock.sendto(packet, (address, 0))
            rtts.append(_await_reply(sock, address, ident, seq, sent, timeout))
            if interval:
                time.sleep(interval)
    return rtts


def _await_reply(
    sock: socket.socket, address: str, ident: int, seq: int, sent: float, timeout: float
) -> Optional[float]:
    deadline = sent + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data, (src, _) = sock.recvfrom(2048)
        except socket.timeout:
            return None
        now = time.monotonic()
        ihl = (data[0] & 0x0F) * 4
        kind, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl : ihl + 8])
        if src == address and kind == 0 and rid == ident and rseq == seq:
            return now - sent
