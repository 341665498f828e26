"""`fleet doctor`: what a host lacks for the installed agent, found by one POSIX sh script over SSH (or locally),
with the fix for each missing piece."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from fleet.deploy.installed import SHA_FILE, SITE_DIR, SUDOERS_FILE, WRAPPER, installed_pyz

TAG = "fleet-doctor"
TRACEFS = "/sys/kernel/tracing"

# Runs with the agent's python as the wrapper does (clean environment, the role's site dir for pip/wheel installs).
PY_CHECK = (
    "import sys\n"
    f"print('{TAG} python', '%d.%d' % sys.version_info[:2])\n"
    "for m in ('msgpack', 'zstandard'):\n"
    "    try:\n"
    "        __import__(m)\n"
    f"        print('{TAG} module', m, 'ok')\n"
    "    except ImportError:\n"
    f"        print('{TAG} module', m, 'missing')\n"
)


@dataclass(frozen=True)
class Finding:
    """One check on one host: `ok`, what was found, and how to fix it when not ok."""

    check: str
    ok: bool
    detail: str
    fix: str = ""


def doctor_script(python: str) -> str:
    """A POSIX sh script printing `fleet-doctor KEY ...` lines; `python` is used when no wrapper is installed."""
    q = shlex.quote
    lines = [
        f'echo "{TAG} uid $(id -u)"',
        f'echo "{TAG} user $(id -un)"',
        # The wrapper's exec line names the python it runs the agent with.
        f"py=$(sed -n 's/^  *\\([^ ]*\\) -s .*agent-.*\\.pyz.*/\\1/p' {WRAPPER} 2>/dev/null | head -n 1)",
        f'[ -n "$py" ] || py={q(python)}',
        f'if command -v "$py" >/dev/null 2>&1; then echo "{TAG} pyexe $py"; '
        f'env -i PYTHONPATH={SITE_DIR} "$py" -s -c {q(PY_CHECK)}; else echo "{TAG} nopython $py"; fi',
        f"if grep -qs '^[^ ]* {TRACEFS} tracefs ' /proc/mounts; then echo '{TAG} tracefs mounted'; "
        f"else echo '{TAG} tracefs absent'; fi",
        f"if grep -qs '^[^#]*[[:space:]]{TRACEFS}[[:space:]][[:space:]]*tracefs' /etc/fstab; "
        f"then echo '{TAG} fstab yes'; else echo '{TAG} fstab no'; fi",
        f'[ -x {WRAPPER} ] && echo "{TAG} wrapper yes"',
        f'[ -r {SHA_FILE} ] && echo "{TAG} installed $(cut -d" " -f1 {SHA_FILE})"',
        f'for f in {installed_pyz("*")}; do [ -f "$f" ] && echo "{TAG} pyz $f"; done',
        f'if [ "$(id -u)" != 0 ]; then if command -v sudo >/dev/null 2>&1; then '
        f"sudo -n -l {WRAPPER} serve >/dev/null 2>&1 && echo '{TAG} sudo serve'; "
        f"sudo -n -l {WRAPPER} probe >/dev/null 2>&1 && echo '{TAG} sudo probe'; "
        f"sudo -n -l /bin/sh >/dev/null 2>&1 && echo '{TAG} sudo shell'; "
        f"else echo '{TAG} nosudo'; fi; fi",
        "true",
    ]
    return "sh -c " + q("\n".join(lines))


@dataclass
class HostFacts:
    """What the script printed."""

    uid: int = -1
    user: str = ""
    python: Optional[str] = None
    python_version: Optional[str] = None
    modules: Dict[str, bool] = field(default_factory=dict)
    tracefs_mounted: bool = False
    fstab: bool = False
    wrapper: bool = False
    installed: Optional[str] = None
    pyz_files: List[str] = field(default_factory=list)
    sudo: List[str] = field(default_factory=list)
    has_sudo: bool = True


def parse_doctor(output: str) -> HostFacts:
    facts = HostFacts()
    for line in output.splitlines():
        words = line.split()
        if len(words) < 2 or words[0] != TAG:
            continue
        key, rest = words[1], words[2:]
        if key == "uid" and rest:
            facts.uid = int(rest[0])
        elif key == "user" and rest:
            facts.user = rest[0]
        elif key == "pyexe" and rest:
            facts.python = rest[0]
        elif key == "nopython" and rest:
            facts.python = rest[0]
            facts.python_version = None
        elif key == "python" and rest:
            facts.python_version = rest[0]
        elif key == "module" and len(rest) == 2:
            facts.modules[rest[0]] = rest[1] == "ok"
        elif key == "tracefs" and rest:
            facts.tracefs_mounted = rest[0] == "mounted"
        elif key == "fstab" and rest:
            facts.fstab = rest[0] == "yes"
        elif key == "wrapper":
            facts.wrapper = True
        elif key == "installed" and rest:
            facts.installed = rest[0]
        elif key == "pyz" and rest:
            facts.pyz_files.append(rest[0])
        elif key == "sudo" and rest:
            facts.sudo.append(rest[0])
        elif key == "nosudo":
            facts.has_sudo = False
    return facts


def diagnose(host: str, facts: HostFacts, expected_sha: str, become: bool) -> List[Finding]:
    """Every check for one host, in a fixed order; the fix names the command that repairs it."""
    redeploy = f"fleet deploy --hosts {host}"
    found: List[Finding] = []
    py = facts.python or "python3"
    if facts.python_version is None:
        found.append(Finding("python3", False, f"{py} not found", f"{redeploy} (or install python3 >= 3.8)"))
    else:
        ok = tuple(int(x) for x in facts.python_version.split(".")) >= (3, 8)
        found.append(Finding("python3", ok, f"{py} {facts.python_version}", "" if ok else "install python3 >= 3.8"))
    for module, package in (("msgpack", "python3-msgpack"), ("zstandard", "python3-zstandard")):
        present = facts.modules.get(module, False)
        detail = f"importable by {py}" if present else f"not importable by {py}"
        found.append(Finding(module, present, detail, "" if present else f"{redeploy} (or apt install {package})"))
    found.append(
        Finding(
            "tracefs mounted",
            facts.tracefs_mounted,
            TRACEFS if facts.tracefs_mounted else f"nothing mounted at {TRACEFS}",
            "" if facts.tracefs_mounted else f"mount -t tracefs nodev {TRACEFS} (and {redeploy} for boot)",
        )
    )
    found.append(
        Finding(
            "tracefs at boot",
            facts.fstab,
            "/etc/fstab entry" if facts.fstab else f"no tracefs line for {TRACEFS} in /etc/fstab",
            "" if facts.fstab else redeploy,
        )
    )
    wanted = installed_pyz(expected_sha)
    if facts.installed is None or not facts.wrapper:
        missing = "no " + (WRAPPER if not facts.wrapper else SHA_FILE)
        found.append(Finding("agent", False, f"not installed ({missing})", redeploy))
    elif facts.installed != expected_sha:
        found.append(
            Finding(
                "agent",
                False,
                f"installed build {facts.installed[:16]} is not this fleet's {expected_sha[:16]}",
                redeploy,
            )
        )
    elif wanted not in facts.pyz_files:
        found.append(Finding("agent", False, f"{SHA_FILE} names {wanted}, which is missing", redeploy))
    else:
        found.append(Finding("agent", True, f"build {expected_sha[:16]} at {WRAPPER}"))
    if facts.uid == 0:
        found.append(Finding("sudo rule", True, "not needed (logged in as root)"))
    elif not become:
        found.append(
            Finding(
                "sudo rule",
                False,
                f"logged in as {facts.user} without ansible_become: the agent needs root",
                "set ansible_become: true for this host and run " + f"{redeploy} --fleet-user",
            )
        )
    elif not facts.has_sudo:
        found.append(Finding("sudo rule", False, "sudo is not installed", f"{redeploy} --fleet-user"))
    elif "serve" not in facts.sudo:
        found.append(
            Finding(
                "sudo rule",
                False,
                f"{facts.user} may not run `sudo -n {WRAPPER} serve` ({SUDOERS_FILE})",
                f"{redeploy} --fleet-user",
            )
        )
    else:
        extra = " (and a shell: broader than needed)" if "shell" in facts.sudo else ""
        found.append(Finding("sudo rule", True, f"{facts.user} may run {WRAPPER} serve/probe{extra}"))
    return found
