"""Running the host tools the VM lab is built with, with errors that name the command and its last words."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Optional, Sequence

from fleet.lab.vm.errors import VmError


def run(cmd: Sequence[str], cwd: Optional[Path] = None, timeout: float = 600.0, stdin: Optional[bytes] = None) -> str:
    """Run `cmd` and return its stdout; VmError with the tail of its stderr when it fails or times out."""
    try:
        proc = subprocess.run(list(cmd), cwd=cwd, input=stdin, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise VmError(f"{cmd[0]} is not installed (scripts/vm-deps installs the VM lab's tools)") from None
    except subprocess.TimeoutExpired:
        raise VmError(f"`{' '.join(cmd)[:80]}` did not finish within {timeout:g} s") from None
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        tail = " | ".join(err[-3:]) if err else f"exit {proc.returncode}"
        raise VmError(f"`{' '.join(cmd)[:80]}` failed: {tail}")
    return proc.stdout.decode(errors="replace")
