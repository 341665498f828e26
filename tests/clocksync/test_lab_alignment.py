"""Issue 9 acceptance on the namespace lab: one kernel, so the same event seen by two hosts must align.

Both sync modes are measured from one recording: round trips are always recorded, and the mode only decides
whether the shared-kernel shortcut is used when fitting.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from fleet.clocksync.crosscheck import PairStats
from tests.clocksync.labrun import pair_stats, trace_lab


@pytest.fixture(scope="module")
def stats(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, List[PairStats]]:
    run = trace_lab(lab.inventory_path, tmp_path_factory.mktemp("align") / "run", 3.0, "local")
    return {"default": pair_stats(run, shared_kernel=True), "network": pair_stats(run, shared_kernel=False)}


@pytest.mark.lab
def test_default_sync_aligns_the_same_event_within_2us_median_10us_p99(stats: Dict[str, List[PairStats]]) -> None:
    for pair in stats["default"]:
        assert pair.matched > 100, pair
        assert pair.median <= 2_000 and pair.p99 <= 10_000, pair


@pytest.mark.lab
def test_network_sync_bound_covers_every_matched_event(stats: Dict[str, List[PairStats]]) -> None:
    for pair in stats["network"]:
        assert pair.matched > 100, pair
        assert pair.covered == 1.0, pair
