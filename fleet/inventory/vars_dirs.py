"""group_vars/ and host_vars/ beside an inventory: NAME, NAME.yml/.yaml/.json, or a directory NAME/ of such files."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import yaml

from fleet.errors import InventoryError
from fleet.inventory.data import InventoryData

VAR_SUFFIXES = ("", ".yml", ".yaml", ".json")


def load_vars_dirs(base: Path, data: InventoryData) -> None:
    """Read `base`/group_vars and `base`/host_vars for the groups and hosts `data` knows."""
    for group in list(data.groups):
        _merge(data.dir_group_vars, group, _read_entity(base / "group_vars", group))
    for host in data.host_order:
        _merge(data.dir_host_vars, host, _read_entity(base / "host_vars", host))


def _merge(target: Dict[str, Dict[str, Any]], name: str, values: Dict[str, Any]) -> None:
    if values:
        target.setdefault(name, {}).update(values)


def _read_entity(directory: Path, name: str) -> Dict[str, Any]:
    if not directory.is_dir():
        return {}
    files: List[Path] = []
    for suffix in VAR_SUFFIXES:
        path = directory / (name + suffix)
        if path.is_file():
            files.append(path)
        elif suffix == "" and path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in VAR_SUFFIXES))
    values: Dict[str, Any] = {}
    for path in files:
        values.update(_read_file(path))
    return values


def _read_file(path: Path) -> Dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise InventoryError(f"{path}: cannot read vars: {exc}") from exc
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InventoryError(f"{path}: a vars file holds a mapping of variable names to values")
    return {str(k): v for k, v in doc.items()}
