"""Deploying the agent with Ansible (`fleet deploy`) and checking hosts for what it needs (`fleet doctor`)."""

from fleet.deploy.installed import INSTALL_DIR, SHA_FILE, WRAPPER, installed_pyz
from fleet.deploy.results import DeployOutcome, HostResult
from fleet.deploy.runner import DeployError, run_deploy

__all__ = [
    "INSTALL_DIR",
    "SHA_FILE",
    "WRAPPER",
    "DeployError",
    "DeployOutcome",
    "HostResult",
    "installed_pyz",
    "run_deploy",
]
