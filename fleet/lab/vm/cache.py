"""Build artefacts of the VM lab (root filesystems, kernels, initrds) cached outside the checkout, keyed by inputs.

An entry is a directory /var/cache/fleet-vm/<kind>-<key>; it is built in a temporary sibling and renamed into
place, so a half-built entry is never used, and a lock file keeps two builders of the same key from racing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

DEFAULT_ROOT = Path(os.environ.get("FLEET_VM_CACHE", "/var/cache/fleet-vm"))


def cache_key(inputs: Any) -> str:
    """A short hash of `inputs` (anything JSON can encode, keys sorted): the same inputs give the same key."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached(root: Path, kind: str, inputs: Any, build: Callable[[Path], None]) -> Path:
    """The entry for (`kind`, `inputs`) under `root`, calling `build(directory)` to fill it when missing."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{kind}-{cache_key(inputs)}"
    with open(root / f".{final.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (final / "inputs.json").is_file():
            return final
        tmp = root / f".{final.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            build(tmp)
            # Written last: its presence is what marks the entry complete.
            (tmp / "inputs.json").write_text(json.dumps(inputs, sort_keys=True, indent=1) + "\n")
            shutil.rmtree(final, ignore_errors=True)
            tmp.rename(final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final
