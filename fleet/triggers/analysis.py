"""After a triggered run: the trigger's timestamp, how long each other host kept tracing after it (propagation),
and the window each host kept (optionally trimmed to --keep seconds), all on the aligned time line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from fleet.clocksync.model import ClockModel
from fleet.clocksync.recorded import run_models
from fleet.ftrace.events import Decoder, Event
from fleet.record.reader import HostRun, Run
from fleet.triggers.keep import trim_host
from fleet.triggers.record import TriggerRecord
from fleet.triggers.spec import event_path


@dataclass
class HostSpan:
    """A host's recorded events on the aligned time line: first, last, and the last matching the trigger event."""

    first: Optional[int] = None
    last: Optional[int] = None
    last_trigger_event: Optional[int] = None
    events: int = 0


def host_span(host: HostRun, model: Optional[ClockModel], trigger_event: Optional[str]) -> HostSpan:
    span = HostSpan()
    if not host.has_metadata:
        return span
    decoder = Decoder(host.meta)
    system, _, name = (trigger_event or "::").partition(":")
    for cpu in host.cpus:
        for item in decoder.decode_pages(cpu, host.pages(cpu)):
            if not isinstance(item, Event):
                continue
            ts = model.aligned(item.ts) if model else item.ts
            span.events += 1
            span.first = ts if span.first is None else min(span.first, ts)
            span.last = ts if span.last is None else max(span.last, ts)
            if trigger_event and item.name == name and item.system == system:
                prev = span.last_trigger_event
                span.last_trigger_event = ts if prev is None else max(prev, ts)
    return span


def aligner(model: Optional[ClockModel]) -> Callable[[int], int]:
    return model.aligned if model is not None else (lambda ts: ts)


def analyze(run_dir: Path, keep: Optional[float] = None) -> Optional[TriggerRecord]:
    """Fill the run's trigger record with timestamps and propagation (and trim to `keep` seconds); None when no
    trigger fired."""
    record = TriggerRecord.load(run_dir)
    if record is None:
        return None
    run = Run.open(run_dir)
    models = run_models(run)
    event = record.spec.get("event")
    trigger_event = event_path(event) if event else None
    spans = {h.name: host_span(h, models.get(h.name), trigger_event) for h in run.hosts}
    fired = spans.get(record.host, HostSpan())
    # The traceoff trigger runs on the event that fired it, which is thus the trigger host's last of its kind.
    trigger_ts = fired.last_trigger_event if fired.last_trigger_event is not None else fired.last
    analysis: Dict[str, Any] = {"trigger_ts": trigger_ts, "hosts": {}}
    if keep is not None and trigger_ts is not None:
        cutoff = trigger_ts - round(keep * 1e9)
        analysis["keep_from_ts"] = cutoff
        for host in run.hosts:
            dropped, pages = trim_host(host, aligner(models.get(host.name)), cutoff)
            analysis["hosts"].setdefault(host.name, {})["dropped_frames"] = dropped
            analysis["hosts"][host.name]["dropped_pages"] = pages
        run = Run.open(run_dir)
        spans = {h.name: host_span(h, models.get(h.name), trigger_event) for h in run.hosts}
    for name, span in spans.items():
        entry = analysis["hosts"].setdefault(name, {})
        entry.update(first_ts=span.first, last_ts=span.last, events=span.events)
        if trigger_ts is not None and span.last is not None and name != record.host:
            entry["propagation_ns"] = span.last - trigger_ts
        model = models.get(name)
        if model is not None and model.aligned_ok:
            entry["uncertainty_ns"] = round(model.uncertainty_ns)
    record.analysis = analysis
    record.save(run_dir)
    return record


def outcome_lines(record: TriggerRecord) -> List[str]:
    """What `fleet trace` prints after a triggered run."""
    from fleet.latency.stats import human

    a = record.analysis
    lines = [f"trigger: {record.host} fired ({record.message})"]
    trigger_ts = a.get("trigger_ts")
    if trigger_ts is not None:
        lines[0] += f" at {trigger_ts / 1e9:.9f}"
    if record.host_at is not None:
        lines.append(
            f"  noticed by its agent, stop sent to every host {human(record.stop_requested - record.coord_rx)} "
            "after the coordinator heard of it"
        )
    for name, h in sorted(a.get("hosts", {}).items()):
        parts = [f"  {name}:"]
        if name == record.host:
            parts.append("fired the trigger;")
        elif "propagation_ns" in h:
            unc = h.get("uncertainty_ns")
            parts.append(f"stopped {human(h['propagation_ns'], unc)} after the trigger;")
        first, last = h.get("first_ts"), h.get("last_ts")
        if first is not None and last is not None:
            kept = trigger_ts - first if trigger_ts is not None else last - first
            parts.append(f"{h.get('events', 0)} events kept, from {human(max(kept, 0))} before the trigger")
        else:
            parts.append("no events kept")
        if h.get("dropped_frames"):
            parts.append(f"({h['dropped_frames']} data frames before the --keep window dropped)")
        lines.append(" ".join(parts))
    return lines
