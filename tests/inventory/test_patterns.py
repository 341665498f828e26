"""Host patterns on a nested inventory: every pattern form, the same answers from YAML and INI."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

from fleet.errors import InventoryError
from fleet.inventory import Inventory, load_inventory

DATA = Path(__file__).parent / "data"


@pytest.fixture(params=["nested.yml", "nested.ini"])
def inventory(request: pytest.FixtureRequest) -> Inventory:
    return load_inventory([DATA / request.param])


def names(inventory: Inventory, pattern: str) -> List[str]:
    return [h.name for h in inventory.select(pattern)]


ALL = ["loose1", "board1", "board2", "board3", "board4", "board5", "board6", "board07", "board08", "scope1"]


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("all", ALL),
        ("lab/*", ["board1", "board2", "board3"]),
        ("lab/board[1-3]", ["board1", "board2", "board3"]),
        ("lab/board[2:3]", ["board2", "board3"]),
        ("lab/rack1/*", ["board4", "board5"]),
        ("lab/rack2/shelf/*", ["board07", "board08"]),
        ("rack2/shelf/*", ["board07", "board08"]),
        ("lab/*/shelf/board[7-8]", ["board07", "board08"]),
        ("*/board3", ["board3"]),
        ("*/board6", ["board6"]),
        ("lab/**", ["board1", "board2", "board3", "board4", "board5", "board6", "board07", "board08"]),
        ("lab/rack2/**", ["board6", "board07", "board08"]),
        ("lab/**/board0*", ["board07", "board08"]),
        ("board4", ["board4"]),
        ("bench", ["board3", "scope1"]),
        ("rack2", ["board6", "board07", "board08"]),
        ("ungrouped", ["loose1"]),
        ("board[1-2]", ["board1", "board2"]),
        ("board0*", ["board07", "board08"]),
        ("~^board0[78]$", ["board07", "board08"]),
        ("bench,rack1", ["board3", "board4", "board5", "scope1"]),
        ("scope1, loose1", ["loose1", "scope1"]),
        ("lab/**,!rack2", ["board1", "board2", "board3", "board4", "board5"]),
        ("lab/**,!lab/rack2/**,!board1", ["board2", "board3", "board4", "board5"]),
        ("!lab", ["loose1", "scope1"]),
        ("lab/**,&bench", ["board3"]),
        ("localhost", ["localhost"]),
    ],
)
def test_pattern_selects_exactly(inventory: Inventory, pattern: str, expected: List[str]) -> None:
    assert names(inventory, pattern) == expected


@pytest.mark.parametrize("pattern", ["nosuch", "lab/rack9/*", "lab/board[4-5]", "*/nosuch*"])
def test_pattern_matching_nothing_is_an_error_naming_it(inventory: Inventory, pattern: str) -> None:
    with pytest.raises(InventoryError, match=f"host pattern '{pattern.replace('[', '.').replace('*', '.')}'"):
        inventory.select(pattern)


def test_exclusion_matching_nothing_is_an_error_naming_it(inventory: Inventory) -> None:
    with pytest.raises(InventoryError, match=r"host pattern '!nosuch' matches no host"):
        inventory.select("lab/*,!nosuch")


def test_pattern_excluding_everything_is_an_error(inventory: Inventory) -> None:
    with pytest.raises(InventoryError, match="leaves no host"):
        inventory.select("lab/*,!lab")


def test_empty_path_segment_is_an_error(inventory: Inventory) -> None:
    with pytest.raises(InventoryError, match="empty segment"):
        inventory.select("lab//board1")


def test_numeric_range_takes_the_whole_number(tmp_path: Path) -> None:
    inv_file = tmp_path / "inv.ini"
    inv_file.write_text("[lab]\nboard[1:13]\n")
    inventory = load_inventory([inv_file])
    assert names(inventory, "lab/board[1-3]") == ["board1", "board2", "board3"]
    assert names(inventory, "lab/board[9-11]") == ["board9", "board10", "board11"]
