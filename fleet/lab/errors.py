"""The error the lab raises: a namespace, link or sshd step failed, with the command and its stderr."""

from __future__ import annotations

from fleet.errors import FleetError


class LabError(FleetError):
    """Bringing up, changing or tearing down the namespace lab failed; the message names the step."""
