"""Which of a run's hosts an inventory pattern selects (the run itself only knows host names, not groups)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

from fleet.errors import InventoryError
from fleet.inventory import load_inventory
from fleet.inventory.patterns import name_matcher, split_pattern


def _by_names(pattern: str, names: Sequence[str]) -> List[str]:
    """Without group information: each term's last path segment is matched against the host names."""
    chosen: List[str] = []
    for term in split_pattern(pattern):
        text = term.text.split("/")[-1]
        match = (lambda n: True) if text in ("all", "*", "**") else name_matcher(text)
        found = [n for n in names if match(n)]
        if term.op == "!":
            chosen = [n for n in chosen if n not in found]
        elif term.op == "&":
            chosen = [n for n in chosen if n in found]
        else:
            chosen += [n for n in found if n not in chosen]
    return chosen


def select_hosts(pattern: Optional[str], names: Sequence[str], inventories: Optional[List[Path]] = None) -> List[str]:
    """Run hosts (in run order) that `pattern` selects: by the inventory when it knows them, else by name."""
    if not pattern:
        return list(names)
    chosen: List[str] = []
    try:
        picked = {h.name for h in load_inventory(inventories).select(pattern)}
        chosen = [n for n in names if n in picked]
    except InventoryError:
        pass
    if not chosen:
        chosen = _by_names(pattern, names)
    if not chosen:
        raise InventoryError(f"host pattern {pattern!r} selects none of the run's hosts ({', '.join(names)})")
    return chosen
