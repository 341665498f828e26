"""Ansible's YAML inventory format: groups with `hosts`, `vars` and `children`, from `all` or from the top level."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Mapping

import yaml

from fleet.errors import InventoryError
from fleet.inventory.data import InventoryData
from fleet.inventory.ranges import expand_hosts

GROUP_KEYS = {"hosts", "vars", "children"}


def parse_yaml(text: str, source: Path, data: InventoryData) -> None:
    """Add the groups and hosts of YAML inventory `text` (read from `source`, for messages) to `data`."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InventoryError(f"{source}: not valid YAML: {exc}") from exc
    if doc is None:
        return
    if not isinstance(doc, Mapping):
        raise InventoryError(f"{source}: a YAML inventory is a mapping of group names (e.g. `all:`)")
    for name, body in doc.items():
        _group(str(name), body, source, data)


def _group(name: str, body: Any, source: Path, data: InventoryData) -> None:
    data.group(name)
    if body is None:
        return
    if not isinstance(body, Mapping):
        raise InventoryError(f"{source}: group {name} must be a mapping with hosts/vars/children")
    unknown = set(body) - GROUP_KEYS
    if unknown:
        raise InventoryError(
            f"{source}: group {name} has {', '.join(sorted(map(str, unknown)))}; only hosts, vars and children "
            "belong there (host vars go under `hosts: NAME:`)"
        )
    hosts = body.get("hosts") or {}
    if not isinstance(hosts, Mapping):
        raise InventoryError(f"{source}: group {name}: `hosts` must be a mapping of host names to their vars")
    for spec, host_vars in hosts.items():
        if host_vars is not None and not isinstance(host_vars, Mapping):
            raise InventoryError(f"{source}: host {spec} in group {name}: its vars must be a mapping")
        for host in expand_hosts(str(spec)):
            data.add_host(None if name == "all" else name, host, _vars(host_vars))
    group_vars = body.get("vars") or {}
    if not isinstance(group_vars, Mapping):
        raise InventoryError(f"{source}: group {name}: `vars` must be a mapping")
    data.add_group_vars(name, _vars(group_vars))
    children = body.get("children") or {}
    if not isinstance(children, Mapping):
        raise InventoryError(f"{source}: group {name}: `children` must be a mapping of group names")
    for child, child_body in children.items():
        data.add_child(name, str(child))
        _group(str(child), child_body, source, data)


def _vars(raw: Any) -> Dict[str, Any]:
    return {str(k): v for k, v in (raw or {}).items()}
