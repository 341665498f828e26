"""TUI fixtures: a small real run (committed, see make_fixture.py) and helpers to read what a screen shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List

import pytest

SMALL_RUN = Path(__file__).parent / "data" / "run-small"


@pytest.fixture
def small_run() -> Path:
    return SMALL_RUN


def screen_lines(app: Any) -> List[str]:
    """The text of every line of the app's current screen, as a person sees it."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app: Any) -> str:
    return "\n".join(screen_lines(app))
