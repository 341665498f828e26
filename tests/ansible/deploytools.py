"""Helpers for the deploy tests: run `fleet deploy`/`fleet doctor` in-process, seed apt's cache, derive inventories."""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from fleet.commands import deploy, doctor

# What the role installs with apt on Debian 12 (sudo for the fleet user variant); the tests hand the .debs to every
# host's root at bring-up so three overlays do not each download them.
DEBS = ["python3-msgpack", "python3-zstandard", "sudo"]


def fleet(*argv: str) -> Tuple[int, str]:
    """Run a `fleet deploy|doctor ...` command line in-process; (exit code, stdout)."""
    parser = argparse.ArgumentParser(prog="fleet")
    sub = parser.add_subparsers()
    deploy.register(sub)
    doctor.register(sub)
    args = parser.parse_args(list(argv))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = args.func(args)
    return code, out.getvalue()


def download_debs(directory: Path) -> Path:
    """A seed tree DIR/var/cache/apt/archives/*.deb of DEBS, fetched with `apt-get download`; returns DIR."""
    archives = directory / "var" / "cache" / "apt" / "archives"
    archives.mkdir(parents=True)
    subprocess.run(["apt-get", "download", *DEBS], cwd=archives, capture_output=True, check=True, timeout=120)
    return directory


def user_inventory(lab_inventory: Path, dest: Path, user: str) -> Path:
    """The lab's inventory with every host logging in as `user` and becoming root through sudo."""
    data: Dict[str, Any] = yaml.safe_load(lab_inventory.read_text())
    for host_vars in data["all"]["children"]["lab"]["hosts"].values():
        host_vars["ansible_user"] = user
        host_vars["ansible_become"] = True
    dest.write_text(yaml.safe_dump(data, sort_keys=False))
    return dest


def table_rows(output: str) -> List[List[str]]:
    """Rows of the result table (after the HOST header), split on runs of spaces, the CAUSE column kept whole."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("HOST "))
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append(line.split(None, 6))
    return rows


def download_wheels(directory: Path, python_version: str) -> Path:
    """Binary wheels of msgpack and zstandard for CPython `python_version` on x86-64 (a board's wheel bundle)."""
    subprocess.run(
        [
            "pip",
            "download",
            "-q",
            "--only-binary",
            ":all:",
            "--implementation",
            "cp",
            "--python-version",
            python_version,
            "--platform",
            "manylinux2014_x86_64",
            "-d",
            str(directory),
            "msgpack",
            "zstandard",
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return directory
