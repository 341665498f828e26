"""The `fleet` command line: one sub-command costs only its own imports; `fleet --help` still lists them all."""

from __future__ import annotations

import subprocess
import sys

from fleet.cli import COMMANDS

PROBE = """
import sys
from fleet.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print(sorted(m for m in ("asyncssh", "textual", "fleet.commands.trace") if m in sys.modules))
"""


def imported_after(argv: list) -> str:
    code = PROBE.format(argv=argv)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[-1]


def test_report_loads_neither_ssh_nor_the_tui() -> None:
    assert imported_after(["report", "--help"]) == "[]"


def test_help_lists_every_command() -> None:
    out = subprocess.run([sys.executable, "-m", "fleet.cli", "--help"], capture_output=True, text=True).stdout
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("    ") and not line.startswith("     ")]
    assert listed == COMMANDS
