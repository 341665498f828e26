"""Where the Ansible role (ansible/roles/fleet_agent) installs the agent: the contract `fleet trace` and
`fleet doctor` rely on. Keep in step with the role's defaults (fleet_agent_lib_dir, fleet_agent_wrapper)."""

from __future__ import annotations

INSTALL_DIR = "/usr/local/lib/fleet"
# "<sha256>  agent-<sha256>.pyz\n" (sha256sum format): the build the wrapper runs.
SHA_FILE = f"{INSTALL_DIR}/agent.sha256"
# Root-owned; accepts exactly one argument, `serve` or `probe`; the fleet user's sudo rule allows just these two.
WRAPPER = "/usr/local/sbin/fleet-agent"
SUDOERS_FILE = "/etc/sudoers.d/fleet-agent"
SITE_DIR = f"{INSTALL_DIR}/site"


def installed_pyz(sha256: str) -> str:
    """The content-addressed path of agent build `sha256` on a deployed host."""
    return f"{INSTALL_DIR}/agent-{sha256}.pyz"
