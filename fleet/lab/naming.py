"""Names of a lab's namespaces and links, derived from the lab name so tear-down can find them without state.

Interface names are limited to 15 bytes by the kernel (IFNAMSIZ), hence short prefixes and lab names of at most
8 characters: `fb-NAME` is the bridge, `fv-NAME-N` the root-side end of host N's veth, `fx-NAME-N`/`fy-NAME-N` the
pair that a link impairment forwarder puts between that veth and the bridge.
"""

from __future__ import annotations

import re

from fleet.lab.errors import LabError

NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,7}$")
MAX_HOSTS = 240  # addresses .11 .. .250 of the /24


def check_name(name: str) -> str:
    """Return `name` if it is a valid lab name, else raise LabError saying what is allowed."""
    if not NAME_RE.match(name):
        raise LabError(f"lab name {name!r}: use 1-8 lower-case letters or digits, starting with a letter")
    return name


def netns_name(lab: str, index: int) -> str:
    return f"fleet-{lab}-h{index}"


def bridge_name(lab: str) -> str:
    return f"fb-{lab}"


def veth_name(lab: str, index: int) -> str:
    return f"fv-{lab}-{index}"


def forwarder_pair(lab: str, index: int) -> tuple[str, str]:
    """(forwarder side, bridge side) of the veth pair an impaired host's frames detour through."""
    return f"fx-{lab}-{index}", f"fy-{lab}-{index}"


def netns_re(lab: str) -> re.Pattern[str]:
    return re.compile(rf"^fleet-{re.escape(lab)}-h(\d+)$")


def link_re(lab: str) -> re.Pattern[str]:
    return re.compile(rf"^(f[vxy]-{re.escape(lab)}-\d+|fb-{re.escape(lab)})$")
