"""Clock models for a recorded run: find each host's sync markers in its trace data, then fit its samples."""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

from fleet.clocksync.align import SYNC_AUTO, align_host, attach_markers, shares_kernel
from fleet.clocksync.model import ClockModel
from fleet.ftrace.events import Decoder, Event
from fleet.record.reader import HostRun, Run

SYNC_PREFIX = b"fleet-sync "


def marker_text(data: bytes) -> str:
    """The text of a `print` record (ip at 8, buf from 16), without the newline the kernel appends."""
    return data[16:].split(b"\0", 1)[0].decode("utf-8", "replace").rstrip("\n")


def find_sync_markers(items: Iterable[Any]) -> Dict[str, int]:
    """Sync-marker text -> trace timestamp, from decoded items of one host (other records are skipped quickly)."""
    found: Dict[str, int] = {}
    for item in items:
        if isinstance(item, Event) and SYNC_PREFIX in item.data and item.name == "print":
            found.setdefault(marker_text(item.data), item.ts)
    return found


def host_sync_markers(host: HostRun) -> Dict[str, int]:
    """Every sync marker in one recorded host's trace data."""
    if not host.has_metadata:
        return {}
    decoder = Decoder(host.meta)
    found: Dict[str, int] = {}
    for cpu in host.cpus:
        # Pages are self-contained (each carries its own base timestamp), so only pages holding a marker's text
        # need decoding: a quick byte search skips the rest of the run.
        pages = (page for page in host.pages(cpu) if SYNC_PREFIX in page)
        for text, ts in find_sync_markers(decoder.decode_pages(cpu, pages)).items():
            found.setdefault(text, ts)
    return found


def tsc_rate(tsc2nsec: Optional[Dict[str, int]]) -> Optional[float]:
    """ns per cycle from a TSC2NSEC {mult, shift} pair (ns = cycles * mult >> shift)."""
    if not tsc2nsec or not tsc2nsec.get("mult"):
        return None
    return float(tsc2nsec["mult"]) / float(1 << int(tsc2nsec.get("shift", 0)))


def run_models(run: Run, sync: Optional[str] = None) -> Dict[str, ClockModel]:
    """Each host's clock model; `sync` overrides the run's recorded sync mode (`auto` or `network`)."""
    manifest = run.manifest
    mode = sync or str(manifest.config.get("sync", SYNC_AUTO))
    coord_boot = str(manifest.coordinator.get("boot_id", ""))
    models: Dict[str, ClockModel] = {}
    for name in run.host_names:
        host = run.host(name)
        entry = manifest.hosts[name]
        samples = attach_markers(host.sync_samples, host_sync_markers(host))
        clock = entry.trace_clock or (host.meta.trace_clock if host.has_metadata else "local")
        rate = tsc_rate(host.meta.tsc2nsec) if host.has_metadata else None
        models[name] = align_host(samples, clock, shares_kernel(entry.boot_id, coord_boot, mode), rate)
    return models
