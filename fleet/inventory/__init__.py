"""Ansible inventories (YAML and INI) and host patterns: which machines a fleet command talks to."""

from fleet.inventory.inventory import Inventory
from fleet.inventory.load import default_paths, load_inventory
from fleet.inventory.model import Group, Host, implicit_localhost

__all__ = ["Group", "Host", "Inventory", "default_paths", "implicit_localhost", "load_inventory"]
