"""What inventory sources declare, before vars are merged: groups, host definitions, group_vars/host_vars files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from fleet.errors import InventoryError
from fleet.inventory.model import Group

GROUP_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
HOST_PORT_RE = re.compile(r"^([^:\[\]]+|\[[0-9a-fA-F:]+\]):(\d+)$")


@dataclass
class InventoryData:
    """Accumulates one or more inventory sources; `all` and `ungrouped` always exist, as in Ansible."""

    groups: Dict[str, Group] = field(default_factory=lambda: {"all": Group("all"), "ungrouped": Group("ungrouped")})
    host_order: List[str] = field(default_factory=list)
    host_vars: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    # From group_vars/ and host_vars/ directories, which rank above the inventory file's own vars.
    dir_group_vars: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    dir_host_vars: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    def group(self, name: str) -> Group:
        if not GROUP_NAME_RE.match(name):
            raise InventoryError(f"group name {name!r}: use letters, digits, _, . and - only")
        if name not in self.groups:
            self.groups[name] = Group(name)
        return self.groups[name]

    def add_host(self, group: Optional[str], spec: str, host_vars: Optional[Dict[str, Any]] = None) -> None:
        """Declare host `spec` (name, `name:port`) in `group` (None: defined at the top, ungrouped)."""
        name, port = split_port(spec)
        if name not in self.host_vars:
            self.host_order.append(name)
            self.host_vars[name] = {}
        merged = self.host_vars[name]
        if port is not None:
            merged["ansible_port"] = port
        merged.update(host_vars or {})
        target = self.group(group) if group else self.groups["all"]
        if name not in target.hosts:
            target.hosts.append(name)

    def add_child(self, parent: str, child: str) -> None:
        if child == "all":
            raise InventoryError(f"group {parent}: `all` cannot be a child group")
        self.group(child)
        children = self.group(parent).children
        if child not in children:
            children.append(child)

    def add_group_vars(self, group: str, values: Dict[str, Any]) -> None:
        self.group(group).vars.update(values)

    def finish(self) -> None:
        """Apply Ansible's implicit structure: parentless groups are children of `all`; hosts in no group other
        than `all` are in `ungrouped`."""
        parented = {c for g in self.groups.values() for c in g.children}
        for name in self.groups:
            if name != "all" and name not in parented:
                self.add_child("all", name)
        grouped = {h for name, g in self.groups.items() if name not in ("all", "ungrouped") for h in g.hosts}
        ungrouped = self.groups["ungrouped"]
        for name in self.host_order:
            if name not in grouped and name not in ungrouped.hosts:
                ungrouped.hosts.append(name)
        self.groups["all"].hosts = [h for h in self.groups["all"].hosts if h not in ungrouped.hosts]
        self._check_cycles()

    def _check_cycles(self) -> None:
        def visit(name: str, trail: Tuple[str, ...]) -> None:
            if name in trail:
                raise InventoryError(f"group cycle: {' -> '.join(trail + (name,))}")
            for child in self.groups[name].children:
                visit(child, trail + (name,))

        for name in self.groups:
            visit(name, ())


def split_port(spec: str) -> Tuple[str, Optional[int]]:
    """`host:2222` -> (host, 2222); a bare IPv6 address is left alone."""
    m = HOST_PORT_RE.match(spec)
    if m:
        return m.group(1).strip("[]"), int(m.group(2))
    return spec, None
