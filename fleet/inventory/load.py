"""Finding and reading inventories: files (YAML or INI), directories of them, and the built-in localhost one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional, Sequence

from fleet.errors import InventoryError
from fleet.inventory.data import InventoryData
from fleet.inventory.ini_inv import parse_ini
from fleet.inventory.inventory import Inventory
from fleet.inventory.vars_dirs import load_vars_dirs
from fleet.inventory.yaml_inv import parse_yaml

YAML_SUFFIXES = (".yml", ".yaml", ".json")
# Files a directory inventory skips, as Ansible does (editor backups, docs, retry files).
IGNORED_SUFFIXES = (".md", ".txt", ".rst", ".orig", ".bak", ".swp", ".cfg", ".retry", ".pyc", ".pyo", "~")
VARS_DIRS = ("group_vars", "host_vars")
# The inventory `fleet lab up` writes in its default directory (fleet.lab.DEFAULT_DIR): while that lab is up, its
# hosts (group `lab`) are part of the default inventory, so `fleet lab up; fleet trace --hosts 'lab/*'` just works.
DEFAULT_LAB_INVENTORIES = (Path("/tmp/fleet-lab/inventory.yml"), Path("/tmp/fleet-vm/inventory.yml"))


def default_paths() -> List[Path]:
    """Inventories used when -i is not given: the first of ./inventory/ and ~/.config/fleet/ that holds one, plus
    the inventories of the default namespace lab and VM lab while they are up (`fleet lab up`, `fleet lab vm up`)."""
    found: List[Path] = []
    for candidate in (Path.cwd() / "inventory", Path(os.path.expanduser("~/.config/fleet"))):
        if candidate.is_dir() and _inventory_files(candidate):
            found.append(candidate)
            break
    found += [lab for lab in DEFAULT_LAB_INVENTORIES if lab.is_file()]
    return found


def load_inventory(paths: Optional[Sequence[Path]] = None) -> Inventory:
    """Read inventories from `paths` (files or directories); None searches default_paths(); with nothing found
    the inventory holds just the implicit `localhost` (ansible_connection local)."""
    if paths is None:
        paths = default_paths()
    data = InventoryData()
    sources: List[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            files = _inventory_files(path)
            if not files:
                raise InventoryError(f"{path}: no inventory files in this directory")
            for f in files:
                _parse_file(f, data)
            bases = [path]
        elif path.is_file():
            _parse_file(path, data)
            bases = [path.parent]
        else:
            raise InventoryError(f"{path}: no such inventory file or directory")
        sources.append(path)
        data.finish()
        for base in bases:
            load_vars_dirs(base, data)
    data.finish()
    return Inventory(data, sources)


def _inventory_files(directory: Path) -> List[Path]:
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and not p.name.lower().startswith("readme")
        and not p.name.endswith(IGNORED_SUFFIXES)
    )


def _parse_file(path: Path, data: InventoryData) -> None:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(f"{path}: cannot read inventory: {exc}") from exc
    if path.suffix in YAML_SUFFIXES or (path.suffix != ".ini" and _looks_like_yaml(text)):
        parse_yaml(text, path, data)
    else:
        parse_ini(text, path, data)


def _looks_like_yaml(text: str) -> bool:
    """A file without a telling suffix: YAML if its first meaningful line is a `key:` mapping entry."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        return stripped.startswith("---") or (stripped.endswith(":") and not stripped.startswith("["))
    return False
