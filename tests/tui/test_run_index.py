"""The viewer's index reads the same merged stream `fleet report` prints, row by row and at random."""

from __future__ import annotations

import io
import random
from pathlib import Path

from fleet.ftrace.render import render_line
from fleet.report import ReportOptions, report
from fleet.sources import RunSource
from fleet.tui.run_index import CHECKPOINT, RunIndex


def report_lines(run: Path) -> list:
    out = io.StringIO()
    report(RunSource(run), ReportOptions(ns=True), out)
    return out.getvalue().splitlines()


def index_lines(ix: RunIndex, rows: list) -> list:
    return [render_line(r.event, r.ts, ns=True, host=r.host) for r in rows if r.event is not None]


def test_rows_in_order_are_the_report_lines(small_run: Path) -> None:
    ix = RunIndex(small_run)
    ix.build()
    assert ix.error is None
    assert index_lines(ix, ix.rows(0, len(ix))) == report_lines(small_run)


def test_any_row_decodes_alone_to_the_same_line(small_run: Path) -> None:
    ix = RunIndex(small_run)
    ix.build()
    lines = report_lines(small_run)
    picks = random.Random(5).sample(range(len(ix)), 60) + [0, CHECKPOINT - 1, CHECKPOINT, len(ix) - 1]
    for n in picks:
        assert index_lines(ix, [ix.row(n)]) == [lines[n]], n


def test_markers_are_the_user_markers_not_the_sync_markers(small_run: Path) -> None:
    ix = RunIndex(small_run)
    ix.build()
    assert [ix.row(r).body for r in ix.marker_rows] == ["0xffffffff8149895a: hello"]


def test_row_at_time_finds_the_first_row_at_or_after(small_run: Path) -> None:
    ix = RunIndex(small_run)
    ix.build()
    assert ix.row_at_time(ix.ts[100]) == ix.ts.index(ix.ts[100])
    assert ix.row_at_time(0) == 0
    assert ix.row_at_time(ix.ts[len(ix) - 1] + 10**9) == len(ix) - 1
