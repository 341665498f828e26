"""A study's result as text (summary, histogram, worst pairs, per host pair), one JSON object, or CSV pairs."""

from __future__ import annotations

import csv
import json
from typing import IO, Dict, List, Optional, Tuple

from fleet.latency.context import Spot
from fleet.latency.histogram import histogram_lines
from fleet.latency.pairing import Pair
from fleet.latency.stats import Summary, human
from fleet.latency.study import StudyResult

PAIR_KEYS = ("key", "from_host", "to_host", "from_ts", "to_ts", "latency_ns", "uncertainty_ns")


def pair_dict(p: Pair) -> Dict[str, object]:
    unc: Optional[int] = None if p.uncertainty_ns < 0 else p.uncertainty_ns
    return {
        "key": p.key,
        "from_host": p.from_host,
        "to_host": p.to_host,
        "from_ts": p.from_ts,
        "to_ts": p.to_ts,
        "latency_ns": p.latency_ns,
        "uncertainty_ns": unc,
    }


def as_json(result: StudyResult) -> str:
    """One object: count, unmatched, min/p50/p90/p99/p999/max in ns, and every pair."""
    summary = Summary.of(result.latencies)
    obj: Dict[str, object] = {"count": summary.count, "unmatched": result.unmatched}
    obj.update(summary.as_dict())
    obj["pairs"] = [pair_dict(p) for p in result.pairs]
    return json.dumps(obj)


def write_csv(result: StudyResult, out: IO[str]) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(PAIR_KEYS)
    for p in result.pairs:
        d = pair_dict(p)
        w.writerow(["" if d[k] is None else d[k] for k in PAIR_KEYS])


def _max_unc(pairs: List[Pair]) -> int:
    """The largest uncertainty of the pairs (-1 when any pair is not aligned)."""
    if any(p.uncertainty_ns < 0 for p in pairs):
        return -1
    return max((p.uncertainty_ns for p in pairs), default=0)


def _ts(ns: int) -> str:
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"


def text_report(
    result: StudyResult, worst: int, context: Optional[Dict[Spot, List[str]]] = None, width: int = 40
) -> List[str]:
    """The lines `fleet latency` prints."""
    spec = result.spec
    lines = [f"from: {spec.start.describe()}", f"to:   {spec.end.describe()}"]
    summary = Summary.of(result.latencies)
    lines.append(
        f"pairs: {summary.count}   unmatched: {result.unmatched} "
        f"(from without to: {result.unmatched_from}, to without from: {result.unmatched_to})"
    )
    lines += [f"note: {n}" for n in result.notes]
    if not summary.count:
        return lines
    unc = _max_unc(result.pairs)
    cols = ("min", "p50", "p90", "p99", "p99.9", "max")
    values = [summary.min_ns, summary.p50_ns, summary.p90_ns, summary.p99_ns, summary.p999_ns, summary.max_ns]
    cells = [human(v) for v in values]
    w = max(len(c) for c in cells + list(cols))
    lines.append("")
    lines.append("  ".join(c.rjust(w) for c in cols))
    lines.append("  ".join(c.rjust(w) for c in cells))
    if unc < 0:
        lines.append("alignment uncertainty: unknown (some hosts' clocks are not aligned)")
    else:
        lines.append(f"alignment uncertainty: up to ± {human(unc)} per pair (sum of the two hosts' clock bounds)")
    lines.append("")
    lines.append("histogram (log scale, count per power-of-two bucket):")
    lines += histogram_lines(result.latencies, width)
    if worst > 0:
        lines.append("")
        lines.append(f"worst {min(worst, summary.count)} pair(s):")
        for i, p in enumerate(result.worst(worst), 1):
            lines.append(
                f"{i:3d}. {human(p.latency_ns, p.uncertainty_ns)}  key {p.key!r}  "
                f"{p.from_host} {_ts(p.from_ts)} -> {p.to_host} {_ts(p.to_ts)}"
            )
            if context is not None:
                for spot in ((p.from_host, p.from_cpu, p.from_raw), (p.to_host, p.to_cpu, p.to_raw)):
                    lines += ["       " + ln for ln in context.get(spot, [])]
    groups = result.by_host_pair()
    lines.append("")
    lines.append("per host pair:")
    rows: List[Tuple[str, ...]] = [("FROM", "TO", "COUNT", "P50", "P99", "MAX", "±")]
    for (a, b), ps in sorted(groups.items()):
        s = Summary.of([p.latency_ns for p in ps])
        u = _max_unc(ps)
        rows.append((a, b, str(s.count), human(s.p50_ns), human(s.p99_ns), human(s.max_ns), "?" if u < 0 else human(u)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        lines.append(
            "  " + "  ".join(c.ljust(wd) if i < 2 else c.rjust(wd) for i, (c, wd) in enumerate(zip(r, widths)))
        )
    return lines
