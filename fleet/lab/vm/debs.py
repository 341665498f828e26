"""Debian packages the VM lab builds from: which versioned package a metapackage points at, and its files."""

from __future__ import annotations

from pathlib import Path
from typing import Tuple

from fleet.lab.vm.errors import VmError
from fleet.lab.vm.run import run


def resolve(meta: str, prefix: str) -> Tuple[str, str]:
    """(package, candidate version) of the `prefix`* package that metapackage `meta` depends on now."""
    deps = run(["apt-cache", "depends", meta])
    pkg = next((ln.split()[1] for ln in deps.splitlines() if ln.strip().startswith(f"Depends: {prefix}")), None)
    if pkg is None:
        raise VmError(f"apt knows no {meta} (run `apt-get update`; scripts/vm-deps does)")
    policy = run(["apt-cache", "policy", pkg])
    version = next((ln.split()[1] for ln in policy.splitlines() if ln.strip().startswith("Candidate:")), "")
    if not version or version == "(none)":
        raise VmError(f"apt has no candidate version of {pkg}")
    return pkg, version


def unpack(package: str, work: Path, timeout: float) -> Path:
    """Download `package` into `work` and extract its files into work/x (no maintainer scripts run)."""
    run(["apt-get", "download", package], cwd=work, timeout=timeout)
    debs = list(work.glob("*.deb"))
    if not debs:
        raise VmError(f"apt-get download {package} left no .deb")
    tree = work / "x"
    run(["dpkg-deb", "-x", str(debs[0]), str(tree)])
    return tree
