"""SSH to the namespace lab: host keys checked like OpenSSH's StrictHostKeyChecking, the agent checked and pushed."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import zipfile
from pathlib import Path
from typing import Any, List

import pytest

from fleet.errors import HostError
from fleet.inventory import load_inventory
from fleet.transport import deploy, ssh
from fleet.transport.target import Target


def lab_targets(lab: Any) -> List[Target]:
    return [Target.from_host(h) for h in load_inventory([lab.inventory_path]).select("lab/*")]


def connect(target: Target, accept_new: bool = False) -> str:
    """Connect, run `echo ok` and return its output (or raise HostError)."""

    async def go() -> str:
        conn = await ssh.connect(target, ssh.SshOptions(connect_timeout=5, accept_new=accept_new))
        try:
            return await ssh.run_command(conn, target.name, "echo ok")
        finally:
            conn.close()

    return asyncio.run(go())


def names(line: str, address: str) -> bool:
    """True when the known_hosts line is for `address` (its first field is a comma list of names)."""
    return bool(line.strip()) and address in line.split()[0].split(",")


def known_hosts_without(lab: Any, path: Path, address: str) -> Path:
    lines = [ln for ln in lab.known_hosts.read_text().splitlines() if not names(ln, address)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_known_key_connects(lab: Any) -> None:
    assert connect(lab_targets(lab)[0]) == "ok\n"


def test_an_unknown_key_is_refused_naming_the_host(lab: Any, tmp_path: Path) -> None:
    h1 = lab_targets(lab)[0]
    target = dataclasses.replace(h1, known_hosts=known_hosts_without(lab, tmp_path / "kh", h1.address))
    with pytest.raises(HostError) as err:
        connect(target)
    assert err.value.host == "h1"
    assert err.value.cause.startswith(f"host key unknown: {h1.address} (ssh-ed25519 SHA256:")
    assert err.value.cause.endswith("add it (ssh-keyscan) or run with --accept-new")


def test_accept_new_takes_an_unknown_key_and_records_it(lab: Any, tmp_path: Path) -> None:
    h1 = lab_targets(lab)[0]
    kh = known_hosts_without(lab, tmp_path / "kh", h1.address)
    target = dataclasses.replace(h1, known_hosts=kh)
    assert connect(target, accept_new=True) == "ok\n"
    assert connect(target) == "ok\n"  # now known
    assert sum(1 for ln in kh.read_text().splitlines() if names(ln, h1.address)) == 1


def test_a_changed_key_is_refused_even_with_accept_new(lab: Any, tmp_path: Path) -> None:
    h1, h2 = lab_targets(lab)[:2]
    # Give h1's address the key of h2: to fleet, h1's key "changed".
    lines = lab.known_hosts.read_text().splitlines()
    h2_key = next(ln.split(None, 1)[1] for ln in lines if names(ln, h2.address))
    kh = tmp_path / "kh"
    kh.write_text("".join(f"{h1.address} {h2_key}\n" if names(ln, h1.address) else ln + "\n" for ln in lines))
    with pytest.raises(HostError) as err:
        connect(dataclasses.replace(h1, known_hosts=kh), accept_new=True)
    assert (err.value.host, err.value.cause.split(":")[0]) == ("h1", "host key CHANGED")


def test_a_missing_python_is_named(lab: Any) -> None:
    target = dataclasses.replace(lab_targets(lab)[0], python="/nonexistent/python3")

    async def go() -> None:
        conn = await ssh.connect(target, ssh.SshOptions())
        try:
            build = deploy.AgentBuild(Path("/nonexistent.pyz"), "0" * 64)
            await deploy.prepare_host(conn, target, build)
        finally:
            conn.close()

    with pytest.raises(HostError) as err:
        asyncio.run(go())
    assert (err.value.host, err.value.cause) == (
        "h1",
        "no /nonexistent/python3 (set ansible_python_interpreter, or install python3 >= 3.8)",
    )


def test_the_agent_is_pushed_once_per_build(lab: Any, tmp_path: Path) -> None:
    built = deploy.build_agent(tmp_path)
    # A build no one else has (an archive comment changes the hash, not the code), so the first push is ours.
    unique = tmp_path / "unique.pyz"
    shutil.copy(built.path, unique)
    with zipfile.ZipFile(unique, "a") as zf:
        zf.comment = tmp_path.name.encode()
    build = deploy.AgentBuild(unique, deploy.hashlib.sha256(unique.read_bytes()).hexdigest())
    target = lab_targets(lab)[1]

    async def prepare() -> Any:
        conn = await ssh.connect(target, ssh.SshOptions())
        try:
            return await deploy.prepare_host(conn, target, build)
        finally:
            conn.close()

    try:
        argv1, pushed1, _ = asyncio.run(prepare())
        argv2, pushed2, _ = asyncio.run(prepare())
        remote = Path(argv1[1])
        assert (pushed1, pushed2, argv1 == argv2) == (True, False, True)
        assert remote.name == f"agent-{build.sha256}.pyz"
        assert remote.read_bytes() == unique.read_bytes()  # the lab's hosts share this filesystem
    finally:
        Path(argv1[1]).unlink(missing_ok=True)
