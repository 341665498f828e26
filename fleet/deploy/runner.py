"""Running ansible-playbook on fleet's inventory: the hosts a pattern selects become --limit, the inventory files
are passed as they are, and the fleet_events callback streams progress back over a pipe."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from fleet.deploy.paths import AnsibleContent, find_ansible_content
from fleet.deploy.results import DeployOutcome, ResultFolder, parse_line
from fleet.errors import FleetError

Listener = Callable[[Dict[str, Any]], None]


class DeployError(FleetError):
    """ansible-playbook could not be run at all (not installed, no inventory, the agent could not be built)."""


def playbook_command(
    content: AnsibleContent,
    inventories: Sequence[Path],
    hosts: Sequence[str],
    extra_vars: Dict[str, Any],
    extra_args: Sequence[str] = (),
) -> List[str]:
    """The ansible-playbook argv: every inventory source, --limit with exactly the selected host names."""
    exe = shutil.which("ansible-playbook")
    if exe is None:
        raise DeployError("ansible-playbook is not installed (pip install ansible-core)")
    argv = [exe]
    for inv in inventories:
        argv += ["-i", str(inv)]
    argv += ["--limit", ",".join(hosts), "-e", json.dumps(extra_vars), *extra_args, str(content.playbook)]
    return argv


def agent_vars(directory: Path, extra_vars: Dict[str, Any]) -> Dict[str, str]:
    """The role's fleet_agent_pyz/_sha256: the zipapp `extra_vars` names (hashed here), else one built now with
    agent.build (reproducible: same sources, same sha256)."""
    given = extra_vars.get("fleet_agent_pyz")
    if given:
        path = Path(str(given)).expanduser().resolve()
        if not path.is_file():
            raise DeployError(f"fleet_agent_pyz={given}: no such file")
        return {"fleet_agent_pyz": str(path), "fleet_agent_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    try:
        from agent.build import build_zipapp
    except ImportError as exc:
        raise DeployError(f"cannot build the agent zipapp ({exc})") from None
    pyz = directory / "agent.pyz"
    return {"fleet_agent_pyz": str(pyz), "fleet_agent_sha256": build_zipapp(pyz)}


def run_deploy(
    inventories: Sequence[Path],
    hosts: Sequence[str],
    extra_vars: Optional[Dict[str, Any]] = None,
    listener: Optional[Listener] = None,
    extra_args: Sequence[str] = (),
    log_path: Optional[Path] = None,
    content: Optional[AnsibleContent] = None,
) -> DeployOutcome:
    """Deploy to `hosts` (names from fleet's inventory), calling `listener` with each event as it happens.
    Ansible's own output goes to `log_path` (default: a file in a temp dir, named in the outcome)."""
    if not inventories:
        raise DeployError("fleet deploy needs an inventory file (-i INV): ansible-playbook reads the same one")
    if not hosts:
        raise DeployError("no hosts to deploy to")
    content = content or find_ansible_content()
    work = Path(tempfile.mkdtemp(prefix="fleet-deploy-"))
    control_dir = work / "cp"
    control_dir.mkdir()
    variables: Dict[str, Any] = dict(extra_vars or {})
    variables.update(agent_vars(work, variables))
    log = log_path or work / "ansible.log"
    argv = playbook_command(content, inventories, hosts, variables, extra_args)
    read_fd, write_fd = os.pipe()
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(content.config),
        ANSIBLE_CALLBACK_PLUGINS=str(content.callback_plugins),
        ANSIBLE_CALLBACKS_ENABLED="fleet_events",
        ANSIBLE_SSH_CONTROL_PATH_DIR=str(control_dir),
        ANSIBLE_NOCOLOR="1",
        FLEET_EVENTS_FD=str(write_fd),
    )
    folder = ResultFolder(hosts)
    try:
        with open(log, "w") as out:
            try:
                proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, pass_fds=(write_fd,)
                )
            finally:
                os.close(write_fd)
            with os.fdopen(read_fd, "r") as events:
                for line in events:
                    event = parse_line(line)
                    if event is None:
                        continue
                    folder.feed(event)
                    if listener is not None:
                        listener(event)
            returncode = proc.wait()
    finally:
        close_control_masters(control_dir)
        (work / "agent.pyz").unlink(missing_ok=True)
    if returncode not in (0, 2, 4) and not any(h.seen for h in folder.results.values()):
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
        raise DeployError(f"ansible-playbook exited {returncode}: {' / '.join(tail) or 'no output'} (log: {log})")
    if returncode == 0 and log_path is None:
        shutil.rmtree(work, ignore_errors=True)  # the log is kept only when something failed
        return folder.outcome(returncode, None)
    return folder.outcome(returncode, str(log))


def close_control_masters(directory: Path) -> None:
    """Ask each SSH ControlPersist master the run left behind to exit, so no ssh process outlives the deploy."""
    if not directory.is_dir():
        return
    for sock in directory.iterdir():
        subprocess.run(
            ["ssh", "-O", "exit", "-o", f"ControlPath={sock}", "fleet-deploy"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
            check=False,
        )
    shutil.rmtree(directory, ignore_errors=True)
