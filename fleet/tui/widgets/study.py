"""The dashboard's live latency-study panel: the study's sides, its counts and percentiles, a log-scale histogram."""

from __future__ import annotations

from rich.text import Text

from fleet.latency.stats import human
from fleet.tui.study import StudyView

HISTOGRAM_ROWS = 12
"""At most this many histogram rows (the slowest buckets are the ones kept: they are what a study is for)."""


def study_text(view: StudyView) -> Text:
    """`study FROM -> TO`, `pairs N  unmatched N  open N  p50 ..  p99 ..  max ..`, then the histogram rows."""
    s = view.summary
    out = Text(no_wrap=True, overflow="crop")
    out.append("study ", style="bold")
    out.append(view.title + "\n")
    out.append(f"pairs {view.count}  unmatched {view.unmatched}  open {view.open}  ")
    out.append(f"p50 {human(s.p50_ns)}  p99 {human(s.p99_ns)}  max {human(s.max_ns)}", style="bold")
    rows = view.histogram[-HISTOGRAM_ROWS:]
    if len(view.histogram) > len(rows):
        out.append(f"\n  ({len(view.histogram) - len(rows)} faster bucket(s) not shown)", style="dim")
    for line in rows:
        out.append("\n" + line)
    if not rows:
        out.append("\n  no pairs yet", style="dim")
    return out
