"""From `fleet trace` flags to a StopSpec, the hosts that carry the trigger and their agent configuration."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from fleet.errors import InventoryError, UsageError
from fleet.inventory import load_inventory
from fleet.transport.target import Target
from fleet.triggers.spec import StopSpec, check_regex, kernel_triggers

_LATENCY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?\s*$")
_TO_US = {"ns": 1e-3, "us": 1.0, "µs": 1.0, "ms": 1e3, "s": 1e6, None: 1.0}


def parse_latency_us(text: str) -> int:
    """'500us', '2ms', '500' (µs) -> microseconds (tracing_thresh's unit)."""
    m = _LATENCY.match(text)
    if not m:
        raise UsageError(f"--stop-all-above {text!r}: write a latency like 500us or 2ms")
    us = round(float(m.group(1)) * _TO_US[m.group(2)])
    if us <= 0:
        raise UsageError(f"--stop-all-above {text!r}: the threshold must be at least 1 us")
    return us


def stop_spec(args: argparse.Namespace, config: Dict[str, Any]) -> StopSpec:
    """The trigger part of the command line, checked; adds overwrite mode to `config` for the flight recorder."""
    spec = StopSpec(
        event=args.stop_all_on,
        match=args.stop_match,
        filter=args.stop_filter,
        hosts=args.stop_hosts,
        keep=args.keep,
        flight_recorder=args.flight_recorder,
    )
    if args.stop_all_above is not None:
        if not config.get("tracer"):
            raise UsageError("--stop-all-above needs a latency tracer (-p wakeup_rt, irqsoff, preemptoff, ...)")
        spec.above_us = parse_latency_us(args.stop_all_above)
    if (spec.match or spec.filter or spec.hosts) and not spec.active:
        raise UsageError("--stop-match, --stop-filter and --stop-hosts refine --stop-all-on (or --stop-all-above)")
    if spec.keep is not None and (spec.keep <= 0 or not spec.active):
        raise UsageError("--keep S needs a trigger (--stop-all-on or --stop-all-above) and S > 0")
    check_regex(spec.match)
    kernel_triggers(spec)  # refuses what the kernel cannot express, before any host is touched
    if spec.flight_recorder:
        config["options"] = [o for o in config.get("options", []) if o != "nooverwrite"] + ["overwrite"]
    return spec


def select_stop_hosts(
    pattern: Optional[str], targets: Sequence[Target], inventories: Optional[List[Path]]
) -> List[str]:
    """Names of the traced hosts that carry the trigger (all of them without a pattern)."""
    names = [t.name for t in targets]
    if not pattern:
        return names
    picked = {h.name for h in load_inventory(inventories).select(pattern)}
    chosen = [n for n in names if n in picked]
    if not chosen:
        raise InventoryError(f"--stop-hosts {pattern!r} selects none of the traced hosts ({', '.join(names)})")
    return chosen


def trigger_hosts(req: Any) -> List[str]:
    """The trigger hosts of a TraceRequest (its StopSpec's resolved, comma-joined host list)."""
    stop: StopSpec = req.stop
    if not stop.active or not stop.hosts:
        return []
    return stop.hosts.split(",")


def trigger_config(spec: StopSpec) -> Dict[str, Any]:
    """Agent config keys for a trigger host: the traceoff trigger. --stop-all-above needs none: the agent reports
    every new maximum of a latency tracer, and the coordinator compares it (tracing_thresh would not do: it exists
    only at the top level, and it changes what the tracer records)."""
    out: Dict[str, Any] = {}
    triggers = kernel_triggers(spec)
    if triggers:
        out["triggers"] = triggers
    return out
