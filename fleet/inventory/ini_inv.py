"""Ansible's INI inventory format: [group], [group:vars], [group:children]; host lines carry key=value vars."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path
from typing import Any, Dict

from fleet.errors import InventoryError
from fleet.inventory.data import InventoryData
from fleet.inventory.ranges import expand_hosts

SECTION_RE = re.compile(r"^\[([^\]:\s]+)(?::(vars|children|hosts))?\]\s*$")


def parse_ini(text: str, source: Path, data: InventoryData) -> None:
    """Add the groups and hosts of INI inventory `text` (read from `source`, for messages) to `data`."""
    group, kind = "ungrouped", "hosts"
    top = True  # host lines before the first section are ungrouped
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        where = f"{source}:{number}"
        if line.startswith("["):
            m = SECTION_RE.match(line)
            if not m:
                raise InventoryError(
                    f"{where}: bad section header {line!r} (use [group], [group:vars], [group:children])"
                )
            group, kind, top = m.group(1), m.group(2) or "hosts", False
            data.group(group)
            continue
        if kind == "hosts":
            try:
                tokens = shlex.split(line, comments=True)
            except ValueError as exc:
                raise InventoryError(f"{where}: {exc}") from exc
            host_vars: Dict[str, Any] = {}
            for token in tokens[1:]:
                key, sep, value = token.partition("=")
                if not sep:
                    raise InventoryError(f"{where}: {token!r} is not key=value (host vars follow the host name)")
                host_vars[key] = parse_value(value)
            for host in expand_hosts(tokens[0]):
                data.add_host(None if top or group == "all" else group, host, host_vars)
        elif kind == "vars":
            key, sep, value = line.partition("=")
            if not sep:
                raise InventoryError(f"{where}: {line!r} is not key=value in [{group}:vars]")
            data.add_group_vars(group, {key.strip(): parse_value(value.strip())})
        else:
            data.add_child(group, line.split()[0])


def parse_value(text: str) -> Any:
    """A value as Ansible's INI plugin reads it: a Python literal if it is one (22, True, [1]), else the text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
