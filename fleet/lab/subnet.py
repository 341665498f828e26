"""Choosing a free /24 for a lab inside 198.18.0.0/15 (RFC 2544 benchmarking space, never routed outside).

Several labs may be up at once (a user's and each test session's); each needs its own subnet or the root
namespace would hold two routes to the same prefix. Allocation runs under a file lock so two bring-ups at once
cannot pick the same one.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
from contextlib import contextmanager
from typing import Iterator, Set

from fleet.lab.errors import LabError
from fleet.lab.run import run

POOL = ipaddress.IPv4Network("198.18.0.0/15")
LOCK_PATH = "/run/fleet-lab.lock"


@contextmanager
def allocation_lock() -> Iterator[None]:
    """Hold the machine-wide lock under which labs pick subnets and create bridges."""
    fd = os.open(LOCK_PATH, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def used_subnets() -> Set[ipaddress.IPv4Network]:
    """The /24s of POOL that some route in the root namespace already covers."""
    used: Set[ipaddress.IPv4Network] = set()
    for route in json.loads(run(["ip", "-j", "-4", "route", "show", "table", "all"]) or "[]"):
        dst = route.get("dst", "")
        if dst in ("", "default"):
            continue
        try:
            net = ipaddress.ip_network(dst, strict=False)
        except ValueError:
            continue
        if isinstance(net, ipaddress.IPv4Network) and net.overlaps(POOL):
            used.add(net.supernet(new_prefix=24) if net.prefixlen > 24 else net)
    return used


def free_subnet(preferred: ipaddress.IPv4Network | None = None) -> ipaddress.IPv4Network:
    """`preferred` if no route covers it, else the first free /24 of POOL (call under allocation_lock)."""
    used = used_subnets()

    def is_free(net: ipaddress.IPv4Network) -> bool:
        return not any(net.overlaps(u) for u in used)

    if preferred is not None:
        if is_free(preferred):
            return preferred
        raise LabError(f"subnet {preferred} is already routed on this machine (another lab is up there?)")
    for net in POOL.subnets(new_prefix=24):
        if is_free(net):
            return net
    raise LabError(f"no free /24 left in {POOL} for another lab; bring some down with `fleet lab down`")
