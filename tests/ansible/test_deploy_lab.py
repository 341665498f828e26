"""`fleet deploy` (real ansible-playbook, ansible/deploy.yml) against the namespace lab over SSH, each host with its
own root: first run installs, second run changes nothing, the fleet user can run only the agent as root, an
unreachable host is named while the others complete, and `fleet doctor` names what was removed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import have_lab, need
from deploytools import download_debs, download_wheels, fleet, table_rows, user_inventory

from fleet.deploy import WRAPPER, installed_pyz
from fleet.deploy.installed import SITE_DIR
from fleet.lab import Lab, keys
from fleet.transport.deploy import AgentBuild, build_agent

SSH = ["ssh"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
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
    assert ssh(lab, "h2", "rm /etc/sudoers.d/fleet-agent")[0] == 0
    assert ssh(lab, "h3", "rm /usr/local/lib/fleet/agent.sha256")[0] == 0
    code, out = fleet(*doctor)
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
