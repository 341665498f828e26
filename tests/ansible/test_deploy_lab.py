"""`fleet deploy` (real ansible-playbook, ansible/deploy.yml) against the namespace lab over SSH, each host with its
own root: first run installs, second run changes nothing, `fleet trace` then runs the installed agent (as root, and as
the fleet user through its sudo rule) and pushes nothing, the fleet user can run only the agent as root, an
unreachable host is named while the others complete, and `fleet doctor` names what was removed.

Every test shares one lab deployed once (module fixtures): a deploy costs tens of seconds."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Iterator, List

import pytest
from deploytools import download_debs, download_wheels, fleet, table_rows, user_inventory

from fleet.cli import main
from fleet.deploy import WRAPPER, installed_pyz
from fleet.deploy.installed import SITE_DIR
from fleet.lab import Lab, keys
from fleet.record.reader import Run
from fleet.transport import deploy
from fleet.transport.deploy import AgentBuild, build_agent
from tests.conftest import have_lab, need
from tests.e2e.runs import event_counts, marker_texts

SSH = ["ssh"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    need(have_lab(), "needs root, iproute2 and OpenSSH (sshd) for the namespace lab")
    need(shutil.which("ansible-playbook") is not None, "needs ansible-core (pip install ansible-core)")
    need(shutil.which("apt-get") is not None, "needs a Debian host (the role installs python3-msgpack with apt)")
    seed = download_debs(tmp_path_factory.mktemp("debs"))
    directory = tmp_path_factory.mktemp("deploylab")
    with Lab.up(f"d{os.getpid() % 10**7}", 3, directory, overlay=True, overlay_seed=[seed]) as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def agent_build(tmp_path_factory: pytest.TempPathFactory) -> AgentBuild:
    """One build for every run of this module (the sources may change under a shared checkout meanwhile)."""
    return build_agent(tmp_path_factory.mktemp("agent"))


def ssh(lab: Lab, host: str, command: str, user: str = "root") -> tuple[int, str, str]:
    import subprocess

    proc = subprocess.run(
        ["ssh", "-F", str(lab.ssh_config), "-l", user, host, command], capture_output=True, text=True, timeout=60
    )
    return proc.returncode, proc.stdout, proc.stderr


def deploy_args(lab: Lab, build: AgentBuild) -> list:
    key = keys.public_key(lab.client_key)
    return [
        "deploy",
        "--hosts",
        "lab/*",
        "-i",
        str(lab.inventory_path),
        "--fleet-user",
        "-e",
        "fleet_agent_user_authorized_keys=" + json.dumps([key]),
        # The seeded .debs match this machine's apt lists: never refresh them inside the hosts.
        "-e",
        "fleet_agent_apt_cache_valid_time=315360000",
        "-e",
        f"fleet_agent_pyz={build.path}",
    ]


@pytest.fixture(scope="module")
def first_run(lab: Lab, agent_build: AgentBuild) -> tuple[int, str]:
    return fleet(*deploy_args(lab, agent_build))


def test_first_run_deploys_to_every_lab_host(lab: Lab, first_run: tuple[int, str], agent_build: AgentBuild) -> None:
    code, out = first_run
    assert code == 0, out
    rows = table_rows(out)
    assert [(r[0], r[1], r[4], r[5]) for r in rows] == [(h, "changed", "0", "0") for h in ("h1", "h2", "h3")]
    sha = agent_build.sha256
    for h in ("h1", "h2", "h3"):
        rc, text, err = ssh(lab, h, f"cat /usr/local/lib/fleet/agent.sha256; test -f {installed_pyz(sha)} && echo ok")
        assert (rc, text) == (0, f"{sha}  agent-{sha}.pyz\nok\n"), err
        assert f"{h}: agent " in out  # the capability line from the role's probe


def test_each_host_got_its_own_packages(lab: Lab, first_run: tuple[int, str]) -> None:
    for h in lab.hosts:
        root = lab.root(h)
        assert root is not None
        assert (root.upper / "usr/lib/python3/dist-packages/msgpack").is_dir()
        assert (root.upper / "etc/sudoers.d/fleet-agent").is_file()
    assert not Path("/etc/sudoers.d/fleet-agent").exists()


def test_installed_agent_probes_with_debians_python(lab: Lab, first_run: tuple[int, str]) -> None:
    rc, text, err = ssh(lab, "h2", f"{WRAPPER} probe")
    assert rc == 0, err
    caps = json.loads(text)
    assert caps["codec"] == "zstd"
    assert (
        caps["python"]
        == ssh(lab, "h2", "/usr/bin/python3 -c 'import platform; print(platform.python_version())'")[1].strip()
    )


def test_second_run_changes_nothing(lab: Lab, first_run: tuple[int, str], agent_build: AgentBuild) -> None:
    code, out = fleet(*deploy_args(lab, agent_build))
    assert code == 0, out
    assert [(r[0], r[1], r[3]) for r in table_rows(out)] == [(h, "ok", "0") for h in ("h1", "h2", "h3")]


def fleet_trace(
    monkeypatch: pytest.MonkeyPatch, build: AgentBuild, inventory: Path, out: Path, hosts: str = "lab/*"
) -> Run:
    """`fleet trace` for one second with `build` as this fleet's agent (the shared checkout's sources may change
    between the deploy and the trace)."""
    monkeypatch.setattr(deploy, "build_agent", lambda directory=None: build)
    argv = ["trace", "-i", str(inventory), "--hosts", hosts, "-e", "sched:sched_switch", "-m", "hello", "--no-tui"]
    assert main([*argv, "--sync-interval", "0.5", "--duration", "1", "-o", str(out)]) == 0
    return Run.open(out)


def agent_caches(lab: Lab, home: str) -> List[str]:
    """The hosts whose own root (upper directory) has a `home`/.cache/fleet: where a pushed agent would land."""
    caches = []
    for h in lab.hosts:
        root = lab.root(h)
        assert root is not None
        if (root.upper / home.lstrip("/") / ".cache/fleet").exists():
            caches.append(h.name)
    return caches


def test_trace_after_deploy_runs_the_installed_agent_and_pushes_nothing(
    lab: Lab,
    first_run: tuple[int, str],
    agent_build: AgentBuild,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert agent_caches(lab, "/root") == []
    run = fleet_trace(monkeypatch, agent_build, lab.inventory_path, tmp_path / "run")
    assert ([h.entry.state for h in run.hosts], run.complete) == (["done"] * 3, True)
    for host in run.hosts:
        assert marker_texts(host) == ["hello"]
        assert event_counts(host)["sched_switch"] > 0
    assert agent_caches(lab, "/root") == []
    lines = capsys.readouterr().out.splitlines()
    installed = f"agent {agent_build.sha256[:12]} installed"
    assert [h for h in ("h1", "h2", "h3") if any(f"] {h} " in line and installed in line for line in lines)] == [
        "h1",
        "h2",
        "h3",
    ], lines


def test_fleet_user_traces_through_the_sudo_rule(
    lab: Lab, first_run: tuple[int, str], agent_build: AgentBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory = user_inventory(lab.inventory_path, tmp_path / "fleet-user.yml", "fleet")
    run = fleet_trace(monkeypatch, agent_build, inventory, tmp_path / "run")
    assert ([h.entry.state for h in run.hosts], run.complete) == (["done"] * 3, True)
    for host in run.hosts:
        assert marker_texts(host) == ["hello"]
        assert event_counts(host)["sched_switch"] > 0
    assert agent_caches(lab, "/home/fleet") == []


def other_build(build: AgentBuild, directory: Path) -> AgentBuild:
    """The same agent with another hash (an archive comment changes the hash, not the code)."""
    path = directory / "other.pyz"
    shutil.copy(build.path, path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.comment = b"another build"
    return AgentBuild(path, hashlib.sha256(path.read_bytes()).hexdigest())


def test_fleet_user_is_told_to_redeploy_when_the_installed_build_differs(
    lab: Lab, first_run: tuple[int, str], agent_build: AgentBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = other_build(agent_build, tmp_path)
    inventory = user_inventory(lab.inventory_path, tmp_path / "fleet-user.yml", "fleet")
    monkeypatch.setattr(deploy, "build_agent", lambda directory=None: other)
    argv = ["trace", "-i", str(inventory), "--hosts", "lab/h1", "-e", "sched:sched_switch", "--no-tui"]
    main([*argv, "--duration", "1", "-o", str(tmp_path / "run")])
    host = Run.open(tmp_path / "run").host("h1")
    assert host.errors == [
        f"installed agent build {agent_build.sha256[:12]} differs from this fleet's {other.sha256[:12]}: "
        "run `fleet deploy --hosts h1`"
    ]
    assert agent_caches(lab, "/home/fleet") == []


def test_root_pushes_its_own_build_over_a_different_installed_one(
    lab: Lab,
    first_run: tuple[int, str],
    agent_build: AgentBuild,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = other_build(agent_build, tmp_path)
    root = lab.root("h3")
    assert root is not None
    try:
        run = fleet_trace(monkeypatch, other, lab.inventory_path, tmp_path / "run", hosts="lab/h3")
        assert [h.entry.state for h in run.hosts] == ["done"]
        assert (root.upper / "root/.cache/fleet" / other.remote_name).read_bytes() == other.path.read_bytes()
        assert f"installed agent build {agent_build.sha256[:12]} differs" in capsys.readouterr().out
    finally:
        shutil.rmtree(root.upper / "root/.cache", ignore_errors=True)


def test_fleet_user_runs_the_agent_through_sudo(lab: Lab, first_run: tuple[int, str]) -> None:
    rc, text, err = ssh(lab, "h1", f"id -un; sudo -n {WRAPPER} probe", user="fleet")
    assert rc == 0, err + (lab.run_dir / "h1.sshd.log").read_text()[-500:]
    name, _, caps = text.partition("\n")
    assert name == "fleet"
    assert json.loads(caps)["tracefs"] == "/sys/kernel/tracing"


@pytest.mark.parametrize(
    "command",
    [
        "sudo -n /bin/true",
        "sudo -n /bin/sh -c id",
        f"sudo -n {WRAPPER} sh",
        f"sudo -n {WRAPPER} serve extra",
        f"sudo -n -u nobody {WRAPPER} probe",
        "sudo -n -e /etc/shadow",
    ],
)
def test_fleet_user_cannot_run_anything_else_as_root(lab: Lab, first_run: tuple[int, str], command: str) -> None:
    rc, text, err = ssh(lab, "h1", command, user="fleet")
    assert rc == 1 and text == "", (command, text, err)
    assert "a password is required" in err


def test_doctor_names_what_was_removed(
    lab: Lab, first_run: tuple[int, str], agent_build: AgentBuild, tmp_path: Path
) -> None:
    inventory = user_inventory(lab.inventory_path, tmp_path / "fleet-user.yml", "fleet")
    doctor = ["doctor", "--hosts", "lab/*", "-i", str(inventory), "--agent", str(agent_build.path)]
    code, out = fleet(*doctor)
    assert code == 0, out
    # Moved aside, not deleted: the lab is shared by the tests after this one.
    assert ssh(lab, "h2", "mv /etc/sudoers.d/fleet-agent /root/sudoers.moved")[0] == 0
    assert ssh(lab, "h3", "mv /usr/local/lib/fleet/agent.sha256 /root/sha256.moved")[0] == 0
    try:
        code, out = fleet(*doctor)
    finally:
        assert ssh(lab, "h2", "mv /root/sudoers.moved /etc/sudoers.d/fleet-agent")[0] == 0
        assert ssh(lab, "h3", "mv /root/sha256.moved /usr/local/lib/fleet/agent.sha256")[0] == 0
    assert code == 1
    misses = [line.split()[:2] + [line.split()[-1]] for line in out.splitlines() if line.startswith("  MISS")]
    assert misses == [["MISS", "sudo", "--fleet-user"], ["MISS", "agent", "h3"]], out
    assert "h1: ok" in out
    assert "fleet may not run `sudo -n /usr/local/sbin/fleet-agent serve`" in out


def test_unreachable_host_is_named_and_the_others_complete(
    lab: Lab, first_run: tuple[int, str], agent_build: AgentBuild
) -> None:
    lab.stop_sshd("h2")
    try:
        code, out = fleet(*deploy_args(lab, agent_build))
    finally:
        lab.start_sshd("h2")
    assert code == 1
    rows = {r[0]: r for r in table_rows(out)}
    assert rows["h2"][1] == "unreachable"
    assert "Connection refused" in rows["h2"][6]
    assert rows["h1"][1] == "ok" and rows["h3"][1] in ("ok", "changed")
    assert "h2        unreachable:" in out  # the live progress line names it too


def test_wheel_bundle_installs_without_a_package_manager(
    lab: Lab, first_run: tuple[int, str], agent_build: AgentBuild, tmp_path: Path
) -> None:
    need(shutil.which("pip") is not None, "needs pip to fetch the wheel bundle")
    version = ssh(lab, "h3", "/usr/bin/python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'")[1].strip()
    wheels = download_wheels(tmp_path / "wheels", version)
    code, out = fleet(
        *[a if a != "lab/*" else "lab/h3" for a in deploy_args(lab, agent_build)],
        "-e",
        "fleet_agent_python_packages_from=wheels",
        "-e",
        f"fleet_agent_wheel_dir={wheels}",
    )
    assert code == 0, out
    # The wrapper's environment: the wheels' modules come first, Debian's python3-msgpack is not what runs.
    script = "import msgpack, zstandard; print(msgpack.__file__); print(zstandard.__file__)"
    rc, text, err = ssh(lab, "h3", f"env -i PYTHONPATH={SITE_DIR} /usr/bin/python3 -s -c '{script}'")
    assert rc == 0, err
    assert [line.split("/")[:6] for line in text.splitlines()] == [["", "usr", "local", "lib", "fleet", "site"]] * 2
    assert ssh(lab, "h3", f"{WRAPPER} probe")[0] == 0
