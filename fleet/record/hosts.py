"""Host patterns on a recorded run: the run keeps each host's inventory group chains, so `lab/*` selects as it did."""

from __future__ import annotations

from typing import List

from fleet.inventory.data import InventoryData
from fleet.inventory.inventory import Inventory
from fleet.record.reader import Run


def run_inventory(run: Run) -> Inventory:
    """An inventory of the run's hosts with their recorded groups (hosts recorded without any are ungrouped)."""
    data = InventoryData()
    for name, entry in run.manifest.hosts.items():
        chains = [p.split("/") for p in entry.paths] or [["all", name]]
        for chain in chains:
            groups = chain[:-1]
            for parent, child in zip(groups, groups[1:]):
                data.add_child(parent, child)
            data.add_host(groups[-1] if groups[-1] != "all" else None, name)
    data.finish()
    return Inventory(data)


def select_hosts(run: Run, pattern: str) -> List[str]:
    """Names of the run's hosts that `pattern` selects (fleet.inventory's pattern language)."""
    return [host.name for host in run_inventory(run).select(pattern)]
