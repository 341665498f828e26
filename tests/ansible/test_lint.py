"""The role and playbook pass ansible-lint's strictest (production) profile."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import need

ANSIBLE_DIR = Path(__file__).resolve().parents[2] / "ansible"


def test_ansible_lint_production_profile_passes() -> None:
    need(shutil.which("ansible-lint") is not None, "needs ansible-lint (pip install ansible-lint)")
    result = subprocess.run(
        ["ansible-lint", "--profile", "production", "--nocolor"],
        cwd=ANSIBLE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
