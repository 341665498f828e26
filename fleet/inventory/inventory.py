"""A loaded inventory: hosts with vars merged in Ansible's order, and selection by host pattern."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence, Set, Tuple

from fleet.errors import InventoryError
from fleet.inventory.data import InventoryData
from fleet.inventory.model import Host, implicit_localhost
from fleet.inventory.patterns import Term, name_matcher, path_matcher, split_pattern


class Inventory:
    """Hosts and groups of one or more inventory sources (`sources`, empty for the built-in localhost-only one)."""

    def __init__(self, data: InventoryData, sources: Sequence[Path] = ()) -> None:
        self.data = data
        self.sources = list(sources)
        self._depth = self._group_depths()
        self._hosts: Dict[str, Host] = {name: self._resolve(name) for name in data.host_order}

    @property
    def hosts(self) -> List[Host]:
        """Every host, in the order the inventory defines them."""
        return list(self._hosts.values())

    @property
    def groups(self) -> List[str]:
        return list(self.data.groups)

    def host(self, name: str) -> Host:
        if name in self._hosts:
            return self._hosts[name]
        if name == "localhost":
            return implicit_localhost()
        raise InventoryError(f"no host {name!r} in the inventory ({self._describe_sources()})")

    def group_hosts(self, group: str) -> List[Host]:
        """Hosts of `group` and of its children at any depth, in inventory order."""
        names: Set[str] = set()
        stack = [group]
        while stack:
            g = self.data.groups[stack.pop()]
            names.update(g.hosts)
            stack.extend(g.children)
        return [h for h in self._hosts.values() if h.name in names]

    def select(self, pattern: str) -> List[Host]:
        """Hosts matching `pattern` (see fleet.inventory.patterns), in inventory order; InventoryError naming any
        term that matches nothing."""
        chosen: List[Host] = []
        for term in split_pattern(pattern):
            found = self._match(term)
            if not found:
                shown = term.op + term.text
                raise InventoryError(f"host pattern {shown!r} matches no host ({self._describe_sources()})")
            names = {h.name for h in found}
            if term.op == "!":
                chosen = [h for h in chosen if h.name not in names]
            elif term.op == "&":
                chosen = [h for h in chosen if h.name in names]
            else:
                chosen += [h for h in found if h.name not in {c.name for c in chosen}]
        if not chosen:
            raise InventoryError(f"host pattern {pattern!r} leaves no host")
        order = {name: i for i, name in enumerate(self._hosts)}
        return sorted(chosen, key=lambda h: order.get(h.name, -1))

    def _match(self, term: Term) -> List[Host]:
        text = term.text
        if "/" in text and not text.startswith("~"):
            matches = path_matcher(text)
            return [h for h in self._hosts.values() if any(matches(p.split("/")) for p in h.paths)]
        if text in self._hosts:
            return [self._hosts[text]]
        if text in self.data.groups:
            return self.group_hosts(text)
        if text == "localhost":
            return [implicit_localhost()]
        matcher = name_matcher(text)
        names = {h.name for h in self._hosts.values() if matcher(h.name)}
        for group in self.data.groups:
            if matcher(group):
                names.update(h.name for h in self.group_hosts(group))
        return [h for h in self._hosts.values() if h.name in names]

    def _describe_sources(self) -> str:
        if not self.sources:
            return "built-in inventory: localhost only; give one with -i"
        return "inventory: " + ", ".join(str(s) for s in self.sources)

    # --- resolution --------------------------------------------------------------------------------------------
    def _group_depths(self) -> Dict[str, int]:
        """Longest distance from `all`, which orders var merging (deeper groups win)."""
        depth: Dict[str, int] = {"all": 0}
        frontier = ["all"]
        while frontier:
            nxt = []
            for name in frontier:
                for child in self.data.groups[name].children:
                    if depth.get(child, -1) < depth[name] + 1:
                        depth[child] = depth[name] + 1
                        nxt.append(child)
            frontier = nxt
        return depth

    def _paths(self, host: str) -> Tuple[List[Tuple[str, ...]], Set[str]]:
        paths: List[Tuple[str, ...]] = []
        groups: Set[str] = set()

        def walk(group: str, trail: Tuple[str, ...]) -> None:
            g = self.data.groups[group]
            here = trail + (group,)
            if host in g.hosts:
                paths.append(here + (host,))
                groups.update(here)
            for child in g.children:
                walk(child, here)

        walk("all", ())
        return paths, groups

    def _resolve(self, name: str) -> Host:
        paths, groups = self._paths(name)
        groups.add("all")

        def priority(group: str) -> Tuple[int, int, str]:
            raw = self.data.groups[group].vars.get("ansible_group_priority", 1)
            try:
                prio = int(raw)
            except (TypeError, ValueError):
                prio = 1
            return self._depth.get(group, 0), prio, group

        ordered = sorted((g for g in groups if g != "all"), key=priority)
        d = self.data
        merged: Dict[str, Any] = {}
        # Ansible's order: all's inventory vars < group_vars/all < other groups' inventory vars < group_vars/*
        # < the host's inventory vars < host_vars/*.
        merged.update(d.groups["all"].vars)
        merged.update(d.dir_group_vars.get("all", {}))
        for g in ordered:
            merged.update(d.groups[g].vars)
        for g in ordered:
            merged.update(d.dir_group_vars.get(g, {}))
        merged.update(d.host_vars.get(name, {}))
        merged.update(d.dir_host_vars.get(name, {}))
        merged.pop("ansible_group_priority", None)
        group_order = ["all"] + ordered
        return Host(name=name, groups=tuple(group_order), paths=tuple("/".join(p) for p in paths), vars=merged)
