"""Helpers for tests that look inside recorded runs: decoded event names, marker texts, leftover instances."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Dict, List

import yaml

from fleet.ftrace.events import Decoder, Event
from fleet.record.reader import HostRun

INSTANCES = "/sys/kernel/tracing/instances"


def event_counts(host: HostRun) -> Dict[str, int]:
    """Decoded events of the host by name (all CPUs)."""
    decoder = Decoder(host.meta)
    counts: Counter = Counter()
    for cpu in host.cpus:
        for item in decoder.decode_pages(cpu, host.pages(cpu)):
            if isinstance(item, Event):
                counts[item.name] += 1
    return dict(counts)


def marker_texts(host: HostRun) -> List[str]:
    """The texts of trace_marker writes (ftrace `print` events) the host recorded, sync markers excluded."""
    decoder = Decoder(host.meta)
    out = []
    for cpu in host.cpus:
        for item in decoder.decode_pages(cpu, host.pages(cpu)):
            if isinstance(item, Event) and item.name == "print":
                text = str(item.fields().get("buf", "")).rstrip("\n")
                if not text.startswith("fleet-sync "):
                    out.append(text)
    return out


def fleet_instances(session: str = "") -> List[str]:
    """tracefs instances named fleet-<session>... that exist now."""
    if not os.path.isdir(INSTANCES):
        return []
    return sorted(n for n in os.listdir(INSTANCES) if n.startswith(f"fleet-{session}"))


def lab_inventory(lab, directory: Path, known_hosts: Path = None, **host_vars: Dict) -> Path:  # type: ignore
    """A copy of the lab's inventory, optionally with another known_hosts file or extra vars for some hosts."""
    data = yaml.safe_load(lab.inventory_path.read_text())
    hosts = data["all"]["children"]["lab"]["hosts"]
    for name, hv in hosts.items():
        if known_hosts is not None:
            hv["fleet_known_hosts"] = str(known_hosts)
        hv.update(host_vars.get(name, {}))
    path = directory / "inventory.yml"
    path.write_text(yaml.safe_dump(data))
    return path
