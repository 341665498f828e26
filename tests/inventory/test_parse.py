"""Reading Ansible inventories: structure, ranges and merged vars, checked against what Ansible itself says."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from fleet.errors import InventoryError
from fleet.inventory import load_inventory
from fleet.inventory.ranges import expand_hosts
from tests.conftest import need

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", ["nested.yml", "nested.ini"])
def test_hosts_have_group_paths_and_groups(name: str) -> None:
    inventory = load_inventory([DATA / name])
    board3 = inventory.host("board3")
    assert board3.paths == ("all/lab/board3", "all/bench/board3")
    assert board3.groups == ("all", "bench", "lab")
    assert inventory.host("board07").paths == ("all/lab/rack2/shelf/board07",)
    assert inventory.host("loose1").paths == ("all/ungrouped/loose1",)


@pytest.mark.parametrize("name", ["nested.yml", "nested.ini"])
def test_typed_accessors(name: str) -> None:
    inventory = load_inventory([DATA / name])
    board6 = inventory.host("board6")
    assert (board6.address, board6.port, board6.user, board6.become, board6.connection) == (
        "10.0.0.6",
        2222,
        "labuser",
        True,
        "ssh",
    )
    board4 = inventory.host("board4")
    assert (board4.address, board4.port, board4.become, board4.trace_clock) == ("board4", None, False, "mono")
    assert inventory.host("scope1").is_local
    assert inventory.host("loose1").user == "base"


@pytest.mark.parametrize("name", ["nested.yml", "nested.ini"])
def test_same_depth_groups_merge_by_name(name: str) -> None:
    # board3 is in bench and lab (both depth 1): Ansible merges them by name, so lab's ansible_user wins.
    assert load_inventory([DATA / name]).host("board3").user == "labuser"


def test_group_priority_overrides_name_order(tmp_path: Path) -> None:
    inv_file = tmp_path / "inv.ini"
    inv_file.write_text("[a]\nh1\n[a:vars]\nx=1\nansible_group_priority=5\n[b]\nh1\n[b:vars]\nx=2\n")
    assert load_inventory([inv_file]).host("h1").vars == {"x": 1}


def test_vars_directories_rank_as_in_ansible(tmp_path: Path) -> None:
    (tmp_path / "inv.yml").write_text(
        "all:\n  vars: {where: file-all}\n  children:\n    lab:\n      vars: {user_from: file-lab}\n"
        "      hosts:\n        h1:\n        h2: {user_from: file-host}\n"
    )
    (tmp_path / "group_vars" / "all").mkdir(parents=True)
    (tmp_path / "group_vars" / "all" / "10-base.yml").write_text("where: dir-all\nonly_all: 1\n")
    (tmp_path / "group_vars" / "lab.yml").write_text("user_from: dir-lab\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "h2.yaml").write_text("where: dir-host\n")
    inventory = load_inventory([tmp_path / "inv.yml"])
    assert dict(inventory.host("h1").vars) == {"where": "dir-all", "only_all": 1, "user_from": "dir-lab"}
    assert dict(inventory.host("h2").vars) == {"where": "dir-host", "only_all": 1, "user_from": "file-host"}


def test_ini_values_are_python_literals_else_text(tmp_path: Path) -> None:
    inv_file = tmp_path / "hosts"
    inv_file.write_text('h1 ansible_port=22 flag=True name="two words" path=/tmp/x\n')
    assert dict(load_inventory([inv_file]).host("h1").vars) == {
        "ansible_port": 22,
        "flag": True,
        "name": "two words",
        "path": "/tmp/x",
    }


def test_host_with_port_suffix(tmp_path: Path) -> None:
    inv_file = tmp_path / "inv.ini"
    inv_file.write_text("[lab]\nbox.example:2200\n")
    host = load_inventory([inv_file]).host("box.example")
    assert (host.address, host.port) == ("box.example", 2200)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("board[1:3]", ["board1", "board2", "board3"]),
        ("www[08:10]", ["www08", "www09", "www10"]),
        ("db-[a:c]", ["db-a", "db-b", "db-c"]),
        ("n[0:10:5]", ["n0", "n5", "n10"]),
        ("r[1:2]-s[1:2]", ["r1-s1", "r1-s2", "r2-s1", "r2-s2"]),
        ("plain", ["plain"]),
    ],
)
def test_host_ranges_expand_as_in_ansible(spec: str, expected: list) -> None:
    assert expand_hosts(spec) == expected


def test_bad_range_is_an_error() -> None:
    with pytest.raises(InventoryError, match=r"host range 'b\[3:1\]' is empty"):
        expand_hosts("b[3:1]")


def test_unknown_connection_is_an_error_naming_the_host(tmp_path: Path) -> None:
    inv_file = tmp_path / "inv.ini"
    inv_file.write_text("c1 ansible_connection=docker\n")
    with pytest.raises(InventoryError, match="host c1: ansible_connection 'docker' is not supported"):
        load_inventory([inv_file]).host("c1").connection  # noqa: B018


def test_yaml_group_with_stray_key_is_an_error(tmp_path: Path) -> None:
    inv_file = tmp_path / "inv.yml"
    inv_file.write_text("lab:\n  host:\n    h1:\n")
    with pytest.raises(InventoryError, match="group lab has host; only hosts, vars and children"):
        load_inventory([inv_file])


def test_group_cycle_is_an_error(tmp_path: Path) -> None:
    inv_file = tmp_path / "inv.ini"
    inv_file.write_text("[a:children]\nb\n[b:children]\na\n[a]\nh1\n")
    with pytest.raises(InventoryError, match="group cycle"):
        load_inventory([inv_file])


def ansible_hostvars(path: Path) -> Dict[str, Dict[str, Any]]:
    out = subprocess.run(["ansible-inventory", "-i", str(path), "--list"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["_meta"]["hostvars"]


@pytest.mark.parametrize("name", ["nested.yml", "nested.ini"])
def test_merged_vars_equal_ansible_inventory(name: str) -> None:
    need(shutil.which("ansible-inventory") is not None, "needs ansible-core (pip install ansible-core)")
    expected = ansible_hostvars(DATA / name)
    inventory = load_inventory([DATA / name])
    assert {h.name: dict(h.vars) for h in inventory.hosts} == expected


def test_vars_directories_equal_ansible_inventory(tmp_path: Path) -> None:
    need(shutil.which("ansible-inventory") is not None, "needs ansible-core (pip install ansible-core)")
    test_vars_directories_rank_as_in_ansible(tmp_path)  # builds the files
    expected = ansible_hostvars(tmp_path / "inv.yml")
    assert {h.name: dict(h.vars) for h in load_inventory([tmp_path / "inv.yml"]).hosts} == expected


def test_no_inventory_means_localhost_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr("fleet.inventory.load.DEFAULT_LAB_INVENTORIES", (tmp_path / "no-lab.yml",))
    inventory = load_inventory(None)
    assert inventory.hosts == []
    (local,) = inventory.select("localhost")
    assert (local.name, local.connection, local.python_interpreter) == ("localhost", "local", sys.executable)


def test_default_search_reads_inventory_directory_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "lab.ini").write_text("[lab]\nh1\n")
    (tmp_path / ".config" / "fleet").mkdir(parents=True)
    (tmp_path / ".config" / "fleet" / "hosts.yml").write_text("all:\n  hosts:\n    other:\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr("fleet.inventory.load.DEFAULT_LAB_INVENTORIES", (tmp_path / "no-lab.yml",))
    assert [h.name for h in load_inventory(None).hosts] == ["h1"]
    (tmp_path / "inventory" / "lab.ini").unlink()
    assert [h.name for h in load_inventory(None).hosts] == ["other"]


def test_missing_inventory_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="no such inventory file or directory"):
        load_inventory([tmp_path / "nope.yml"])
